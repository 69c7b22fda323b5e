"""Checks of identity: duplicate ids and rows, references to ids that do not exist."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from allocator.errors import Issue
from allocator.validate.common import (
    EMPTY_CONTEXT,
    ID_FIELDS,
    NOUNS,
    Known,
    ParseContext,
    blocking_issue,
    warning_issue,
)
from models import Scenario

Loc = tuple[str | int, ...]


def _duplicates(keys: Iterable[tuple[Hashable, Loc]], describe: str) -> list[Issue]:
    first: dict[Hashable, Loc] = {}
    issues: list[Issue] = []
    for key, loc in keys:
        if key in first:
            where = first[key]
            issues.append(
                blocking_issue(
                    loc,
                    f"duplicate {describe} {key!r} (first at {_path(where)}); "
                    "each must appear once",
                )
            )
        else:
            first[key] = loc
    return issues


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_duplicate_ids(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """Ids unique within each table; one population row per neighbourhood × segment, etc."""
    issues: list[Issue] = []
    for table, id_field in ID_FIELDS.items():
        keys: list[tuple[Hashable, Loc]] = [
            (ident, (table, row, id_field)) for ident, row in ctx.failed_ids.get(table, {}).items()
        ]
        keys += [
            (str(getattr(row, id_field)), (table, ctx.pos(table, i), id_field))
            for i, row in enumerate(getattr(scenario, table))
        ]
        keys.sort(key=lambda item: int(item[1][1]))
        issues += _duplicates(keys, f"{NOUNS[table]} id")
    issues += _duplicates(
        (
            (
                (row.neighbourhood_id, row.segment_id),
                ("populations", ctx.pos("populations", i)),
            )
            for i, row in enumerate(scenario.populations)
        ),
        "population row for neighbourhood × segment",
    )
    issues += _duplicates(
        (
            ((c.segment_id, c.provider_kind.value), ("value_curves", ctx.pos("value_curves", i)))
            for i, c in enumerate(scenario.value_curves)
        ),
        "value curve for segment × provider kind",
    )
    issues += _duplicates(
        (
            (g.segment_id, ("demand_growth", ctx.pos("demand_growth", i), "segment_id"))
            for i, g in enumerate(scenario.demand_growth)
        ),
        "demand growth for segment",
    )
    issues += _duplicates(
        (
            (v.segment_id, ("outturn", "segment_overrides", i, "segment_id"))
            for i, v in enumerate(scenario.outturn.segment_overrides)
        ),
        "volatility override for segment",
    )
    return issues


def check_references(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """Every id a row names exists in its table."""
    known = Known(scenario, ctx)
    issues: list[Issue] = []

    def ref(table: str, value: str | None, loc: Loc) -> None:
        if value is None:
            return
        message = known.unknown(table, value)
        if message:
            issues.append(blocking_issue(loc, message))

    def refs(table: str, values: Iterable[str], loc: Loc) -> None:
        for j, value in enumerate(values):
            ref(table, value, (*loc, j))

    p = ctx.pos
    at: Loc
    for i, place in enumerate(scenario.places):
        ref("systems", place.system_id, ("places", p("places", i), "system_id"))
    for i, nb in enumerate(scenario.neighbourhoods):
        ref("places", nb.place_id, ("neighbourhoods", p("neighbourhoods", i), "place_id"))
    for i, pop in enumerate(scenario.populations):
        at = ("populations", p("populations", i))
        ref("neighbourhoods", pop.neighbourhood_id, (*at, "neighbourhood_id"))
        ref("segments", pop.segment_id, (*at, "segment_id"))
    for i, adj in enumerate(scenario.local_adjustments):
        at = ("local_adjustments", p("local_adjustments", i), "neighbourhood_id")
        ref("neighbourhoods", adj.neighbourhood_id, at)
    for i, growth in enumerate(scenario.demand_growth):
        ref("segments", growth.segment_id, ("demand_growth", p("demand_growth", i), "segment_id"))
    for i, funder in enumerate(scenario.funders):
        for j, item in enumerate(funder.pass_through):
            at = ("funders", p("funders", i), "pass_through", j)
            ref("providers", item.provider_id, (*at, "provider_id"))
            ref("segments", item.segment_id, (*at, "segment_id"))
    for i, fence in enumerate(scenario.ring_fences):
        at = ("ring_fences", p("ring_fences", i))
        ref("funders", fence.funder_id, (*at, "funder_id"))
        refs("segments", fence.segment_ids, (*at, "segment_ids"))
        refs("providers", fence.provider_ids, (*at, "provider_ids"))
    for i, rule in enumerate(scenario.minimum_spends):
        at = ("minimum_spends", p("minimum_spends", i))
        refs("providers", rule.provider_ids, (*at, "provider_ids"))
        refs("segments", rule.segment_ids, (*at, "segment_ids"))
        refs("places", rule.place_ids, (*at, "place_ids"))
        refs("funders", rule.funder_ids, (*at, "funder_ids"))
    for i, provider in enumerate(scenario.providers):
        at = ("providers", p("providers", i))
        refs("places", provider.place_ids, (*at, "place_ids"))
        refs("segments", provider.segment_ids, (*at, "segment_ids"))
        agreement = provider.risk_share_agreement_id
        ref("risk_share_agreements", agreement, (*at, "risk_share_agreement_id"))
        for name in ("place_ids", "segment_ids"):
            values = getattr(provider, name)
            for j, value in enumerate(values):
                if value in values[:j]:
                    message = f"{value!r} is listed twice"
                    issues.append(warning_issue((*at, name, j), message))
    for i, scheme in enumerate(scenario.schemes):
        at = ("schemes", p("schemes", i))
        ref("providers", scheme.provider_id, (*at, "provider_id"))
        ref("places", scheme.place_id, (*at, "place_id"))
        ref("segments", scheme.segment_id, (*at, "segment_id"))
    for i, curve in enumerate(scenario.value_curves):
        ref("segments", curve.segment_id, ("value_curves", p("value_curves", i), "segment_id"))
    for i, pace in enumerate(scenario.pace_of_change):
        refs(
            "providers",
            pace.provider_ids,
            ("pace_of_change", p("pace_of_change", i), "provider_ids"),
        )
    for i, override in enumerate(scenario.outturn.segment_overrides):
        ref("segments", override.segment_id, ("outturn", "segment_overrides", i, "segment_id"))
    return issues


def check_served(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """Schemes and segment pass-throughs sit where their provider works."""
    providers = {provider.provider_id: provider for provider in scenario.providers}
    places = {place.place_id for place in scenario.places}
    segments = {segment.segment_id for segment in scenario.segments}
    issues: list[Issue] = []
    for i, scheme in enumerate(scenario.schemes):
        provider = providers.get(scheme.provider_id)
        if provider is None:
            continue
        at = ("schemes", ctx.pos("schemes", i))
        if scheme.place_id in places and scheme.place_id not in provider.place_ids:
            issues.append(
                blocking_issue(
                    (*at, "place_id"),
                    f"provider {provider.provider_id!r} does not serve place {scheme.place_id!r}"
                    f" (it serves {', '.join(provider.place_ids)}); add the place to the"
                    " provider or move the scheme",
                )
            )
        if scheme.segment_id in segments and scheme.segment_id not in provider.segment_ids:
            issues.append(
                blocking_issue(
                    (*at, "segment_id"),
                    f"provider {provider.provider_id!r} does not serve segment "
                    f"{scheme.segment_id!r} (it serves {', '.join(provider.segment_ids)})",
                )
            )
    for i, funder in enumerate(scenario.funders):
        for j, item in enumerate(funder.pass_through):
            provider = providers.get(item.provider_id)
            if provider is None or item.segment_id not in segments:
                continue
            if item.segment_id not in provider.segment_ids:
                issues.append(
                    blocking_issue(
                        ("funders", ctx.pos("funders", i), "pass_through", j, "segment_id"),
                        f"provider {provider.provider_id!r} does not serve segment "
                        f"{item.segment_id!r}; leave the segment blank or pick one it serves",
                    )
                )
    return issues
