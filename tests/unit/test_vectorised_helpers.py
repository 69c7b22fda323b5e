"""The array helpers behind the vectorised build and publish: same answers as the plain ways."""

from __future__ import annotations

import doctest
from typing import Any

import numpy as np
import pandas as pd
import pytest

import allocator.domain.arrays
import allocator.formulation.index
from allocator.domain.arrays import items_of_groups
from allocator.domain.value_curves import curve_values
from allocator.formulation.index import BlockIndex, Labels
from models import ValueCurve


@pytest.mark.parametrize("module", [allocator.domain.arrays, allocator.formulation.index])
def test_doctests(module: Any) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_items_of_groups_pairs_every_item_of_every_chosen_group() -> None:
    rng = np.random.default_rng(7)
    group_of_item = rng.integers(0, 6, 40)
    chosen = rng.integers(0, 6, 15)
    k, item = items_of_groups(group_of_item, 6, chosen)
    expected = [(j, i) for j, g in enumerate(chosen) for i in np.flatnonzero(group_of_item == g)]
    assert list(zip(k.tolist(), item.tolist(), strict=True)) == expected


def test_labels_become_the_same_table_a_dataframe_would_be() -> None:
    ids = np.array(["p1", "p2", "p3"], dtype=object)
    labels = Labels.of(provider_id=ids, rule_id="floor")
    expected = pd.DataFrame({"provider_id": ids, "rule_id": "floor"})
    pd.testing.assert_frame_equal(labels.frame(), expected)
    pd.testing.assert_frame_equal(
        labels.take(np.array([True, False, True])).frame(),
        expected[[True, False, True]].reset_index(drop=True),
    )
    assert "rule_id" in labels and labels["provider_id"][1] == "p2" and len(labels) == 3


def test_blocks_accept_dataframes_and_build_label_tables_only_when_read() -> None:
    index = BlockIndex()
    index.add("a", Labels.of(unit_id=["x", "y"]))
    block = index.add("b", pd.DataFrame({"draw": [0, 1, 2]}))
    assert (block.start, block.stop) == (2, 5)
    assert "labels" not in vars(block)  # not built yet
    assert block.labels["draw"].tolist() == [0, 1, 2]
    assert index.add("c", pd.DataFrame(index=range(4))).size == 4  # no columns, four rows


def test_curve_values_are_np_interp_exactly() -> None:
    curve = ValueCurve.model_validate(
        {
            "segment_id": "frailty",
            "provider_kind": "community",
            "points": [
                {"spend_per_head_pence": 100_000, "value_per_head": 0.3},
                {"spend_per_head_pence": 250_000, "value_per_head": 0.5},
                {"spend_per_head_pence": 400_000, "value_per_head": 0.6},
            ],
        }
    )
    rng = np.random.default_rng(3)
    heads = rng.uniform(1.0, 5e4, 200)
    spend = np.floor(rng.uniform(0.0, 5e5, 200) * heads)
    spend[:3] = [0.0, 100_000 * heads[1], 400_000 * heads[2]]  # on the points themselves
    got = curve_values(curve, spend, heads)
    for k in range(heads.size):
        xs = np.array([0.0, 100_000, 250_000, 400_000]) * heads[k]
        ys = np.array([0.0, 0.3, 0.5, 0.6]) * heads[k]
        assert got[k] == float(np.interp(spend[k], xs, ys))
