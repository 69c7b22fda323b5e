"""What the `check_*` functions share: the parse context, id look-ups and issue wording."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from allocator.errors import Issue
from models import Scenario

WARNING = "warning"
"""Issue code of findings that do not block a solve (the solver reports and explains them)."""

UNREADABLE = "unreadable"
"""Issue code when the file itself cannot be read: missing, a folder, an unknown type, not a
workbook at all. Such a file has no content to locate problems in."""

# Document table -> the id field of its rows (tables whose rows have one).
ID_FIELDS: dict[str, str] = {
    "systems": "system_id",
    "places": "place_id",
    "neighbourhoods": "neighbourhood_id",
    "segments": "segment_id",
    "funders": "funder_id",
    "providers": "provider_id",
    "schemes": "scheme_id",
    "ring_fences": "ringfence_id",
    "minimum_spends": "rule_id",
    "pace_of_change": "rule_id",
    "fair_shares": "rule_id",
    "risk_share_agreements": "agreement_id",
}

NOUNS: dict[str, str] = {
    "systems": "system",
    "places": "place",
    "neighbourhoods": "neighbourhood",
    "segments": "segment",
    "funders": "funder",
    "providers": "provider",
    "schemes": "scheme",
    "ring_fences": "ring-fence",
    "minimum_spends": "minimum-spend rule",
    "pace_of_change": "pace-of-change rule",
    "fair_shares": "fair-share rule",
    "risk_share_agreements": "risk-share agreement",
}


@dataclass(frozen=True)
class ParseContext:
    """What a lenient parse left out, so semantic checks neither cascade nor mislocate.

    ``positions[table][i]`` is the row of the original document that parsed row ``i`` came
    from; ``failed_ids[table]`` maps ids of rows that failed to parse to their original
    row (references to them are not "unknown"); ``incomplete`` names tables that lost
    rows, whose coverage checks would be unreliable and are skipped.
    """

    positions: Mapping[str, Sequence[int]] = field(default_factory=dict)
    failed_ids: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    incomplete: frozenset[str] = frozenset()

    def pos(self, table: str, index: int) -> int:
        """The original row number of parsed row ``index`` of ``table``."""
        rows = self.positions.get(table)
        return rows[index] if rows is not None and index < len(rows) else index


EMPTY_CONTEXT = ParseContext()


class Known:
    """Ids of every table (including rows that failed to parse) for reference checks."""

    def __init__(self, scenario: Scenario, ctx: ParseContext) -> None:
        self.ids: dict[str, set[str]] = {}
        for table, id_field in ID_FIELDS.items():
            rows = getattr(scenario, table)
            ids = {str(getattr(row, id_field)) for row in rows}
            ids.update(ctx.failed_ids.get(table, {}))
            self.ids[table] = ids

    def unknown(self, table: str, ref: str) -> str | None:
        """None when ``ref`` is a known id of ``table``, else the message saying so."""
        if ref in self.ids[table]:
            return None
        return unknown_message(NOUNS[table], ref, self.ids[table])


def unknown_message(noun: str, ref: str, known: Iterable[str]) -> str:
    """``unknown place 'P9'; did you mean 'P1'?`` (or the known ids when few)."""
    options = sorted(known)
    close = difflib.get_close_matches(ref, options, n=1, cutoff=0.6)
    if close:
        hint = f"; did you mean {close[0]!r}?"
    elif not options:
        hint = f"; there are no {noun}s"
    elif len(options) <= 8:
        hint = "; known: " + ", ".join(options)
    else:
        hint = f"; it is not among the {len(options)} {noun}s"
    return f"unknown {noun} {ref!r}{hint}"


def blocking_issue(loc: tuple[str | int, ...], message: str) -> Issue:
    return Issue(loc=loc, message=message)


def warning_issue(loc: tuple[str | int, ...], message: str) -> Issue:
    return Issue(loc=loc, message=message, code=WARNING)


def id_list(ids: Iterable[str]) -> str:
    return ", ".join(repr(i) for i in ids)
