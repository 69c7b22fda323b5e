"""API keys and roles.

A token is ``alc_<key id>_<secret>``: the key id finds the row, the secret (32 random
bytes) is never stored; the row keeps the SHA-256 of the whole token, compared in
constant time. Roles are ordered, each including the ones before it:
``read`` ⊂ ``plan`` ⊂ ``approve`` ⊂ ``admin``. Each key is bound to one or more systems
and may act on a scenario only when every system it covers is one of the key's.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.tables import ApiKey

TOKEN_PREFIX = "alc"


@enum.unique
class Role(enum.StrEnum):
    """What a key may do; each role includes every role listed before it."""

    READ = "read"
    PLAN = "plan"
    APPROVE = "approve"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        """Whether a key with this role may do what ``other`` may."""
        return self.rank >= other.rank


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller, as its key describes it."""

    key_id: str
    name: str
    role: Role
    systems: frozenset[str]

    def covers(self, systems: Iterable[str]) -> bool:
        """Whether every one of ``systems`` is one of this key's."""
        return set(systems) <= self.systems


@dataclass(frozen=True, slots=True)
class NewKey:
    key_id: str
    token: str
    role: Role
    systems: tuple[str, ...]
    name: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _split(token: str) -> str | None:
    """The key id inside a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]


def claimed_key_id(header: str) -> str | None:
    """The key id a presented (possibly unknown) token claims, for the audit log."""
    token = header.removeprefix("Bearer ").removeprefix("bearer ").strip()
    key_id = _split(token)
    return key_id[:32] if key_id else None


def create_key(
    session: Session,
    *,
    role: Role,
    systems: Iterable[str],
    name: str = "",
    created_by: str | None = None,
    expires_at: datetime | None = None,
) -> NewKey:
    """Store a new key and return its token (shown once: only its hash is kept).

    A key's name is unique among the live keys of each of its systems (409 otherwise), so
    an audit row's key name says which key it was.
    """
    system_ids = tuple(sorted({s.strip() for s in systems if s.strip()}))
    if not system_ids:
        raise ValueError("a key needs at least one system id")
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise ValueError("a key's expiry must be in the future")
    if name:
        live = session.scalars(
            select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
        )
        for other in live:
            shared = sorted(set(json.loads(other.systems)) & set(system_ids))
            if shared:
                from api.errors import StateConflict

                raise StateConflict(
                    f"system {shared[0]} already has a key named {name!r} (key "
                    f"{other.key_id}): choose another name, or revoke that key first"
                )
    key_id = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    session.add(
        ApiKey(
            key_id=key_id,
            name=name,
            role=role.value,
            systems=json.dumps(list(system_ids)),
            token_sha256=hash_token(token),
            created_by=created_by,
            expires_at=expires_at,
        )
    )
    session.flush()
    return NewKey(key_id=key_id, token=token, role=role, systems=system_ids, name=name)


def principal_of(row: ApiKey) -> Principal:
    return Principal(
        key_id=row.key_id,
        name=row.name,
        role=Role(row.role),
        systems=frozenset(json.loads(row.systems)),
    )


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal for a token, or None when it is malformed, unknown or revoked."""
    key_id = _split(token.strip())
    if key_id is None or len(key_id) > 32:
        return None
    row = session.get(ApiKey, key_id)
    expected = row.token_sha256 if row is not None else hash_token("")
    matches = hmac.compare_digest(expected, hash_token(token.strip()))
    if row is None or not matches or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
        return None
    return principal_of(row)
