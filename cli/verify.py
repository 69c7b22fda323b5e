"""`allocator verify RESULT --scenario S`: re-solve a published result and compare, to the penny."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from allocator.errors import AllocatorError
from cli.common import err, fail, gbp, load_or_exit, make_console
from models.results import AllocationResult

console = make_console()


def load_result_or_exit(path: Path) -> AllocationResult:
    """A result file (as `allocator solve --out` writes it), or a located error and exit 2."""
    try:
        return AllocationResult.model_validate_json(path.read_text())
    except OSError as error:
        err.print(f"[red]Cannot read the result[/red] {path}: {error.strerror}")
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top)"
        err.print(f"[red]Not a result file[/red] {path}: {where}: {first['msg']}")
    raise typer.Exit(2)


def verify(
    result: Annotated[Path, typer.Argument(help="A published result (.json).")],
    scenario: Annotated[Path, typer.Option(help="The scenario it was solved from.")],
    backend: Annotated[
        str | None, typer.Option(help="Backend of the re-solve (default: the result's).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the report as JSON.")] = None,
) -> None:
    """Re-solve a result's scenario: identical, same optimum but a different tie, or different.

    Exits 0 when identical, 1 otherwise.
    """
    from allocator.explain.verify import IDENTICAL, verify_result

    published = load_result_or_exit(result)
    loaded = load_or_exit(scenario)
    try:
        report = verify_result(published, loaded, backend=backend)
    except AllocatorError as error:
        fail(error)
    console.print(f"[bold]{report.verdict}[/bold]")
    console.print(
        f"{report.figures_differing} of {report.figures_compared} published figures differ"
        + (f", by up to {gbp(report.largest_difference_pence)}" if report.figures_differing else "")
    )
    for d in report.differences[:10]:
        console.print(
            f"  {d.figure}: published {gbp(d.published_pence or 0)}, "
            f"re-solved {gbp(d.resolved_pence or 0)}"
        )
    for note in report.notes:
        console.print(f"  note: {note}")
    versions = ", ".join(f"{k} {v}" for k, v in report.versions.items())
    console.print(
        f"published by {report.published_software_version}; re-solved by "
        f"{report.software_version} ({report.backend}; {versions})"
    )
    if out is not None:
        out.write_text(report.model_dump_json(indent=1))
    raise typer.Exit(0 if report.verdict == IDENTICAL else 1)
