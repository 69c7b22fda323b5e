"""The batch specification (YAML or JSON; the API accepts the same document).

A spec names a base scenario (a path relative to the spec file, or the scenario inline),
changes applied to every run, and exactly one way to vary them:

* ``grid``: axes, each a change with one field varied over listed values; every
  combination is a run (cartesian product);
* ``runs``: a list of named runs, each with its own changes;
* ``monte_carlo``: N seeded draws of uncertain inputs, each a change with one field
  drawn from a distribution.

`expand_runs` turns a spec into `Run` s in execution order: neighbouring runs differ
least (the grid is walked in reflected order, draws are sorted), so a worker solving a
contiguous block solves neighbours one after another.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, PrivateAttr, model_validator

from allocator.batch.changes import CHANGE_ADAPTER, Change, ParamValue, change_parameters
from models import Scenario
from models.base import DomainModel
from models.fields import Id, Name, NonNegativeFloat, Share

# Table columns every run has; parameter names may not reuse them.
RESERVED_COLUMNS = frozenset(
    {"run_id", "run_index", "status", "feasible", "reason", "value_total", "scenario_hash"}
)
AxisValue = float | int | str | bool | list[float] | None


@enum.unique
class ReuseMode(enum.StrEnum):
    """How a worker reuses solver work between neighbouring runs (see `allocator.batch.reuse`).

    ``exact``: results are identical to a cold `solve_scenario`, to the penny; only
    work that cannot change the published allocation is shared. ``warm``: every stage
    warm-starts from the neighbour's basis: faster, equally optimal, but ties in the
    last stage may be broken differently (other cells and funder flows).
    """

    EXACT = "exact"
    WARM = "warm"


class BatchOptions(DomainModel):
    backend: Name | None = Field(default=None, description="Solver backend; blank: the default.")
    time_limit_s: NonNegativeFloat | None = Field(default=None, description="Per solver stage.")
    mip_gap: Share | None = None
    reuse: ReuseMode = ReuseMode.EXACT
    chunk_size: int = Field(
        default=10, ge=1, le=10_000, description="Runs per task: a contiguous block of the grid."
    )
    explain: bool = Field(
        default=False, description="Shadow prices per run (slower; no solver reuse)."
    )
    diagnose: bool = Field(
        default=True, description="Say why an infeasible run is infeasible (one extra solve)."
    )

    def solve_key(self) -> dict[str, Any]:
        """What changes a run's result: part of its id."""
        return {
            "backend": self.backend,
            "time_limit_s": self.time_limit_s,
            "mip_gap": self.mip_gap,
            "reuse": self.reuse.value,
            "explain": self.explain,
        }


class Axis(DomainModel):
    """One grid dimension: ``change`` with ``field`` set to each of ``values`` in turn."""

    name: Id
    change: dict[str, Any] = Field(description="A change without the varied field, e.g. {kind}.")
    field: Id = "growth"
    values: tuple[AxisValue, ...] = Field(min_length=1, max_length=100_000)

    def changes(self) -> list[Change]:
        return [_change(self.change, self.field, v, self.name) for v in self.values]


class ListRun(DomainModel):
    name: Name
    changes: tuple[Change, ...] = ()


class Normal(DomainModel):
    kind: Literal["normal"] = "normal"
    mean: float = 0.0
    sd: NonNegativeFloat


class Uniform(DomainModel):
    kind: Literal["uniform"] = "uniform"
    low: float
    high: float


class Triangular(DomainModel):
    kind: Literal["triangular"] = "triangular"
    low: float
    mode: float
    high: float


Distribution = Annotated[Normal | Uniform | Triangular, Field(discriminator="kind")]


class UncertainInput(DomainModel):
    name: Id
    change: dict[str, Any]
    field: Id = "growth"
    distribution: Distribution
    decimals: int = Field(default=6, ge=0, le=12, description="Draws are rounded to this.")


class MonteCarlo(DomainModel):
    draws: int = Field(ge=1, le=1_000_000)
    seed: int = Field(ge=0)
    inputs: tuple[UncertainInput, ...] = Field(min_length=1)


class BatchSpec(DomainModel):
    """A batch of runs over one base scenario."""

    name: Name = ""
    description: str = ""
    base: str | Scenario = Field(description="Scenario file (relative to the spec) or inline.")
    changes: tuple[Change, ...] = Field(default=(), description="Applied to every run first.")
    grid: tuple[Axis, ...] | None = None
    runs: tuple[ListRun, ...] | None = None
    monte_carlo: MonteCarlo | None = None
    options: BatchOptions = Field(default_factory=BatchOptions)
    _source_dir: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_form(self) -> BatchSpec:
        forms = [f for f in (self.grid, self.runs, self.monte_carlo) if f is not None]
        if len(forms) != 1:
            raise ValueError("give exactly one of grid, runs or monte_carlo")
        names: list[str] = []
        if self.grid is not None:
            names = [a.name for a in self.grid]
            for axis in self.grid:
                axis.changes()  # every value must make a valid change
        if self.monte_carlo is not None:
            names = [i.name for i in self.monte_carlo.inputs]
            for item in self.monte_carlo.inputs:
                _change(item.change, item.field, 0.0, item.name)
        if len(set(names)) != len(names):
            raise ValueError("axis and input names must be unique")
        clash = RESERVED_COLUMNS.intersection(names)
        if clash:
            raise ValueError(f"names {sorted(clash)} are reserved table columns")
        return self

    def with_source_dir(self, folder: Path | None) -> BatchSpec:
        copy = self.model_copy()
        copy._source_dir = folder
        return copy

    def base_path(self, base_dir: Path | None = None) -> Path | None:
        if isinstance(self.base, Scenario):
            return None
        path = Path(self.base)
        folder = base_dir or self._source_dir
        return path if path.is_absolute() or folder is None else folder / path


