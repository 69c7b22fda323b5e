"""The workbook's layout as data: sheets, columns, units and help, used by reader and writer.

Money columns are in pounds with two decimals ("Baseline (£)"); the reader converts them
exactly to integer pence. Column ``key`` is the field path in the document row, with dots
for nesting (``payment.unit_price_pence``). Id columns come first so other sheets' lists
can point at ``=Sheet!$A$2:$A$5000``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from models import (
    BreakevenLevel,
    FairShareForm,
    FunderKind,
    ObjectiveKind,
    ObjectiveStage,
    PaceForm,
    PaymentKind,
    ProviderKind,
    ReferenceRate,
    RiskShareProfile,
)

LIST_ROWS = 5000
"""Rows (from 2) that the drop-down lists and checks of each column cover."""


class Kind(enum.Enum):
    TEXT = "text"
    ID = "id"
    IDS = "ids"  # comma-separated ids
    ENUM = "enum"
    ENUMS = "enums"  # comma-separated choices
    INT = "int"
    FLOAT = "float"
    SHARE = "share"  # a float from 0 to 1
    MONEY = "money"  # pounds in the workbook, integer pence in the document
    BOOL = "bool"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: Kind
    comment: str
    choices: tuple[str, ...] = ()
    ref: str | None = None  # sheet whose id column (A) lists the allowed values
    required: bool = False  # the column must be present on the sheet
    width: int = 16

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))


@dataclass(frozen=True)
class Sheet:
    name: str
    purpose: str
    columns: tuple[Column, ...]
    example: tuple[str, ...] = ()
    required: bool = False


def _values(vocabulary: type[enum.StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in vocabulary)


PROVIDER_KINDS = _values(ProviderKind)
FUNDER_KINDS = _values(FunderKind)
PAYMENT_KINDS = _values(PaymentKind)
SIDES = ("overspend", "underspend")
BOOLS = ("TRUE", "FALSE")


def _id(key: str, header: str, what: str, ref: str | None = None, width: int = 16) -> Column:
    return Column(key, header, Kind.ID, what, ref=ref, required=True, width=width)


def _name(width: int = 28) -> Column:
    return Column("name", "Name", Kind.TEXT, "A readable name (optional).", width=width)


def _money(key: str, header: str, what: str, required: bool = False) -> Column:
    return Column(
        key, header, Kind.MONEY, what + " In pounds, at most 2 decimals.", required=required
    )


def _share(key: str, header: str, what: str) -> Column:
    return Column(key, header, Kind.SHARE, what + " A fraction from 0 to 1 (0.05 = 5%).")


def _ids(key: str, header: str, what: str, required: bool = False, width: int = 22) -> Column:
    return Column(
        key, header, Kind.IDS, what + " Comma-separated ids.", required=required, width=width
    )


# fmt: off
_SOFT = (
    Column("hard", "Hard (TRUE/FALSE)", Kind.BOOL, "TRUE (default): must hold. FALSE: may be broken at a penalty.", choices=BOOLS),
    Column("penalty_per_gbp", "Penalty per £ (value units)", Kind.FLOAT, "For soft rules: penalty per £ of breach (default 1)."),
)

SHEETS: tuple[Sheet, ...] = (
    Sheet("Systems", "Integrated care systems (one row each).", (
        _id("system_id", "System id", "Unique id of the system, e.g. S1."), _name(),
    ), ("S1", "Tiny ICS"), required=True),
    Sheet("Places", "Places (boroughs, districts) and the system each belongs to.", (
        _id("place_id", "Place id", "Unique id of the place."),
        _id("system_id", "System id", "The system the place is in (a Systems id).", ref="Systems"),
        _name(),
        _money("baseline_pence", "Baseline (£)", "Last year's allocation to the place (optional; used by place pace of change)."),
    ), ("P1", "S1", "Northtown", "4,700,000.00"), required=True),
    Sheet("Neighbourhoods", "Neighbourhoods (primary care networks) and their place.", (
        _id("neighbourhood_id", "Neighbourhood id", "Unique id of the neighbourhood."),
        _id("place_id", "Place id", "The place it is in (a Places id).", ref="Places"),
        _name(),
    ), ("N1", "P1", "Northtown PCN"), required=True),
    Sheet("Segments", "Population segments by need, with their relative cost per head.", (
        _id("segment_id", "Segment id", "Unique id of the segment."),
        _name(),
        Column("cost_weight", "Cost weight (×)", Kind.FLOAT, "Relative cost per head (healthy = 1.0). More than 0.", required=True),
    ), ("frail", "Frailty", "5.0"), required=True),
    Sheet("Populations", "Registered headcount of each segment in each neighbourhood (one row per pair).", (
        _id("neighbourhood_id", "Neighbourhood id", "A Neighbourhoods id.", ref="Neighbourhoods"),
        _id("segment_id", "Segment id", "A Segments id.", ref="Segments"),
        Column("headcount", "Headcount (people)", Kind.FLOAT, "People registered; 0 or more (may be fractional).", required=True),
    ), ("N1", "frail", "400"), required=True),
    Sheet("LocalAdjustments", "Multiplicative adjustments to a neighbourhood's weighted population (several multiply).", (
        _id("neighbourhood_id", "Neighbourhood id", "A Neighbourhoods id.", ref="Neighbourhoods"),
        Column("factor", "Factor (×)", Kind.FLOAT, "Multiplier, e.g. 1.04 for a market-forces factor. More than 0.", required=True),
        Column("reason", "Reason", Kind.TEXT, "Why (optional).", width=28),
    ), ("N2", "1.2", "inequalities uplift")),
    Sheet("DemandGrowth", "Expected growth in demand per segment (used by sweeps and plans).", (
        _id("segment_id", "Segment id", "A Segments id.", ref="Segments"),
        Column("growth_share", "Growth (share, 0.03 = +3%)", Kind.FLOAT, "Growth as a fraction, from -1 to 10.", required=True),
    ), ("frail", "0.04")),
    Sheet("Funders", "Sources of money and what each brings.", (
        _id("funder_id", "Funder id", "Unique id of the funder."),
        _name(),
        Column("kind", "Funder kind", Kind.ENUM, "What kind of money this is.", choices=FUNDER_KINDS, width=22),
        _money("amount_pence", "Amount (£)", "What the funder brings this year.", required=True),
        _money("last_year_recurrent_pence", "Last year's recurrent (£)", "Last year's recurrent allocation (give both recurrent figures or neither)."),
        _money("recurrent_pence", "Recurrent (£)", "This year's recurrent allocation: a minimum spend may grow at recurrent ÷ last year's recurrent."),
    ), ("NHS", "NHS allocation", "nhs_allocation", "10,000,000.00"), required=True),
    Sheet("PassThrough", "Money a funder passes straight to a provider, outside the capitated pot.", (
        _id("funder_id", "Funder id", "A Funders id.", ref="Funders"),
        _id("provider_id", "Provider id", "A Providers id.", ref="Providers"),
        Column("segment_id", "Segment id", Kind.ID, "Segment the money is for; blank spreads it over the provider's segments.", ref="Segments"),
        _money("amount_pence", "Amount (£)", "Amount passed through.", required=True),
    ), ("NHS", "G1", "", "50,000.00")),
    Sheet("RingFences", "Limits on what a funder's pooled money may fund (blank lists: no limit).", (
        _id("ringfence_id", "Ring-fence id", "Unique id of the ring-fence."),
        _id("funder_id", "Funder id", "The funder whose money is fenced (a Funders id).", ref="Funders"),
        _name(),
        _ids("segment_ids", "Segment ids", "Segments the money may fund."),
        Column("provider_kinds", "Provider kinds", Kind.ENUMS, "Kinds of provider the money may fund. Comma-separated: " + ", ".join(PROVIDER_KINDS) + ".", choices=PROVIDER_KINDS, width=22),
        _ids("provider_ids", "Provider ids", "Providers the money may fund."),
    ), ("LA-sc", "LA", "Council money: social care only", "", "social_care", "")),
    Sheet("MinimumSpends", "At least a minimum must be spent on matching uses (blank filters match everything).", (
        _id("rule_id", "Rule id", "Unique id of the rule."),
        _name(),
        Column("provider_kinds", "Provider kinds", Kind.ENUMS, "Kinds of provider whose spend counts. Comma-separated.", choices=PROVIDER_KINDS, width=22),
        _ids("provider_ids", "Provider ids", "Providers whose spend counts."),
        _ids("segment_ids", "Segment ids", "Segments whose spend counts."),
        _ids("place_ids", "Place ids", "Places whose spend counts."),
        _ids("funder_ids", "Funder ids", "Count only these funders' money."),
        _money("minimum_pence", "Minimum (£)", "The minimum. Give this or a baseline, not both."),
        _money("baseline_pence", "Baseline (£)", "Last year's spend; the minimum is baseline × (1 + growth), rounded up."),
        Column("min_growth_share", "Minimum growth (share)", Kind.FLOAT, "Growth over the baseline as a fraction (0.05 = 5%)."),
        Column("growth_from_recurrent", "Growth from recurrent of", Kind.ID, "A Funders id: the baseline grows at that funder's recurrent growth instead of the minimum growth (the mental health investment standard).", ref="Funders", width=16),
        *_SOFT,
    ), ("MHIS", "Mental health investment standard", "mental_health", "", "", "", "", "", "3,000,000.00", "0.05", "", "TRUE", "1")),
    Sheet("Providers", "Providers, what they serve, their money limits and how they are paid.", (
        _id("provider_id", "Provider id", "Unique id of the provider."),
        _name(),
        Column("kind", "Provider kind", Kind.ENUM, "What kind of provider.", choices=PROVIDER_KINDS, required=True, width=20),
        _ids("place_ids", "Place ids", "Places it serves (at least one).", required=True),
        _ids("segment_ids", "Segment ids", "Segments it serves (at least one).", required=True),
        _money("baseline_pence", "Baseline (£)", "Last year's budget.", required=True),
        _money("capacity_pence", "Capacity (£)", "The largest budget it can use (blank: no limit)."),
        _money("fixed_costs_pence", "Fixed costs (£)", "If funded at all it needs at least this (blank: 0)."),
        _money("risk_appetite_pence", "Risk appetite (£)", "Largest expected loss in the worst 5% it accepts (blank: none)."),
        Column("risk_share_agreement_id", "Risk-share agreement id", Kind.ID, "Its agreement (a RiskShareAgreements id), or blank.", ref="RiskShareAgreements", width=20),
        Column("payment.kind", "Payment kind", Kind.ENUM, "capitated (default), block, activity or blended. Fill only the payment columns of that kind.", choices=PAYMENT_KINDS),
        _money("payment.amount_pence", "Block amount (£)", "Block only: the fixed sum (blank: the baseline)."),
        _money("payment.unit_price_pence", "Unit price (£)", "Activity and blended: price per unit of activity."),
        Column("payment.planned_volume", "Planned volume (units)", Kind.FLOAT, "Activity and blended: planned units of activity."),
        Column("payment.max_volume", "Max volume (units)", Kind.FLOAT, "Activity only: most units it can deliver (blank: no limit)."),
        _money("payment.fixed_pence", "Fixed part (£)", "Blended only: the fixed part of the payment."),
        _share("payment.variable_rate_share", "Variable rate (0–1)", "Blended only: share of unit price paid away from plan (default 0.2)."),
        Column("payment.two_sided", "Two-sided (TRUE/FALSE)", Kind.BOOL, "Blended only: TRUE (default) pays the variable rate below plan too.", choices=BOOLS),
    ), ("G1", "Northtown GPs", "general_practice", "P1", "well", "4,000,000.00", "", "", "", "", "capitated"), required=True),
    Sheet("Schemes", "Schemes funded whole or in whole staffed units (e.g. a frailty hub).", (
        _id("scheme_id", "Scheme id", "Unique id of the scheme."),
        _name(),
        _id("provider_id", "Provider id", "Who runs it (a Providers id).", ref="Providers"),
        _id("place_id", "Place id", "Where (a Places id the provider serves).", ref="Places"),
        _id("segment_id", "Segment id", "For whom (a Segments id the provider serves).", ref="Segments"),
        _money("cost_per_unit_pence", "Cost per unit (£)", "Cost of one unit.", required=True),
        Column("value_per_unit", "Value per unit (value units)", Kind.FLOAT, "Value (e.g. QALYs) per unit.", required=True),
        Column("max_units", "Max units", Kind.INT, "Most units (1 = whole or nothing; default 1)."),
        Column("min_units", "Min units", Kind.INT, "Fewest units (1 or more makes it required; default 0)."),
    ), ("hub", "Frailty hub", "C", "P1", "frail", "300,000.00", "10", "1", "0")),
    Sheet("PaceOfChange", "How far budgets may move from baseline (providers, or places against target).", (
        _id("rule_id", "Rule id", "Unique id of the rule."),
        _name(),
        Column("level", "Level", Kind.ENUM, "provider (default) or place.", choices=("provider", "place")),
        Column("form", "Form", Kind.ENUM, "floor_and_cap (default) or convergence (places only).", choices=_values(PaceForm)),
        Column("floor_growth_share", "Floor growth (share)", Kind.FLOAT, "Least growth as a fraction (0 = no cut, -0.02 = at most 2% cut)."),
        Column("cap_growth_share", "Cap growth (share)", Kind.FLOAT, "Most growth as a fraction (0.1 = +10%)."),
        _share("cap_over_target_share", "Cap only if over target by (share)", "Places only: the cap applies to places this far over target."),
        _share("convergence_share", "Convergence (share of excess)", "Convergence form: share of the excess over target removed."),
        _share("below_target_band_share", "Lift to within (share of target)", "Places only: places further below target are lifted to within this band."),
        _ids("provider_ids", "Provider ids", "Providers it applies to (blank: all)."),
        *_SOFT,
    ), ("pace", "No cut, at most +10%", "provider", "floor_and_cap", "0", "0.1")),
    Sheet("FairShares", "Fair-share rules: keep units within a band of target, or converge.", (
        _id("rule_id", "Rule id", "Unique id of the rule."),
        _name(),
        Column("level", "Level", Kind.ENUM, "place (default), neighbourhood or system.", choices=("place", "neighbourhood", "system")),
        Column("form", "Form", Kind.ENUM, "converge (default) or band.", choices=_values(FairShareForm)),
        _share("band_share", "Band (share of target)", "Band form: largest distance from target."),
        *_SOFT,
    ), ("converge", "Converge places", "place", "converge")),
    Sheet("ValueCurves", "Value of spend per head: one row per point of each segment × provider-kind curve (concave).", (
        _id("segment_id", "Segment id", "A Segments id.", ref="Segments"),
        Column("provider_kind", "Provider kind", Kind.ENUM, "Kind of provider the curve is for.", choices=PROVIDER_KINDS, required=True, width=20),
        _money("spend_per_head_pence", "Spend per head (£)", "Spend per head at this point; rising point to point.", required=True),
        Column("value_per_head", "Value per head (value units)", Kind.FLOAT, "Value per head at this point (e.g. QALYs); not falling.", required=True),
    ), ("frail", "social_care", "1,500.00", "0.15")),
    Sheet("RiskShareAgreements", "Risk-share agreements: how variance is split with the pool.", (
        _id("agreement_id", "Agreement id", "Unique id of the agreement."),
        _name(),
        Column("profile", "Profile", Kind.ENUM, "bands (default) or pooled_pro_rata.", choices=_values(RiskShareProfile), width=18),
        _money("loss_cap_pence", "Loss cap (£)", "Most the provider can lose in total (blank: none)."),
        _money("gain_cap_pence", "Gain cap (£)", "Most the provider can gain in total (blank: none)."),
    ), ("RS1", "Standard", "bands", "1,000,000.00", "")),
    Sheet("RiskShareBands", "Variance bands of each agreement: one row per band, in order from zero outwards.", (
        _id("agreement_id", "Agreement id", "A RiskShareAgreements id.", ref="RiskShareAgreements"),
        Column("side", "Side", Kind.ENUM, "overspend or underspend.", choices=SIDES, required=True),
        Column("order", "Order", Kind.INT, "1 for the band nearest zero variance, then 2, 3, ..."),
        _money("width_pence", "Width (£, blank = unbounded)", "Width of the band; only the last may be blank."),
        _share("provider_share", "Provider share (0–1)", "Provider's share of variance in this band."),
    ), ("RS1", "overspend", "1", "500,000.00", "1.0")),
    Sheet("PooledPartners", "Partners of each pooled budget (pooled_pro_rata agreements): one row per partner; none listed means every funder, with its pooled money.", (
        _id("agreement_id", "Agreement id", "A RiskShareAgreements id whose profile is pooled_pro_rata.", ref="RiskShareAgreements"),
        _id("funder_id", "Funder id", "The partner (a Funders id).", ref="Funders"),
        _money("contribution_pence", "Contribution (£)", "What the partner puts into the pooled budget: its share of the variance is in proportion, capped at this.", required=True),
    ), ("S75", "LA", "10,000,000.00")),
    Sheet("SegmentVolatility", "Outturn volatility overrides per segment (one standard deviation, share of budget).", (
        _id("segment_id", "Segment id", "A Segments id.", ref="Segments"),
        _share("sd_share", "Standard deviation (0–1)", "Segment demand shock, as a share of budget."),
    ), ("frail", "0.05")),
)
# fmt: on
"""The data sheets, in workbook order (after README and Scenario)."""

SCENARIO_SHEET = "Scenario"
README_SHEET = "README"


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    kind: Kind
    comment: str
    choices: tuple[str, ...] = ()

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))


# fmt: off
SETTINGS: tuple[Setting, ...] = (
    Setting("scenario_id", "Scenario id", Kind.ID, "Unique id of the scenario (required)."),
    Setting("name", "Name", Kind.TEXT, "A readable name."),
    Setting("financial_year", "Financial year", Kind.TEXT, "e.g. 2025/26."),
    Setting("description", "Description", Kind.TEXT, "What the scenario is for."),
    Setting("schema_version", "Schema version", Kind.TEXT, "Leave as 1."),
    Setting("reserve.share", "Reserve (share of pooled money, 0–1)", Kind.SHARE, "Contingency reserve as a share of pooled money. Give this or an amount."),
    Setting("reserve.amount_pence", "Reserve (£)", Kind.MONEY, "Contingency reserve as an amount in pounds. Give this or a share."),
    Setting("small_contract_threshold_pence", "Small-contract threshold (£)", Kind.MONEY, "Activity and blended contracts with a baseline of this or less are paid as block (default £500,000)."),
    Setting("objective.kind", "Objective", Kind.ENUM, "lexicographic (default) or weighted.", _values(ObjectiveKind)),
    Setting("objective.stages", "Objective stages (in order)", Kind.ENUMS, "Comma-separated: fairness, value, stability.", _values(ObjectiveStage)),
    Setting("objective.weights.fairness_per_gbp_shortfall", "Weight: fairness (per £ shortfall)", Kind.FLOAT, "Weighted objective only."),
    Setting("objective.weights.value", "Weight: value", Kind.FLOAT, "Weighted objective only."),
    Setting("objective.weights.stability_per_gbp_change", "Weight: stability (per £ change)", Kind.FLOAT, "Weighted objective only."),
    Setting("objective.stage_tolerance_share", "Stage tolerance (share)", Kind.SHARE, "How far a later stage may worsen an earlier stage's optimum."),
    Setting("objective.reference_rate", "Reference rate", Kind.ENUM, "What a unit of value is worth: " + ", ".join(_values(ReferenceRate)) + ".", _values(ReferenceRate)),
    Setting("objective.gbp_per_value_unit", "£ per value unit", Kind.FLOAT, "Overrides the reference rate (e.g. £ per QALY)."),
    Setting("objective.fairness_level", "Fairness level", Kind.ENUM, "Units whose shortfall below target counts: place, neighbourhood or system.", ("place", "neighbourhood", "system")),
    Setting("objective.mip_gap_share", "MIP gap (share)", Kind.SHARE, "Relative optimality gap for whole-unit decisions."),
    Setting("objective.time_limit_s", "Time limit (seconds)", Kind.FLOAT, "Per solver stage (blank: none)."),
    Setting("outturn.system_shock_sd_share", "Volatility: system shock (share)", Kind.SHARE, "One standard deviation, as a share of budget."),
    Setting("outturn.segment_shock_sd_share", "Volatility: segment shock (share)", Kind.SHARE, "One standard deviation, as a share of budget."),
    Setting("outturn.segment_correlation", "Segment correlation (-0.1 to 1)", Kind.FLOAT, "Correlation between segment shocks."),
    Setting("outturn.provider_noise_sd_share", "Volatility: provider noise (share)", Kind.SHARE, "One standard deviation, as a share of budget."),
    Setting("outturn.breakeven", "Breakeven level", Kind.ENUM, "system or organisation.", _values(BreakevenLevel)),
)

# fmt: on

SETTING_COLUMNS = (
    Column(
        "key", "Key", Kind.TEXT, "The setting's name in the scenario file; do not change.", width=44
    ),
    Column("label", "Setting", Kind.TEXT, "What the setting is.", width=40),
    Column("value", "Value", Kind.TEXT, "Fill in or change this column.", width=30),
    Column("notes", "Notes", Kind.TEXT, "Units and meaning.", width=70),
)

SHEET_BY_NAME = {sheet.name: sheet for sheet in SHEETS}
REQUIRED_SHEETS = (SCENARIO_SHEET, *(sheet.name for sheet in SHEETS if sheet.required))

# Where each document table lives (tables nested in another table's rows are on their own sheet).
TABLE_SHEETS: dict[str, str] = {
    "systems": "Systems",
    "places": "Places",
    "neighbourhoods": "Neighbourhoods",
    "segments": "Segments",
    "populations": "Populations",
    "local_adjustments": "LocalAdjustments",
    "demand_growth": "DemandGrowth",
    "funders": "Funders",
    "ring_fences": "RingFences",
    "minimum_spends": "MinimumSpends",
    "providers": "Providers",
    "schemes": "Schemes",
    "pace_of_change": "PaceOfChange",
    "fair_shares": "FairShares",
    "value_curves": "ValueCurves",
    "risk_share_agreements": "RiskShareAgreements",
}


def normalise(text: str) -> str:
    """Header and sheet names compare without case, spaces, '_' or '-'."""
    return "".join(ch for ch in text.lower() if ch not in " _-\u00a0\t\n")


NESTED_SHEETS = (
    "PassThrough",
    "ValueCurves",
    "RiskShareBands",
    "PooledPartners",
    "SegmentVolatility",
)
"""Sheets whose rows live inside other rows of the document (one row per nested item)."""
SHEET_TABLES = {sheet: table for table, sheet in TABLE_SHEETS.items()}
