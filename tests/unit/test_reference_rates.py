"""The reference-rate presets are the published figures (sources in docs/nhs-rules.md)."""

from __future__ import annotations

from models.enums import REFERENCE_RATE_GBP, REFERENCE_RATE_RANGE_GBP, ReferenceRate


def test_nhs_marginal_is_the_claxton_central_estimate() -> None:
    assert REFERENCE_RATE_GBP[ReferenceRate.NHS_MARGINAL] == 12_936.0


def test_nice_presets_carry_their_published_range_ends() -> None:
    assert REFERENCE_RATE_RANGE_GBP[ReferenceRate.NICE_THRESHOLD] == (20_000.0, 30_000.0)
    assert REFERENCE_RATE_RANGE_GBP[ReferenceRate.NICE_MEDICINES_2026] == (25_000.0, 35_000.0)
    for rate, (low, high) in REFERENCE_RATE_RANGE_GBP.items():
        assert low <= REFERENCE_RATE_GBP[rate] <= high
