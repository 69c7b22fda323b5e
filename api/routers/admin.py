"""Key management and the audit log (role ``admin``, within the admin key's systems)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from allocator.errors import PermissionDenied
from api.deps import Admin, RequestIdDep, SessionDep
from api.errors import InvalidRequest, StateConflict, problem_responses
from api.schemas import AuditEntryPublic, KeyCreate, KeyCreated, KeyPublic
from api.security import create_key
from api.storage import repository
from api.views import audit_public, key_public

router = APIRouter(tags=["admin"], responses=problem_responses(401, 403, 404, 422))


@router.post("/keys", status_code=201, summary="Create an API key (the token is shown once)")
def create_api_key(
    body: KeyCreate,
    response: Response,
    session: SessionDep,
    principal: Admin,
    request_id: RequestIdDep,
) -> KeyCreated:
    """The new key's systems must all be the admin key's own."""
    outside = sorted(set(body.systems) - principal.systems)
    if outside:
        raise PermissionDenied(f"this key is not bound to system(s) {', '.join(outside)}")
    try:
        new = create_key(
            session,
            role=body.role,
            systems=body.systems,
            name=body.name,
            created_by=principal.key_id,
            expires_at=body.expires_at,
        )
    except ValueError as error:
        raise InvalidRequest(str(error)) from None
    repository.add_audit(
        session,
        principal=principal,
        request_id=request_id,
        action="key.created",
        systems=new.systems,
        detail={
            "key_id": new.key_id,
            "before": None,
            "after": {
                "role": new.role.value,
                "systems": list(new.systems),
                "name": new.name,
                "state": "active",
                "expires_at": body.expires_at.isoformat() if body.expires_at else None,
            },
        },
    )
    row = repository.get_key(session, principal=principal, key_id=new.key_id)
    response.headers["Location"] = f"/api/v1/keys/{new.key_id}"
    return KeyCreated(**key_public(row).model_dump(), token=new.token)


@router.get("/keys", summary="API keys of the admin's systems")
def list_api_keys(session: SessionDep, principal: Admin) -> list[KeyPublic]:
    return [key_public(row) for row in repository.list_keys(session, principal=principal)]


@router.delete("/keys/{key_id}", responses=problem_responses(409), summary="Revoke an API key")
def revoke_api_key(
    key_id: str, session: SessionDep, principal: Admin, request_id: RequestIdDep
) -> KeyPublic:
    row = repository.get_key(session, principal=principal, key_id=key_id)
    if row.key_id == principal.key_id:  # a system is never locked out by its own admin
        raise StateConflict(
            "a key cannot revoke itself: revoke it with another admin key, or with "
            "'allocator keys revoke'"
        )
    already = row.revoked_at is not None
    repository.revoke_key(session, row=row)
    if not already:
        repository.add_audit(
            session,
            principal=principal,
            request_id=request_id,
            action="key.revoked",
            systems=key_public(row).systems,
            detail={
                "key_id": key_id,
                "before": {"role": row.role, "systems": key_public(row).systems, "state": "active"},
                "after": {"role": row.role, "systems": key_public(row).systems, "state": "revoked"},
            },
        )
    return key_public(row)


@router.get("/audit", summary="The audit log, newest first")
def list_audit(
    session: SessionDep,
    principal: Admin,
    scenario_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> list[AuditEntryPublic]:
    """Entries about the admin key's systems; page back with ``before_id``."""
    rows = repository.list_audit(
        session, principal=principal, scenario_pk=scenario_id, limit=limit, before_id=before_id
    )
    return [audit_public(row) for row in rows]
