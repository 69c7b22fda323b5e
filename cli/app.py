"""The `allocator` command line. Each command lives in its own module of `cli/`; this only registers."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="allocator",
    help="Budget-allocation optimiser for integrated health and care systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _group() -> None:
    # A callback keeps `allocator` a group when only the invoked command is registered.
    pass


def _register() -> None:
    # Imported here so `allocator --help` stays fast and optional parts stay optional.
    import sys

    from cli import register_all

    register_all(app, sys.argv)


_register()

if __name__ == "__main__":
    app()
