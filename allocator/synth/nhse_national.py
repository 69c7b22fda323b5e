"""A national scenario from NHS England's published weighted populations, stream by stream.

``import_streams(year, options)`` builds on `allocator.synth.nhse` (systems = ICBs, places =
sub-ICB locations, neighbourhoods = PCN × place). With ``streams=("core",)`` and no rules it
is the same scenario as ``import_nhse``. With both streams:

- Two funders, each ring-fenced to its own segment: ``NHS`` (ICB core services,
  segment ``all``) and ``NHS-PMC`` (primary medical care, segment ``pmc``).
- Each PCN × place appears once per stream: ``U12345.16C`` (core; headcount ``pop`` and
  adjustment ``Final WP ÷ pop``) and ``U12345.16C.pmc`` (PMC; headcount ``pop`` and
  adjustment ``Final PMC WP ÷ pop``). The ``pmc`` segment's cost weight is the PMC pot per
  PMC weighted head over the core pot per core weighted head, so a unit's scenario target
  is its core target plus its PMC target, and a stream neighbourhood's target is its
  stream target (each to the penny of largest-remainder rounding).
- Providers per ICB: a core placeholder (kind ``other``), with ``mh_share`` a mental-health
  placeholder (both serve the core segment), and a general-practice placeholder (PMC).

Last year (``growth_share`` given): the published files hold no allocations, so last
year's money is derived and documented as such: last year's stream pot = this year's ÷
(1 + growth), rounded to the penny, shared by the *previous* published year's weighted
populations (2023/24 for 2024/25, 2022/23 for 2023/24; 2022/23 has no previous file and uses
its own), i.e. every place was funded exactly at last year's target; with
``per_head_share`` λ > 0, last year's shares sit a fraction λ of the way from those
weighted-population shares towards plain population shares (an allocation not yet
converged to need, so some systems are over target and some under). Places carry these as
baselines (so systems do, as sums); the mental-health baseline of a system is ``mh_share``
of its core baseline; the core placeholder has the rest.

Rules on request: system-level convergence (κ, floor growth) and a per-system mental
health investment standard counting only ``NHS`` money: mental-health spend of the system's
own providers ≥ last year's mental-health baseline × (1 + growth).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from allocator.domain.rounding import largest_remainder
from allocator.synth.nhse import YEARS, NhseTables, import_nhse, nhse_tables, parse_year
from allocator.synth.nhse_streams import (
    CORE,
    PMC,
    STREAM_COLUMN,
    StreamTargets,
    stream_targets,
    subset,
)
from models import (
    FairShare,
    FairShareForm,
    Funder,
    FunderKind,
    LocalAdjustment,
    MinimumSpend,
    Neighbourhood,
    PaceForm,
    PaceOfChange,
    Population,
    Provider,
    ProviderKind,
    RingFence,
    Scenario,
    Segment,
    UnitLevel,
)

DEFAULT_PMC_GBP_PER_HEAD = 175.0  # illustrative: PMC allocations of about £10–11bn for England
PMC_SUFFIX = ".pmc"


@dataclass(frozen=True)
class StreamOptions:
    """What `import_streams` adds to the population side (see the module doc)."""

    streams: tuple[str, ...] = (CORE,)
    gbp_per_head: float = 1_500.0
    pmc_gbp_per_head: float = DEFAULT_PMC_GBP_PER_HEAD
    system_ids: tuple[str, ...] = ()
    growth_share: float | None = None  # recurrent growth from last year; derives baselines
    convergence_share: float | None = None  # system-level convergence κ
    floor_growth_share: float = 0.0
    mh_share: float | None = None  # last year's mental-health share of core; adds the MHIS
    per_head_share: float = 0.0  # λ: how far last year's shares sat towards plain population


@lru_cache(maxsize=4)
def _tables(year: str, system_ids: tuple[str, ...]) -> NhseTables:
    """One read of a published year per build (the frames are only read, never changed)."""
    return subset(nhse_tables(year), system_ids)


def previous_year(year: str) -> str:
    """The published year before ``year`` (2022/23 for itself: there is no earlier file)."""
    years = list(YEARS)
    return years[max(years.index(parse_year(year)) - 1, 0)]


def whole_millions_pence(pop: float, gbp_per_head: float) -> int:
    return round(pop * gbp_per_head / 1_000_000) * 100_000_000


def stream_pots(year: str, options: StreamOptions) -> dict[str, int]:
    tables = _tables(year, options.system_ids)
    pop = float(tables.systems["pop"].sum())
    per_head = {CORE: options.gbp_per_head, PMC: options.pmc_gbp_per_head}
    return {s: whole_millions_pence(pop, per_head[s]) for s in options.streams}


def last_year_targets(year: str, options: StreamOptions) -> dict[str, StreamTargets]:
    """Last year's derived allocation of each stream: at last year's target (module doc)."""
    assert options.growth_share is not None
    pots = stream_pots(year, options)
    places = _tables(year, options.system_ids).places
    last = _tables(previous_year(year), options.system_ids)
    missing = sorted(set(places["place_id"]) - set(last.places["place_id"]))
    if missing:
        raise ValueError(f"places {', '.join(missing)} are not in {last.year}")
    out = {}
    for stream, pot in pots.items():
        last_pot = round(pot / (1.0 + options.growth_share))
        out[stream] = stream_targets(
            _towards_heads(last, stream, options.per_head_share), stream, last_pot
        )
    return out


def _towards_heads(tables: NhseTables, stream: str, share: float) -> NhseTables:
    """Each unit's stream weight as (1 − λ) × its weighted population + λ × its population,
    the population scaled to the same total, so shares blend by λ exactly."""
    if share == 0.0:
        return tables
    column = STREAM_COLUMN[stream]
    scale = float(tables.systems[column].sum() / tables.systems["pop"].sum())

    def blend(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(**{column: (1 - share) * frame[column] + share * scale * frame["pop"]})

    return NhseTables(
        tables.year, blend(tables.systems), blend(tables.places), blend(tables.neighbourhoods)
    )


def _check(options: StreamOptions) -> None:
    if not options.streams or set(options.streams) - {CORE, PMC} or CORE not in options.streams:
        raise ValueError("streams are 'core' or 'core' and 'pmc'")
    rules = options.convergence_share is not None or options.mh_share is not None
    if rules and options.growth_share is None:
        raise ValueError("convergence and the mental-health minimum need last year's growth")
    shares = {
        "convergence": options.convergence_share,
        "mh-share": options.mh_share,
        "per-head-share": options.per_head_share,
    }
    for name, value in shares.items():
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError(f"--{name} is a fraction from 0 to 1, not {value}")
    for name, growth in (
        ("growth", options.growth_share),
        ("floor-growth", options.floor_growth_share),
    ):
        if growth is not None and not -1.0 < growth <= 1.0:
            raise ValueError(f"--{name} is a growth from -1 to 1 (0.04 = 4%), not {growth}")
    for name, per_head in (
        ("gbp-per-head", options.gbp_per_head),
        ("pmc-gbp-per-head", options.pmc_gbp_per_head),
    ):
        if not 0.0 < per_head < 1e6:
            raise ValueError(f"--{name} is a positive amount of pounds, not {per_head}")


def import_streams(year: str, options: StreamOptions | None = None) -> Scenario:
    """The national scenario of ``year`` with the options' streams and rules (module doc)."""
    options = options or StreamOptions()
    _check(options)
    base = import_nhse(year, gbp_per_head=options.gbp_per_head)
    tables = _tables(year, options.system_ids)
    if options.system_ids:
        base = _restrict(base, tables.places["place_id"].tolist(), options)
    if options.streams == (CORE,) and options.growth_share is None:
        return Scenario.model_validate(base.model_dump()) if options.system_ids else base
    pots = stream_pots(year, options)
    both = PMC in pots
    hoods = tables.neighbourhoods
    update: dict[str, object] = {}
    if both:
        core_per_wp = pots[CORE] / float(hoods["wp"].sum())
        pmc_per_wp = pots[PMC] / float(hoods["pmc_wp"].sum())
        factor = np.where(
            hoods["pop"] > 0, hoods["pmc_wp"] / hoods["pop"].where(hoods["pop"] > 0, 1), 1
        )
        update["segments"] = (
            *base.segments,
            Segment(
                segment_id=PMC, name="Primary medical care", cost_weight=pmc_per_wp / core_per_wp
            ),
        )
        ids = [f"{i}{PMC_SUFFIX}" for i in hoods["neighbourhood_id"]]
        update["neighbourhoods"] = (
            *base.neighbourhoods,
            *(
                Neighbourhood(neighbourhood_id=i, place_id=p, name=f"{n} (primary medical care)")
                for i, p, n in zip(ids, hoods["place_id"], hoods["pcn_name"], strict=True)
            ),
        )
        update["populations"] = (
            *base.populations,
            *(
                Population(neighbourhood_id=i, segment_id=PMC, headcount=float(h))
                for i, h in zip(ids, hoods["pop"], strict=True)
            ),
        )
        update["local_adjustments"] = (
            *base.local_adjustments,
            *(
                LocalAdjustment(
                    neighbourhood_id=i,
                    factor=float(f),
                    reason="PMC need index (Final PMC WP / pop)",
                )
                for i, f in zip(ids, factor, strict=True)
            ),
        )
        update["funders"] = (
            base.funders[0].model_copy(update={"name": "ICB core services (illustrative)"}),
            Funder(
                funder_id="NHS-PMC",
                name=f"Primary medical care (illustrative £{options.pmc_gbp_per_head:,.0f} per head)",
                kind=FunderKind.DELEGATED_PRIMARY_CARE,
                amount_pence=pots[PMC],
            ),
        )
        update["ring_fences"] = (
            RingFence(ringfence_id="core-stream", funder_id="NHS", segment_ids=("all",)),
            RingFence(ringfence_id="pmc-stream", funder_id="NHS-PMC", segment_ids=(PMC,)),
        )
    update |= _money(year, options, pots, base)
    streams = " and ".join(f"{s} £{pots[s] / 100:,.0f}" for s in pots)
    update["description"] = f"{base.description} Streams: {streams}."
    # model_copy does not validate: validate the finished document once.
    return Scenario.model_validate(base.model_copy(update=update).model_dump())


