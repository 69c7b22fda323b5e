"""Request dependencies: settings, the per-request transaction, the caller and its role.

Routes declare what they need with the ``Annotated`` aliases below. `SessionDep` is the
request's one transaction: committed when the route function returns (before the response
is sent), rolled back if anything raises, so nothing is ever half-written.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from allocator.errors import PermissionDenied
from api.errors import AuthenticationRequired
from api.jobs import JobRunner
from api.security import Principal, Role, authenticate
from api.settings import Settings
from api.storage.db import Database

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_scheme = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key")


def get_settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


def get_database(request: Request) -> Database:
    database = request.app.state.database
    assert isinstance(database, Database)
    return database


def get_runner(request: Request) -> JobRunner:
    runner = request.app.state.runner
    assert isinstance(runner, JobRunner)
    return runner


def get_request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
RequestIdDep = Annotated[str, Depends(get_request_id)]


def get_session(request: Request, database: DatabaseDep) -> Iterator[Session]:
    with database.transaction(write=request.method not in READ_METHODS) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_principal(
    request: Request,
    database: DatabaseDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The caller, from ``Authorization: Bearer`` or ``X-API-Key``; 401 if missing or unknown."""
    token = bearer.credentials if bearer is not None else api_key
    if not token:
        raise AuthenticationRequired(
            "send an API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
        )
    with database.transaction(write=False) as session:
        principal = authenticate(session, token)
    if principal is None:
        raise AuthenticationRequired("the API key is not known, revoked or expired")
    request.state.principal = principal  # a later refusal (403) is audited with it
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency that passes keys whose role includes ``role`` and refuses others (403)."""

    def check(principal: PrincipalDep) -> Principal:
        if not principal.role.includes(role):
            raise PermissionDenied(
                f"this needs the {role.value!r} role; the key has {principal.role.value!r}"
            )
        return principal

    check.__name__ = f"require_{role.value}"
    return check


def get_operator(
    request: Request,
    settings: SettingsDep,
    database: DatabaseDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> str:
    """The operator: the metrics token (``ALLOCATOR_METRICS_TOKEN``) or an admin key; else 401/403."""
    token = bearer.credentials if bearer is not None else api_key
    expected = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if token and expected and hmac.compare_digest(token.encode(), expected.encode()):
        return "operator"
    principal = get_principal(request, database, bearer, api_key)
    if principal.role is not Role.ADMIN:
        raise PermissionDenied("metrics are for operators: use the metrics token or an admin key")
    return principal.key_id


Operator = Annotated[str, Depends(get_operator)]
Reader = Annotated[Principal, Depends(require(Role.READ))]
Planner = Annotated[Principal, Depends(require(Role.PLAN))]
Approver = Annotated[Principal, Depends(require(Role.APPROVE))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
