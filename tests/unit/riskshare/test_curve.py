"""Sharing curves for the optimiser: the same arithmetic as the exact split, and majorants
that are convex, never below the curve, and tight where they are taken."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from allocator.riskshare.agreements import provider_share
from allocator.riskshare.curve import Curve, agreement_curve, majorant
from models.enums import RiskShareProfile
from models.risk import RiskShareAgreement, VarianceBand

M = 100_000_000

shares = st.sampled_from([0.0, 0.2, 0.25, 0.5, 0.75, 1.0])


@st.composite
def band_lists(draw: st.DrawFn) -> tuple[VarianceBand, ...]:
    count = draw(st.integers(0, 3))
    bands = [
        VarianceBand(width_pence=draw(st.integers(1, 5 * M)), provider_share=draw(shares))
        for _ in range(count)
    ]
    if draw(st.booleans()):
        bands.append(VarianceBand(provider_share=draw(shares)))
    return tuple(bands)


@st.composite
def agreements(draw: st.DrawFn) -> RiskShareAgreement:
    return RiskShareAgreement(
        agreement_id="a",
        overspend_bands=draw(band_lists()),
        underspend_bands=draw(band_lists()),
        loss_cap_pence=draw(st.none() | st.integers(0, 8 * M)),
        gain_cap_pence=draw(st.none() | st.integers(0, 8 * M)),
    )


variances = st.lists(st.integers(-20 * M, 20 * M), min_size=1, max_size=20)


@given(agreements(), variances)
def test_the_curve_is_the_exact_split_before_rounding(
    agreement: RiskShareAgreement, values: list[int]
) -> None:
    v = np.array(values, dtype=np.int64)
    exact, _ = provider_share(v, agreement)
    bands = len(agreement.overspend_bands) + len(agreement.underspend_bands)
    assert np.all(np.abs(agreement_curve(agreement)(v) - exact) <= 0.5 * bands + 1e-6)


@given(agreements(), variances, st.lists(st.integers(-20 * M, 20 * M), min_size=1, max_size=5))
def test_majorants_lie_above_and_touch_at_their_point(
    agreement: RiskShareAgreement, values: list[int], points: list[int]
) -> None:
    for curve in (agreement_curve(agreement), agreement_curve(agreement).complement()):
        at = np.array([-np.inf, np.inf, *points], dtype=np.float64)
        slopes, intercepts = majorant(curve, at)
        r = np.array(values, dtype=np.float64)
        above = (slopes[:, :, None] * r + intercepts[:, :, None]).max(axis=0)  # (points, r)
        tolerance = 1e-6 * (1.0 + np.abs(r))
        assert np.all(above >= curve(r) - tolerance)
        finite = np.array(points, dtype=np.float64)
        touch = (slopes[:, 2:] * finite + intercepts[:, 2:]).max(axis=0)
        assert np.allclose(touch, curve(finite), rtol=0, atol=1e-6 * (1 + np.abs(finite).max()))
        if curve.is_convex:  # nothing to approximate: the lines are the curve's own pieces
            assert np.allclose(above, curve(r)[None, :], atol=1e-6 * (1 + np.abs(r).max()))


def test_corridor_with_a_cap_is_s_shaped_and_its_start_ignores_the_relief() -> None:
    corridor = RiskShareAgreement(
        agreement_id="c",
        overspend_bands=(
            VarianceBand(width_pence=2 * M, provider_share=1.0),
            VarianceBand(provider_share=0.5),
        ),
        underspend_bands=(VarianceBand(provider_share=0.5),),
        loss_cap_pence=4 * M,
    )
    curve = agreement_curve(corridor)
    assert curve.breaks.tolist() == [0.0, 2 * M, 6 * M]
    assert curve.slopes.tolist() == [0.5, 1.0, 0.5, 0.0]
    assert not curve.is_convex
    # From the start (−∞) the provider is held to the highest share so far, 100%, uncapped.
    slopes, intercepts = majorant(curve, np.array([-np.inf]))
    r = np.array([-4 * M, 3 * M, 10 * M], dtype=np.float64)
    assert (slopes * r[None, :] + intercepts).max(axis=0).tolist() == [-2 * M, 3 * M, 10 * M]
    # The pool's part r − f(r) from the far end (+∞) is exact beyond the cap.
    pool = curve.complement()
    slopes, intercepts = majorant(pool, np.array([np.inf]))
    far = np.array([20 * M], dtype=np.float64)
    assert (slopes * far + intercepts).max(axis=0).tolist() == pool(far).tolist()


def test_no_agreement_and_pooled_budgets() -> None:
    assert agreement_curve(None).slopes.tolist() == [1.0]
    pooled = RiskShareAgreement(agreement_id="p", profile=RiskShareProfile.POOLED_PRO_RATA)
    assert agreement_curve(pooled).slopes.tolist() == [0.0]
    assert Curve(np.zeros(0), np.ones(1)).complement().slopes.tolist() == [0.0]