def _restrict(base: Scenario, place_ids: list[str], options: StreamOptions) -> Scenario:
    """The core scenario cut to some systems; the pot is per head of their people."""
    keep = set(place_ids)
    hoods = tuple(n for n in base.neighbourhoods if n.place_id in keep)
    hood_ids = {n.neighbourhood_id for n in hoods}
    populations = tuple(p for p in base.populations if p.neighbourhood_id in hood_ids)
    pot = whole_millions_pence(sum(p.headcount for p in populations), options.gbp_per_head)
    providers = tuple(p for p in base.providers if set(p.place_ids) <= keep)
    shares = np.array([float(p.baseline_pence) for p in providers])
    baselines = largest_remainder(pot, shares)
    suffix = "-".join(options.system_ids).lower()
    if len(base.scenario_id) + 1 + len(suffix) > 64:  # the longest an id may be
        suffix = f"{len(options.system_ids)}-icbs"
    return base.model_copy(
        update={
            "scenario_id": f"{base.scenario_id}-{suffix}",
            "systems": tuple(s for s in base.systems if s.system_id in options.system_ids),
            "places": tuple(p for p in base.places if p.place_id in keep),
            "neighbourhoods": hoods,
            "populations": populations,
            "local_adjustments": tuple(
                a for a in base.local_adjustments if a.neighbourhood_id in hood_ids
            ),
            "funders": (base.funders[0].model_copy(update={"amount_pence": pot}),),
            "providers": tuple(
                p.model_copy(update={"baseline_pence": int(b)})
                for p, b in zip(providers, baselines, strict=True)
            ),
        }
    )


