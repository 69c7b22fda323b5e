"""Refused requests (401/403) in the audit log: the error handler calls `record_denied`
(installed on the app by `api.app.create_app`), so the error module needs no storage."""

from __future__ import annotations

from fastapi import Request

from api.errors import request_id_of
from api.security import claimed_key_id
from api.storage import repository


def record_denied(request: Request, status: int, detail: str) -> None:
    """An audit row for a refused request (401/403), with the key id when there is one."""
    principal = getattr(request.state, "principal", None)
    header = request.headers.get("authorization", "") or request.headers.get("x-api-key", "")
    key_id = principal.key_id if principal is not None else claimed_key_id(header)
    with request.app.state.database.transaction() as session:
        repository.add_audit(
            session,
            principal=principal,
            key_id=key_id,
            request_id=request_id_of(request),
            action="request.denied",
            systems=sorted(principal.systems) if principal is not None else (),
            detail={
                "status": status,
                "method": request.method,
                "path": request.url.path[:300],
                "reason": detail[:300],
                "key_known": principal is not None,
            },
        )
