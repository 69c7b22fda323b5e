"""The scenario as numpy arrays: ids become positions once, here, for every numeric step.

Cells are the finest unit of allocation: one provider, one neighbourhood it serves
(through the neighbourhood's place) and one segment it serves, where the
neighbourhood has people in that segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from allocator.types import BoolArray, FloatArray, IntArray, group_sum
from models import PaymentKind, Scenario


def _positions(ids: list[str]) -> dict[str, int]:
    return {item: position for position, item in enumerate(ids)}


def items_of_groups(
    group_of_item: IntArray, num_groups: int, chosen: IntArray
) -> tuple[IntArray, IntArray]:
    """Every item of every chosen group: ``(k, item)`` with ``group_of_item[item] == chosen[k]``.

    Pairs come in the order of ``chosen``, items in position order within a group; the
    work is the number of pairs returned, whatever the number of groups or items.

    >>> items_of_groups(np.array([1, 0, 1]), 2, np.array([1, 1, 0]))
    (array([0, 0, 1, 1, 2]), array([0, 2, 0, 2, 1]))
    """
    order = np.argsort(group_of_item, kind="stable")
    counts = np.bincount(group_of_item, minlength=num_groups)
    starts = np.cumsum(counts) - counts
    per_chosen = counts[chosen]
    k = np.repeat(np.arange(chosen.size), per_chosen)
    offset = np.arange(k.size) - np.repeat(np.cumsum(per_chosen) - per_chosen, per_chosen)
    return k.astype(np.int64), order[starts[chosen][k] + offset].astype(np.int64)


@dataclass(frozen=True)
class ScenarioArrays:
    scenario: Scenario
    system_ids: list[str]
    place_ids: list[str]
    neighbourhood_ids: list[str]
    segment_ids: list[str]
    funder_ids: list[str]
    provider_ids: list[str]
    place_system: IntArray  # (places,) position of each place's system
    neighbourhood_place: IntArray  # (neighbourhoods,)
    headcount: FloatArray  # (neighbourhoods, segments)
    segment_weight: FloatArray  # (segments,)
    adjustment: FloatArray  # (neighbourhoods,) product of local adjustment factors
    provider_kind: list[str]
    provider_baseline_pence: IntArray
    provider_capacity_pence: FloatArray  # inf where unlimited
    provider_fixed_costs_pence: IntArray
    provider_serves_place: BoolArray  # (providers, places)
    provider_serves_segment: BoolArray  # (providers, segments)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> ScenarioArrays:
        system_ids = [s.system_id for s in scenario.systems]
        place_ids = [p.place_id for p in scenario.places]
        neighbourhood_ids = [n.neighbourhood_id for n in scenario.neighbourhoods]
        segment_ids = [s.segment_id for s in scenario.segments]
        provider_ids = [p.provider_id for p in scenario.providers]
        system_at, place_at = _positions(system_ids), _positions(place_ids)
        neighbourhood_at, segment_at = _positions(neighbourhood_ids), _positions(segment_ids)

        headcount = np.zeros((len(neighbourhood_ids), len(segment_ids)))
        rows = np.array([neighbourhood_at[p.neighbourhood_id] for p in scenario.populations])
        cols = np.array([segment_at[p.segment_id] for p in scenario.populations])
        np.add.at(headcount, (rows, cols), [p.headcount for p in scenario.populations])

        adjustment = np.ones(len(neighbourhood_ids))
        for item in scenario.local_adjustments:
            adjustment[neighbourhood_at[item.neighbourhood_id]] *= item.factor

        serves_place = np.zeros((len(provider_ids), len(place_ids)), dtype=np.bool_)
        serves_segment = np.zeros((len(provider_ids), len(segment_ids)), dtype=np.bool_)
        for k, provider in enumerate(scenario.providers):
            serves_place[k, [place_at[p] for p in provider.place_ids]] = True
            serves_segment[k, [segment_at[s] for s in provider.segment_ids]] = True

        return cls(
            scenario=scenario,
            system_ids=system_ids,
            place_ids=place_ids,
            neighbourhood_ids=neighbourhood_ids,
            segment_ids=segment_ids,
            funder_ids=[f.funder_id for f in scenario.funders],
            provider_ids=provider_ids,
            place_system=np.array(
                [system_at[p.system_id] for p in scenario.places], dtype=np.int64
            ),
            neighbourhood_place=np.array(
                [place_at[n.place_id] for n in scenario.neighbourhoods], dtype=np.int64
            ),
            headcount=headcount,
            segment_weight=np.array([s.cost_weight for s in scenario.segments]),
            adjustment=adjustment,
            provider_kind=[p.kind.value for p in scenario.providers],
            provider_baseline_pence=np.array(
                [p.baseline_pence for p in scenario.providers], dtype=np.int64
            ),
            provider_capacity_pence=np.array(
                [
                    np.inf if p.capacity_pence is None else p.capacity_pence
                    for p in scenario.providers
                ]
            ),
            provider_fixed_costs_pence=np.array(
                [p.fixed_costs_pence for p in scenario.providers], dtype=np.int64
            ),
            provider_serves_place=serves_place,
            provider_serves_segment=serves_segment,
        )

    # Weighted populations -------------------------------------------------------------

    @cached_property
    def weighted_population(self) -> FloatArray:
        """(neighbourhoods, segments): headcount × segment weight × local adjustments."""
        wp: FloatArray = self.headcount * self.segment_weight[None, :] * self.adjustment[:, None]
        return wp

    @cached_property
    def neighbourhood_wp(self) -> FloatArray:
        total: FloatArray = self.weighted_population.sum(axis=1)
        return total

    @cached_property
    def place_wp(self) -> FloatArray:
        return group_sum(self.neighbourhood_place, self.neighbourhood_wp, len(self.place_ids))

    @cached_property
    def system_wp(self) -> FloatArray:
        return group_sum(self.place_system, self.place_wp, len(self.system_ids))

    @cached_property
    def neighbourhood_system(self) -> IntArray:
        return self.place_system[self.neighbourhood_place]

    # Cells -------------------------------------------------------------------------------

    @cached_property
    def place_segment_wp(self) -> FloatArray:
        """(places, segments) weighted population."""
        out = np.zeros((len(self.place_ids), len(self.segment_ids)))
        np.add.at(out, self.neighbourhood_place, self.weighted_population)
        return out

    @cached_property
    def cells(self) -> tuple[IntArray, IntArray, IntArray]:
        """(provider, place, segment) positions of every cell, provider-major order.

        A cell is a provider's budget for one segment in one place it serves; the place's
        neighbourhoods share it by weighted capitation (`neighbourhood_share`).
        """
        has_people = self.place_segment_wp > 0
        mask = (
            self.provider_serves_place[:, :, None]
            & self.provider_serves_segment[:, None, :]
            & has_people[None, :, :]
        )
        provider, place, segment = np.nonzero(mask)
        return provider.astype(np.int64), place.astype(np.int64), segment.astype(np.int64)

    @property
    def num_cells(self) -> int:
        return int(self.cells[0].size)

    @cached_property
    def cell_place(self) -> IntArray:
        return self.cells[1]

    @cached_property
    def cell_wp(self) -> FloatArray:
        _, place, segment = self.cells
        wp: FloatArray = self.place_segment_wp[place, segment]
        return wp

    @cached_property
    def neighbourhood_share(self) -> FloatArray:
        """(neighbourhoods, segments): each neighbourhood's share of its place's weighted population."""
        place_wp = self.place_segment_wp[self.neighbourhood_place]
        with np.errstate(divide="ignore", invalid="ignore"):
            share: FloatArray = np.where(place_wp > 0, self.weighted_population / place_wp, 0.0)
        return share

    @cached_property
    def cell_neighbourhoods(self) -> tuple[IntArray, IntArray, FloatArray]:
        """(cell, neighbourhood, share) for every neighbourhood that shares a cell."""
        _, place, segment = self.cells
        cell, neighbourhood = items_of_groups(self.neighbourhood_place, len(self.place_ids), place)
        share = self.neighbourhood_share[neighbourhood, segment[cell]]
        return cell, neighbourhood, share

    @cached_property
    def provider_payment_kind(self) -> list[PaymentKind]:
        return [p.payment.kind for p in self.scenario.providers]
