"""Semantic validation of a scenario: every problem at once, each located by its path.

`validate_scenario` runs every ``check_*`` function and returns all their `Issue`s. Issues
with ``code == "warning"`` do not block a solve (`blocking` leaves them out): they are
findings a user should see (a segment nobody serves) or arithmetic that makes the
scenario infeasible, which the solver then diagnoses with the least change that fixes it.
Every other issue blocks; parse errors become issues of the same shape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from allocator.errors import Issue
from allocator.validate.commitments import (
    check_commitments,
    check_pass_through,
    check_provider_capacity,
    check_reserve,
)
from allocator.validate.common import (
    EMPTY_CONTEXT,
    WARNING,
    ParseContext,
    blocking_issue,
    warning_issue,
)
from allocator.validate.entitlement_rules import check_entitlements
from allocator.validate.parse_errors import issues_from_validation_error
from allocator.validate.recurrent_checks import check_recurrent_growth, required_or_none
from allocator.validate.references import check_duplicate_ids, check_references, check_served
from allocator.validate.strict_checks import STRICT_CHECKS
from models import ObjectiveKind, PaceForm, Provider, RiskShareProfile, Scenario, UnitLevel

__all__ = [
    "CHECKS",
    "WARNING",
    "ParseContext",
    "blocking",
    "check_commitments",
    "check_coverage",
    "check_duplicate_ids",
    "check_minimum_spend_uses",
    "check_objective",
    "check_pace_rules",
    "check_pass_through",
    "check_provider_capacity",
    "check_references",
    "check_reserve",
    "check_ring_fences",
    "check_risk_share",
    "check_schemes",
    "check_served",
    "check_service_coverage",
    "check_value_curves",
    "issues_from_validation_error",
    "validate_scenario",
    "warnings",
]

Check = Callable[[Scenario, ParseContext], list[Issue]]


def check_coverage(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """Every system has places, every place neighbourhoods and people, every neighbourhood rows."""
    p = ctx.pos
    issues: list[Issue] = []
    if "places" not in ctx.incomplete:
        used = {place.system_id for place in scenario.places}
        for i, system in enumerate(scenario.systems):
            if system.system_id not in used:
                message = f"system {system.system_id!r} has no places; add one or remove the system"
                issues.append(blocking_issue(("systems", p("systems", i)), message))
    place_of = {n.neighbourhood_id: n.place_id for n in scenario.neighbourhoods}
    if "neighbourhoods" not in ctx.incomplete:
        used = set(place_of.values())
        for i, place in enumerate(scenario.places):
            if place.place_id not in used:
                message = (
                    f"place {place.place_id!r} has no neighbourhoods; fair shares need at least one"
                )
                issues.append(blocking_issue(("places", p("places", i)), message))
    if ctx.incomplete & {"populations", "segments", "local_adjustments", "neighbourhoods"}:
        return issues
    weight = {s.segment_id: s.cost_weight for s in scenario.segments}
    factor: dict[str, float] = defaultdict(lambda: 1.0)
    for adjustment in scenario.local_adjustments:
        factor[adjustment.neighbourhood_id] *= adjustment.factor
    rows: set[str] = set()
    place_wp: dict[str, float] = defaultdict(float)
    for row in scenario.populations:
        rows.add(row.neighbourhood_id)
        if row.neighbourhood_id in place_of and row.segment_id in weight:
            place_wp[place_of[row.neighbourhood_id]] += (
                row.headcount * weight[row.segment_id] * factor[row.neighbourhood_id]
            )
    for i, nb in enumerate(scenario.neighbourhoods):
        if nb.neighbourhood_id not in rows:
            message = f"neighbourhood {nb.neighbourhood_id!r} has no population rows"
            issues.append(blocking_issue(("neighbourhoods", p("neighbourhoods", i)), message))
    with_neighbourhoods = set(place_of.values())
    for i, place in enumerate(scenario.places):
        if place.place_id in with_neighbourhoods and place_wp[place.place_id] <= 0:
            issues.append(
                blocking_issue(
                    ("places", p("places", i)),
                    f"place {place.place_id!r} has a total weighted population of zero, so its "
                    "fair-share target is zero; add headcounts",
                )
            )
    return issues


def _serves(provider: Provider, kinds: Iterable[str], ids: Iterable[str]) -> bool:
    kinds, ids = set(kinds), set(ids)
    if not kinds and not ids:
        return True
    return provider.kind.value in kinds or provider.provider_id in ids


def check_service_coverage(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """Warn where a segment has people in a place but no provider serves it there."""
    if ctx.incomplete & {"providers", "populations", "neighbourhoods"}:
        return []
    place_of = {n.neighbourhood_id: n.place_id for n in scenario.neighbourhoods}
    people: dict[str, set[str]] = defaultdict(set)
    for row in scenario.populations:
        if row.headcount > 0 and row.neighbourhood_id in place_of:
            people[row.segment_id].add(place_of[row.neighbourhood_id])
    served: dict[str, set[str]] = defaultdict(set)
    for provider in scenario.providers:
        for segment_id in provider.segment_ids:
            served[segment_id].update(provider.place_ids)
    issues: list[Issue] = []
    for i, segment in enumerate(scenario.segments):
        missing = sorted(people[segment.segment_id] - served[segment.segment_id])
        if missing:
            issues.append(
                warning_issue(
                    ("segments", ctx.pos("segments", i)),
                    f"segment {segment.segment_id!r} has people in {', '.join(missing)} but no "
                    "provider serves it there; its share of the pot there cannot be spent",
                )
            )
    return issues


def check_ring_fences(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """A ring-fenced funder's money needs at least one eligible use."""
    if "providers" in ctx.incomplete:
        return []
    pooled = {
        f.funder_id: f.amount_pence - sum(t.amount_pence for t in f.pass_through)
        for f in scenario.funders
    }
    issues: list[Issue] = []
    for i, fence in enumerate(scenario.ring_fences):
        kinds = [k.value for k in fence.provider_kinds]
        eligible = [
            p
            for p in scenario.providers
            if _serves(p, kinds, fence.provider_ids)
            and (not fence.segment_ids or set(fence.segment_ids) & set(p.segment_ids))
        ]
        if eligible:
            continue
        uses = []
        if kinds or fence.provider_ids:
            uses.append("providers " + ", ".join([*kinds, *fence.provider_ids]))
        if fence.segment_ids:
            uses.append("segments " + ", ".join(fence.segment_ids))
        message = (
            f"ring-fence {fence.ringfence_id!r}: no provider serves its eligible uses "
            f"({'; '.join(uses)}), so funder {fence.funder_id!r}'s money could not be spent"
        )
        at = ("ring_fences", ctx.pos("ring_fences", i))
        if pooled.get(fence.funder_id, 1) > 0:
            issues.append(blocking_issue(at, message))
        else:
            issues.append(warning_issue(at, message))
    return issues


