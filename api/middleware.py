"""Pure ASGI middleware: request ids and the request-body size limit.

`BodyLimitMiddleware` refuses an over-long body with a 413 problem without buffering it:
first by its declared ``Content-Length`` (nothing is read), then by counting the bytes of a
streamed body as the application reads them. When the count passes the limit it answers
413 at once and tells the application the client has gone; anything the application
sends afterwards is dropped.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM_JSON, TYPE_PREFIX

log = logging.getLogger("api.errors")

REQUEST_ID_HEADER = b"x-request-id"
CLIENT_REQUEST_ID_HEADER = b"x-client-request-id"
# The client's X-Request-ID of the request being handled (audit rows keep it alongside).
client_request_id: ContextVar[str | None] = ContextVar("client_request_id", default=None)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def request_id_of(scope: Scope) -> str:
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


class RequestIdMiddleware:
    """Give each request a server-generated id and echo it back as ``X-Request-ID``.

    A client's own ``X-Request-ID`` (when sane) is kept alongside, never in its place: it is
    echoed as ``X-Client-Request-ID`` and recorded in the audit log next to the server's.

    Outermost, it is also the last safety net: an exception nothing else handled becomes a
    500 problem naming the request id (the traceback goes to the log only).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, REQUEST_ID_HEADER)
        client_id = given if given and _SAFE_ID.match(given) else None
        request_id = uuid.uuid4().hex
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        state["request_id"], state["client_request_id"] = request_id, client_id
        client_request_id.set(client_id)

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                if client_id is not None:
                    headers.append((CLIENT_REQUEST_ID_HEADER, client_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unexpected error in request %s", request_id)
            if started:
                raise
            await send_problem(
                scope,
                send_with_id,
                status=500,
                code="internal",
                title="Internal server error",
                detail="Something went wrong on our side; quote request id "
                f"{request_id} when reporting it.",
            )


async def send_problem(
    scope: Scope, send: Send, *, status: int, code: str, title: str, detail: str
) -> None:
    """Send a complete problem+json response straight from middleware."""
    body = json.dumps(
        {
            "type": TYPE_PREFIX + code,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": scope.get("path", ""),
            "request_id": request_id_of(scope),
            "errors": [],
        }
    ).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """413 for bodies over ``max_bytes``, declared or streamed, without reading them whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _detail(self) -> str:
        return f"the request body is larger than the {self.max_bytes:,}-byte limit"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await send_problem(
                    scope,
                    send,
                    status=400,
                    code="bad-request",
                    title="Bad request",
                    detail="Content-Length must be a whole number of bytes",
                )
                return
            if int(declared) > self.max_bytes:
                await send_problem(
                    scope,
                    send,
                    status=413,
                    code="limit-exceeded",
                    title="Input too large",
                    detail=self._detail(),
                )
                return

        received = 0
        answered = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if not started:
                        answered = True
                        await send_problem(
                            scope,
                            send,
                            status=413,
                            code="limit-exceeded",
                            title="Input too large",
                            detail=self._detail(),
                        )
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
