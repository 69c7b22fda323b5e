"""Page sizes: the request's, at most the server's ``max_page_size`` (else 422, as the
OpenAPI document says), or the default."""

from __future__ import annotations

from api.errors import InvalidRequest
from api.settings import Settings


def page_size_of(requested: int | None, settings: Settings) -> int:
    """The page size a listing uses; a request above the server's maximum is refused."""
    if requested is None:
        return settings.default_page_size
    if requested > settings.max_page_size:
        raise InvalidRequest(
            f"page_size {requested} is more than this server allows ({settings.max_page_size})"
        )
    return requested
