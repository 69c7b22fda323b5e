"""Security headers for the pages and assets the app serves to browsers.

The workspace (``/app``) gets a Content-Security-Policy allowing only the app's own
scripts, styles, images and forms. Swagger UI and ReDoc set inline styles as they render
(ReDoc also starts a worker from a blob), so ``/docs`` and ``/redoc`` allow those too;
neither policy allows any other host.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WORKSPACE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def policy_for(path: str) -> str | None:
    if path == "/app" or path.startswith(("/app/", "/static/")):
        return WORKSPACE_CSP
    if path in ("/docs", "/redoc"):
        return DOCS_CSP
    return None


class SecurityHeadersMiddleware:
    """Adds the CSP and the usual hardening headers to browser-facing responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = policy_for(scope.get("path", "")) if scope["type"] == "http" else None
        if policy is None:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", policy.encode("ascii")),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if scope.get("path", "").startswith("/app"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
