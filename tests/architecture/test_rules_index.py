"""docs/rules.md: every rule of the spec has an entry, and every path and symbol it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INDEX = ROOT / "docs" / "rules.md"
CODE_ROOTS = ("allocator/", "api/", "cli/", "models/", "tests/")
FIELDS = (
    "Schema",
    "Validation",
    "Formulation",
    "Relaxation",
    "Re-check on published pence",
    "Tests",
)

# The spec's rules (sections 2-5), by the names finance teams use: each needs an entry.
RULES = (
    "Conservation (pool in = out)",
    "Contingency reserve",
    "Pass-through",
    "Ring-fences",
    "Mental health investment standard (MHIS)",
    "Better care fund (BCF) minimum",
    "Other minimum spends",
    "ARRS-style use-it-or-lose-it entitlements",
    "Capacity",
    "Viability (fixed costs)",
    "Payment: capitated budget",
    "Payment: block",
    "Payment: activity-based",
    "Payment: blended / aligned payment",
    "Payment: small contracts paid as block",
    "Pace of change: floor-and-cap form",
    "Pace of change: convergence form",
    "Pace of change: below-target band guarantee",
    "Pace of change: place vs provider level",
    "Fair-share targets (weighted capitation)",
    "Fair-share bands",
    "Fairness (max-min on distance from target, then sum of shortfalls)",
    "Value curves and reference rates",
    "Stability",
    "Whole-or-nothing schemes and staffed units",
    "Soft rules and penalties",
    "Risk-share bands and caps",
    "Pooled-budget profile",
    "CVaR limits (risk-aware allocation)",
)


def references(text: str) -> list[str]:
    """Every backticked reference into the code: ``path`` or ``path::symbol``."""
    spans = re.findall(r"`([^`\n]+)`", text)
    return [span for span in spans if span.startswith(CODE_ROOTS)]


def _defines(source: str, name: str) -> bool:
    pattern = rf"^[ \t]*(?:(?:async[ \t]+)?def|class)[ \t]+{re.escape(name)}\b|^[ \t]*{re.escape(name)}[ \t]*[:=]"
    return re.search(pattern, source, re.MULTILINE) is not None


def reference_problem(root: Path, reference: str) -> str | None:
    """Why a reference does not resolve (None: it does).

    ``path::Class.member`` needs the class and, after it, the member (a method, attribute
    or field); a plain symbol needs ``def``, ``class``, ``symbol =`` or ``symbol:``.
    """
    path, _, symbol = reference.partition("::")
    target = root / path
    if path.endswith("/"):
        return None if target.is_dir() else f"{reference}: no directory {path}"
    if not target.is_file():
        return f"{reference}: no file {path}"
    if not symbol:
        return None
    source = target.read_text(encoding="utf-8")
    for part in symbol.split("."):
        if not _defines(source, part):
            return f"{reference}: {part!r} is not defined in {path}"
        start = re.search(
            rf"^[ \t]*(?:(?:async[ \t]+)?def|class)[ \t]+{re.escape(part)}\b", source, re.MULTILINE
        )
        if start is not None:
            source = source[start.start() :]
    return None


def sections(text: str) -> dict[str, str]:
    """Each ``### heading`` and the text under it, up to the next heading."""
    parts = re.split(r"^(#{2,3}) (.+)$", text, flags=re.MULTILINE)
    out: dict[str, str] = {}
    for k in range(1, len(parts) - 2, 3):
        if parts[k] == "###":
            out[parts[k + 1].strip()] = parts[k + 2]
    return out


def test_the_index_names_enough_code_to_be_checked() -> None:
    refs = references(INDEX.read_text(encoding="utf-8"))
    assert len(refs) > 100
    assert any("::test_" in ref for ref in refs)


def test_every_path_and_symbol_in_the_index_exists() -> None:
    problems = [
        problem
        for ref in dict.fromkeys(references(INDEX.read_text(encoding="utf-8")))
        if (problem := reference_problem(ROOT, ref)) is not None
    ]
    assert problems == []


def test_every_rule_of_the_spec_has_an_entry_with_every_field() -> None:
    entries = sections(INDEX.read_text(encoding="utf-8"))
    missing = [rule for rule in RULES if rule not in entries]
    assert missing == []
    for rule in RULES:
        body = entries[rule]
        absent = [field for field in FIELDS if f"**{field}:**" not in body]
        assert absent == [], (rule, absent)


def test_a_planted_wrong_reference_is_reported() -> None:
    text = (
        "`allocator/formulation/minimum_spends.py::build_minimum_spends` "
        "`allocator/formulation/no_such_module.py::build_it` "
        "`models/funding.py::MinimumSpend.no_such_field` "
        "`tests/architecture/test_rules_index.py::test_no_such_test` block `minspend.<rule_id>`"
    )
    problems = [reference_problem(ROOT, ref) for ref in references(text)]
    assert problems[0] is None
    assert problems[1] is not None and "no file" in problems[1]
    assert problems[2] is not None and "no_such_field" in problems[2]
    assert problems[3] is not None and "test_no_such_test" in problems[3]
    assert len(problems) == 4  # the block name is not a path
