"""CLI commands, one module each; `register_all` adds them to the typer app."""

from __future__ import annotations

import importlib

import typer

from cli.boundary import guard_all

# module name -> command names defined there (each module has a function of the same name,
# with dashes as underscores). Add a line when you add a command module.
COMMANDS: dict[str, tuple[str, ...]] = {
    "solve": ("solve",),
    "compare": ("compare",),
    "validate": ("validate",),
    "template": ("template",),
    "generate": ("generate",),
    "import_nhse": ("import-nhse",),
    "targets": ("targets",),
    "batch": ("batch", "plan"),  # `plan` lives in plan.py and is re-exported by batch.py
    "serve": ("serve",),
    "risk_report": ("risk",),
    "risk_design": ("risk-design",),
    "report": ("report",),
    "convert": ("convert",),
    "verify": ("verify",),
    "trace": ("trace",),
    "bridge": ("bridge",),
    "alternatives": ("alternatives",),
    "what_it_takes": ("what-would-it-take",),
}

# module name -> group name: each module exposes `group: typer.Typer` (e.g. `allocator keys create`).
GROUPS: dict[str, str] = {"keys": "keys"}


def register_all(app: typer.Typer, argv: list[str] | None = None) -> None:
    """Register the commands; with ``argv`` naming one command, only that one.

    Importing every command module costs most of a second (the API, pandas, plotting); a
    process that runs `allocator solve` needs only `cli.solve`. ``--help`` and unknown
    names still see every command.
    """
    wanted = argv[1] if argv is not None and len(argv) > 1 else None
    for module_name, names in COMMANDS.items():
        if wanted is not None and wanted in names:
            module = importlib.import_module(f"cli.{module_name}")
            app.command(wanted)(getattr(module, wanted.replace("-", "_")))
            guard_all(app)
            return
    for module_name, names in COMMANDS.items():
        module = importlib.import_module(f"cli.{module_name}")
        for name in names:
            app.command(name)(getattr(module, name.replace("-", "_")))
    for module_name, group_name in GROUPS.items():
        module = importlib.import_module(f"cli.{module_name}")
        app.add_typer(module.group, name=group_name)
    guard_all(app)