def _money(
    year: str, options: StreamOptions, pots: dict[str, int], base: Scenario
) -> dict[str, object]:
    """Providers, place baselines and rules (module doc)."""
    places = base.places
    if options.growth_share is None:
        this = {s: stream_targets(_tables(year, options.system_ids), s, p) for s, p in pots.items()}
        core_base, pmc_base = this[CORE].places, this[PMC].places if PMC in this else None
        place_updates: dict[str, object] = {}
    else:
        last = last_year_targets(year, options)
        core_base = last[CORE].places
        pmc_base = last[PMC].places if PMC in last else None
        place_updates = {
            "places": tuple(
                p.model_copy(
                    update={
                        "baseline_pence": int(core_base[p.place_id])
                        + (0 if pmc_base is None else int(pmc_base[p.place_id]))
                    }
                )
                for p in places
            )
        }
    providers: list[Provider] = []
    minimums: list[MinimumSpend] = []
    for system in base.systems:
        s = system.system_id
        own = tuple(p.place_id for p in places if p.system_id == s)
        core = int(core_base[list(own)].sum())
        mh = 0 if options.mh_share is None else round(core * options.mh_share)
        providers.append(
            Provider(
                provider_id=f"{s}-placeholder",
                name="Placeholder: all core services of the ICB"
                + ("" if options.mh_share is None else " but mental health"),
                kind=ProviderKind.OTHER,
                place_ids=own,
                segment_ids=("all",),
                baseline_pence=core - mh,
            )
        )
        if options.mh_share is not None:
            providers.append(
                Provider(
                    provider_id=f"{s}-mh",
                    name="Placeholder: mental health services of the ICB",
                    kind=ProviderKind.MENTAL_HEALTH,
                    place_ids=own,
                    segment_ids=("all",),
                    baseline_pence=mh,
                )
            )
            assert options.growth_share is not None
            minimums.append(
                MinimumSpend(
                    rule_id=f"mhis-{s}",
                    name=f"Mental health investment standard, {system.name or s}",
                    provider_kinds=(ProviderKind.MENTAL_HEALTH,),
                    place_ids=own,
                    funder_ids=("NHS",),
                    baseline_pence=mh,
                    min_growth_share=options.growth_share,
                )
            )
        if pmc_base is not None:
            providers.append(
                Provider(
                    provider_id=f"{s}-gp",
                    name="Placeholder: general practice of the ICB (primary medical care)",
                    kind=ProviderKind.GENERAL_PRACTICE,
                    place_ids=own,
                    segment_ids=(PMC,),
                    baseline_pence=int(pmc_base[list(own)].sum()),
                )
            )
    out: dict[str, object] = place_updates | {"providers": tuple(providers)}
    if minimums:
        out["minimum_spends"] = tuple(minimums)
    if options.convergence_share is not None:
        out["pace_of_change"] = (
            PaceOfChange(
                rule_id="system-convergence",
                name="Convergence of ICB allocations",
                level=UnitLevel.SYSTEM,
                form=PaceForm.CONVERGENCE,
                convergence_share=options.convergence_share,
                floor_growth_share=options.floor_growth_share,
            ),
        )
    levels = (
        [UnitLevel.SYSTEM] if options.convergence_share is not None or pmc_base is not None else []
    )
    if pmc_base is not None:
        # Each stream's neighbourhoods converge to their own targets, which keeps each
        # system's split between the two streams at its stream targets.
        levels.append(UnitLevel.NEIGHBOURHOOD)
    if levels:
        out["fair_shares"] = tuple(
            FairShare(
                rule_id=f"{level.value}-fair-shares", level=level, form=FairShareForm.CONVERGE
            )
            for level in levels
        )
    return out