def load_spec(path: str | Path) -> BatchSpec:
    """Read a ``.yaml``/``.yml`` or ``.json`` spec; relative paths in it start at its folder."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    return BatchSpec.model_validate(data).with_source_dir(path.resolve().parent)


@dataclass(frozen=True, slots=True)
class Run:
    """One run: its position in the spec, its id, its parameter columns and its changes."""

    index: int
    run_id: str
    params: dict[str, ParamValue]
    changes: tuple[Change, ...]


def run_id(base_hash: str, changes: tuple[Change, ...], options: BatchOptions) -> str:
    """Stable id of (base content hash, changes, solver settings)."""
    doc = {
        "base": base_hash,
        "changes": [CHANGE_ADAPTER.dump_python(c, mode="json") for c in changes],
        "solve": options.solve_key(),
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def expand_runs(spec: BatchSpec, base_hash: str) -> list[Run]:
    """Every run of the spec, in execution order (``index`` keeps the spec's own order)."""
    common = tuple(spec.changes)
    fixed = change_parameters(common)
    items: list[tuple[int, dict[str, ParamValue], tuple[Change, ...]]] = []
    if spec.grid is not None:
        axes = [axis.changes() for axis in spec.grid]
        shape = [len(a) for a in axes]
        for position in reflected_order(shape):
            index = int(np.ravel_multi_index(position, shape)) if shape else 0
            params = {**fixed}
            params.update(
                {ax.name: _param(ax.values[k]) for ax, k in zip(spec.grid, position, strict=True)}
            )
            items.append(
                (index, params, common + tuple(axes[d][k] for d, k in enumerate(position)))
            )
    elif spec.runs is not None:
        for index, run in enumerate(spec.runs):
            params = {"run_name": run.name, **fixed, **change_parameters(run.changes)}
            items.append((index, params, common + tuple(run.changes)))
    else:
        assert spec.monte_carlo is not None
        items = [(i, {**fixed, **p}, ch) for i, p, ch in _draws(spec.monte_carlo, common)]
    return [Run(i, run_id(base_hash, ch, spec.options), p, ch) for i, p, ch in items]


def reflected_order(shape: list[int]) -> list[tuple[int, ...]]:
    """Every grid position, walked so that consecutive positions differ in one axis by one.

    >>> reflected_order([2, 3])
    [(0, 0), (0, 1), (0, 2), (1, 2), (1, 1), (1, 0)]
    """
    if not shape:
        return [()]
    inner = reflected_order(shape[1:])
    out: list[tuple[int, ...]] = []
    for k in range(shape[0]):
        out += [(k, *rest) for rest in (inner if k % 2 == 0 else inner[::-1])]
    return out


def _draws(
    mc: MonteCarlo, common: tuple[Change, ...]
) -> list[tuple[int, dict[str, ParamValue], tuple[Change, ...]]]:
    rng = np.random.default_rng(mc.seed)
    columns = []
    for item in mc.inputs:
        d = item.distribution
        if isinstance(d, Normal):
            values = rng.normal(d.mean, d.sd, mc.draws)
        elif isinstance(d, Uniform):
            values = rng.uniform(d.low, d.high, mc.draws)
        else:
            values = rng.triangular(d.low, d.mode, d.high, mc.draws)
        columns.append(np.round(values, item.decimals))
    draws = list(zip(*(c.tolist() for c in columns), strict=True))
    order = sorted(range(mc.draws), key=lambda k: draws[k])  # neighbours solve together
    out = []
    for k in order:
        params: dict[str, ParamValue] = {"draw": k}
        changes = list(common)
        for item, value in zip(mc.inputs, draws[k], strict=True):
            params[item.name] = value
            changes.append(_change(item.change, item.field, value, item.name))
        out.append((k, params, tuple(changes)))
    return out


def _change(template: dict[str, Any], field: str, value: Any, name: str) -> Change:
    try:
        return CHANGE_ADAPTER.validate_python({**template, field: value})
    except ValueError as error:
        raise ValueError(
            f"{name}: {field}={value!r} does not make a valid change: {error}"
        ) from None


def _param(value: AxisValue) -> ParamValue:
    if isinstance(value, list):
        return "/".join(f"{v:g}" for v in value)
    return value


def spec_items(spec: BatchSpec) -> int:
    """How many runs the spec has (without expanding it)."""
    if spec.grid is not None:
        return int(np.prod([len(a.values) for a in spec.grid]))
    if spec.runs is not None:
        return len(spec.runs)
    assert spec.monte_carlo is not None
    return spec.monte_carlo.draws


__all__ = [
    "Axis",
    "BatchOptions",
    "BatchSpec",
    "ListRun",
    "MonteCarlo",
    "Normal",
    "ReuseMode",
    "Run",
    "Triangular",
    "UncertainInput",
    "Uniform",
    "expand_runs",
    "load_spec",
    "reflected_order",
    "run_id",
    "spec_items",
]
