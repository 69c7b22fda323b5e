"""The README sheet's text, generated from the layout so it never drifts from the columns."""

from __future__ import annotations

from allocator.io.excel_layout import SETTINGS, SHEETS, Kind

INTRO = (
    "How to fill in this workbook",
    "Each sheet is one table of the scenario. Row 1 holds the headers (hover over a header for "
    "its meaning); fill one row per item from row 2. Empty rows are skipped. Blank cells take "
    "the default. Do not rename sheets or headers; extra sheets and columns are ignored (with "
    "a warning).",
    "Money is in POUNDS with at most 2 decimal places (e.g. 1234.56), in every column whose "
    "header says (£). It is converted exactly to whole pence when read: 1234.56 is 123,456 "
    "pence. An amount with more decimals (1234.567) is rejected, never rounded silently.",
    "Shares are fractions from 0 to 1: 0.05 means 5%. Growth shares may be negative "
    "(-0.02 is a 2% cut). Multipliers (×) are plain numbers such as 1.04.",
    "Lists in one cell (a provider's places, say) are comma-separated: P1, P2.",
    "Ids use letters, digits, '_', '-' and '.', start with a letter or digit and have no "
    "spaces. Id columns that refer to another sheet offer a drop-down of that sheet's ids.",
    "TRUE/FALSE columns take TRUE or FALSE. Choice columns offer a drop-down of the allowed "
    "values.",
    "Formulas are not accepted: paste values (Paste Special > Values) before submitting.",
    "Check the workbook with:  allocator validate this-file.xlsx  -- it lists every problem at "
    "once with its sheet and row.",
)


def _units(kind: Kind) -> str:
    return {
        Kind.MONEY: "pounds, 2 decimals",
        Kind.SHARE: "share 0-1",
        Kind.IDS: "comma-separated ids",
        Kind.ENUMS: "comma-separated choices",
        Kind.BOOL: "TRUE/FALSE",
        Kind.INT: "whole number",
        Kind.FLOAT: "number",
        Kind.ENUM: "choice",
        Kind.ID: "id",
        Kind.TEXT: "text",
    }[kind]


def readme_lines() -> list[tuple[str, bool]]:
    """(text, bold) lines of the README sheet."""
    lines: list[tuple[str, bool]] = [("Budget scenario workbook (care-allocator)", True)]
    lines += [(text, index == 0) for index, text in enumerate(INTRO)]
    lines.append(("", False))
    lines.append(("Sheet: Scenario", True))
    lines.append(("Settings of the whole scenario, one per row: fill the Value column.", False))
    for s in SETTINGS:
        lines.append((f"    {s.label} [{_units(s.kind)}]: {s.comment}", False))
    for sheet in SHEETS:
        lines.append(("", False))
        need = " (required: at least one row)" if sheet.required else " (optional)"
        lines.append((f"Sheet: {sheet.name}{need}", True))
        lines.append((sheet.purpose, False))
        for c in sheet.columns:
            need = ", required" if c.required else ""
            lines.append((f"    {c.header} [{_units(c.kind)}{need}]: {c.comment}", False))
        if sheet.example:
            pairs = ", ".join(
                f"{c.header} = {v}" for c, v in zip(sheet.columns, sheet.example, strict=False) if v
            )
            lines.append(("Example row: " + pairs, False))
    return lines
