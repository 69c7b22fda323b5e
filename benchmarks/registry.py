"""The benchmark sizes: seeded generated scenarios from one system up to national.

Every size is drawn by `allocator.synth.generator.generate_scenario` with a fixed seed, so every
run (and every fresh worker process) sees the same scenario; workers check this with the
scenario's content hash. The side-by-side comparison uses each scenario's WEIGHTED
single-objective variant (`weighted`), so every contender solves exactly one LP/MIP.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from allocator.synth.generator import SIZES as GENERATOR_SIZES
from allocator.synth.generator import GeneratorConfig, generate_scenario
from models import ObjectiveKind, Scenario

SEED = 1


@dataclass(frozen=True)
class BenchSize:
    """One benchmark size.

    ``max_repeat`` caps ``--repeat`` where a single solve already takes a minute;
    ``slow_cap_s`` is the wall-clock cap of the contenders that may not finish
    (PuLP/CBC and OR-Tools through our pipeline); ``cap_s`` that of the others.
    """

    name: str
    config: GeneratorConfig
    note: str
    max_repeat: int = 5
    cap_s: float = 600.0
    slow_cap_s: float = 180.0
    seed: int = SEED

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "seed": self.seed, "config": asdict(self.config)}


def _named(name: str) -> GeneratorConfig:
    return GENERATOR_SIZES[name]


SIZES: dict[str, BenchSize] = {
    size.name: size
    for size in (
        BenchSize("system", _named("system"), "1 system, ~50 neighbourhoods, 20 providers"),
        BenchSize(
            "three-systems",
            GeneratorConfig(3, 5, 10.0),
            "3 systems, ~150 neighbourhoods, 60 providers",
        ),
        BenchSize("region", _named("region"), "7 systems, ~300 neighbourhoods, 140 providers"),
        BenchSize(
            "two-regions",
            GeneratorConfig(14, 5, 8.6),
            "14 systems, ~600 neighbourhoods, 280 providers",
            max_repeat=2,
        ),
        BenchSize(
            "national",
            _named("national"),
            "42 systems, ~1,250 neighbourhoods × 8 segments, 840 providers (20 per system)",
            max_repeat=1,
            cap_s=900.0,
            slow_cap_s=300.0,
        ),
    )
}
DEFAULT_SIZES = ("system", "three-systems", "region", "two-regions", "national")

# Tiny sizes for the smoke run (seconds, not minutes): the runner cannot rot unnoticed.
SMOKE_SIZES: dict[str, BenchSize] = {
    size.name: size
    for size in (
        BenchSize("tiny", GeneratorConfig(1, 2, 3.0, providers_per_system=8), "2 places"),
        BenchSize("tiny-2", GeneratorConfig(1, 3, 4.0, providers_per_system=10), "3 places"),
    )
}


def get_size(name: str) -> BenchSize:
    """A registered size by name (the benchmark sizes, then the smoke sizes)."""
    if name in SIZES:
        return SIZES[name]
    if name in SMOKE_SIZES:
        return SMOKE_SIZES[name]
    known = ", ".join([*SIZES, *SMOKE_SIZES])
    raise KeyError(f"unknown benchmark size {name!r}; known: {known}")


def size_from_json(doc: dict[str, object]) -> BenchSize:
    """Rebuild a size in a worker process from `BenchSize.to_json`."""
    name = str(doc["name"])
    config = doc["config"]
    assert isinstance(config, dict)
    base = SIZES.get(name) or SMOKE_SIZES.get(name)
    note = base.note if base is not None else ""
    seed = doc["seed"]
    assert isinstance(seed, int)
    return BenchSize(name, GeneratorConfig(**config), note, seed=seed)


def lexicographic(size: BenchSize) -> Scenario:
    """The generated scenario as drawn: the default lexicographic objective."""
    return generate_scenario(size.config, seed=size.seed)


def weighted(scenario: Scenario) -> Scenario:
    """The same scenario with the weighted single objective (one stage, one LP/MIP)."""
    objective = scenario.objective.model_copy(update={"kind": ObjectiveKind.WEIGHTED})
    return scenario.model_copy(update={"objective": objective})
