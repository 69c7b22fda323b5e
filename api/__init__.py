"""The HTTP API (FastAPI): ``uvicorn --factory api.app:create_app`` or ``allocator serve``.

`api.app` builds the application from `api.settings.Settings`; routers (one per resource)
are thin calls into `api.storage.repository` and the `allocator` domain; `api.errors` is
the only place errors become HTTP; `api.jobs` runs solves in killable worker processes.
See docs/api.md.
"""