def check_minimum_spend_uses(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """A minimum spend needs some provider matching all its filters."""
    if "providers" in ctx.incomplete:
        return []
    issues: list[Issue] = []
    # Each rule looks only at the providers of its kinds and ids (all, if it names neither).
    of_kind: dict[str, list[Provider]] = defaultdict(list)
    by_id: dict[str, list[Provider]] = defaultdict(list)
    for provider in scenario.providers:
        of_kind[provider.kind.value].append(provider)
        by_id[provider.provider_id].append(provider)
    for i, rule in enumerate(scenario.minimum_spends):
        if (required_or_none(rule, scenario.funders) or 0) <= 0:
            continue
        candidates = (
            [p for k in dict.fromkeys(rule.provider_kinds) for p in of_kind[k.value]]
            + [p for pid in dict.fromkeys(rule.provider_ids) for p in by_id.get(pid, [])]
            if rule.provider_kinds or rule.provider_ids
            else scenario.providers
        )
        matches = any(
            (not rule.segment_ids or set(rule.segment_ids) & set(p.segment_ids))
            and (not rule.place_ids or set(rule.place_ids) & set(p.place_ids))
            for p in candidates
        )
        if not matches:
            message = (
                f"minimum spend {rule.rule_id!r}: no provider matches its filters, "
                "so nothing can count towards it"
            )
            at = ("minimum_spends", ctx.pos("minimum_spends", i))
            issues.append(blocking_issue(at, message) if rule.hard else warning_issue(at, message))
    return issues


def check_value_curves(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """Spend strictly increasing, value not decreasing, slopes not increasing (concave)."""
    issues: list[Issue] = []
    for i, curve in enumerate(scenario.value_curves):
        at = ("value_curves", ctx.pos("value_curves", i), "points")
        spend_before, value_before = 0, 0.0
        slope_before: tuple[float, int] | None = None  # (value rise, spend rise)
        for j, point in enumerate(curve.points):
            d_spend = point.spend_per_head_pence - spend_before
            d_value = point.value_per_head - value_before
            if d_spend <= 0:
                issues.append(
                    blocking_issue(
                        (*at, j, "spend_per_head_pence"),
                        "spend per head must increase strictly from point to point "
                        f"(and start above 0); got {point.spend_per_head_pence} after {spend_before}",
                    )
                )
                break
            if d_value < 0:
                issues.append(
                    blocking_issue(
                        (*at, j, "value_per_head"),
                        f"value per head must not fall as spend rises; got {point.value_per_head:g} "
                        f"after {value_before:g}",
                    )
                )
                break
            if slope_before is not None:
                rise, run = slope_before
                # slope_j > slope_before, cross-multiplied, with room for float noise.
                if d_value * run > rise * d_spend * (1 + 1e-9) + 1e-15:
                    issues.append(
                        blocking_issue(
                            (*at, j, "value_per_head"),
                            "the curve must be concave (value per extra £ must not rise): the "
                            f"slope up to point {j} is steeper than the slope before it",
                        )
                    )
                    break
            slope_before = (d_value, d_spend)
            spend_before, value_before = point.spend_per_head_pence, point.value_per_head
    return issues


def check_schemes(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """min_units <= max_units."""
    return [
        blocking_issue(
            ("schemes", ctx.pos("schemes", i), "min_units"),
            f"min_units {s.min_units} is more than max_units {s.max_units}",
        )
        for i, s in enumerate(scenario.schemes)
        if s.min_units > s.max_units
    ]


def check_pace_rules(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """Target-based pace forms only at place level: providers have no fair-share target."""
    issues: list[Issue] = []
    for i, rule in enumerate(scenario.pace_of_change):
        at = ("pace_of_change", ctx.pos("pace_of_change", i))
        if rule.level is UnitLevel.PROVIDER:
            if rule.form is PaceForm.CONVERGENCE:
                issues.append(
                    blocking_issue(
                        (*at, "form"),
                        "the convergence form needs a target, and providers have none; use "
                        "level 'place' or the floor_and_cap form",
                    )
                )
            for name in ("cap_over_target_share", "below_target_band_share"):
                if getattr(rule, name) is not None:
                    issues.append(
                        blocking_issue(
                            (*at, name),
                            f"{name} compares with a fair-share target, and providers have none; "
                            "leave it blank or use level 'place'",
                        )
                    )
        elif rule.provider_ids:
            issues.append(
                warning_issue(
                    (*at, "provider_ids"),
                    "provider_ids are ignored by a place-level rule (it applies to every place)",
                )
            )
    return issues


def check_objective(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """A lexicographic objective needs stages; fairness is measured where targets exist."""
    objective = scenario.objective
    issues: list[Issue] = []
    if objective.kind is ObjectiveKind.LEXICOGRAPHIC and not objective.stages:
        issues.append(
            blocking_issue(
                ("objective", "stages"),
                "a lexicographic objective needs at least one stage (fairness, value, stability)",
            )
        )
    if objective.fairness_level is UnitLevel.PROVIDER:
        issues.append(
            blocking_issue(
                ("objective", "fairness_level"),
                "providers have no fair-share target; use place, neighbourhood or system",
            )
        )
    weights = objective.weights
    if objective.kind is ObjectiveKind.WEIGHTED and not (
        weights.fairness_per_gbp_shortfall or weights.value or weights.stability_per_gbp_change
    ):
        issues.append(
            warning_issue(
                ("objective", "weights"), "every weight is zero: any allocation is optimal"
            )
        )
    return issues


def check_risk_share(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """A banded agreement without bands leaves all variance with the pool (probably a slip)."""
    return [
        warning_issue(
            ("risk_share_agreements", ctx.pos("risk_share_agreements", i)),
            f"agreement {a.agreement_id!r} uses bands but has none: the pool bears all variance",
        )
        for i, a in enumerate(scenario.risk_share_agreements)
        if a.profile is RiskShareProfile.BANDS and not a.overspend_bands and not a.underspend_bands
    ]


CHECKS: tuple[Check, ...] = (
    check_duplicate_ids,
    check_references,
    check_served,
    check_coverage,
    check_service_coverage,
    check_ring_fences,
    check_minimum_spend_uses,
    check_recurrent_growth,
    check_entitlements,
    check_value_curves,
    check_schemes,
    check_pace_rules,
    check_objective,
    check_risk_share,
    check_pass_through,
    check_reserve,
    check_commitments,
    check_provider_capacity,
    *STRICT_CHECKS,
)


def validate_scenario(scenario: Scenario, *, context: ParseContext | None = None) -> list[Issue]:
    """Every issue of the scenario, blocking ones and warnings, in check order.

    ``context`` comes from a lenient parse (`allocator.io`): locations then point at the
    rows of the original document, and rows that failed to parse do not cause knock-on
    findings.
    """
    ctx = context or EMPTY_CONTEXT
    issues: list[Issue] = []
    for check in CHECKS:
        issues += check(scenario, ctx)
    return issues


def blocking(issues: Iterable[Issue]) -> list[Issue]:
    """The issues that stop a solve (everything but warnings)."""
    return [issue for issue in issues if issue.code != WARNING]


def warnings(issues: Iterable[Issue]) -> list[Issue]:
    """The issues that do not stop a solve."""
    return [issue for issue in issues if issue.code == WARNING]
