"""Payment mechanisms: block, activity-based and blended payments, and small contracts paid as a block."""

from __future__ import annotations

import numpy as np

from allocator.formulation.builder import INF
from allocator.formulation.context import (
    BuildContext,
    Totals,
    to_units,
)
from allocator.formulation.index import Labels
from allocator.types import IntArray, RowFamily
from models import (
    PaymentKind,
)
from models.providers import is_small_contract


def build_payments(ctx: BuildContext, totals: Totals) -> IntArray:
    """Rows for each provider's payment mechanism; returns the providers paid a fixed block."""
    threshold = ctx.scenario.small_contract_threshold_pence
    block_rows: list[int] = []
    block_amount: list[float] = []
    act_rows: list[int] = []
    act_max: list[float] = []
    blend_rows: list[int] = []
    blend_fixed: list[float] = []
    for k, p in enumerate(ctx.scenario.providers):
        pay = p.payment
        small = pay.kind in (PaymentKind.ACTIVITY, PaymentKind.BLENDED) and is_small_contract(
            p.baseline_pence, threshold
        )
        if pay.kind is PaymentKind.BLOCK or small:
            amount = getattr(pay, "amount_pence", None)
            block_rows.append(k)
            block_amount.append(float(p.baseline_pence if amount is None else amount))
        elif pay.kind is PaymentKind.ACTIVITY and pay.max_volume is not None:
            act_rows.append(k)
            act_max.append(np.floor(pay.unit_price_pence * pay.max_volume))
        elif pay.kind is PaymentKind.BLENDED:
            blend_rows.append(k)
            blend_fixed.append(float(pay.fixed_pence))
    block_providers = np.array(block_rows, dtype=np.int64)
    for name, rows, lo, hi, text in (
        (RowFamily.PAYMENT_BLOCK, block_rows, block_amount, block_amount, "block contract"),
        (
            RowFamily.PAYMENT_ACTIVITY,
            act_rows,
            [-INF] * len(act_rows),
            act_max,
            "activity ceiling (price × max volume)",
        ),
        (
            RowFamily.PAYMENT_BLENDED,
            blend_rows,
            blend_fixed,
            [INF] * len(blend_rows),
            "blended payment fixed part",
        ),
    ):
        idx = np.array(rows, dtype=np.int64)
        ids = np.array(ctx.a.provider_ids, dtype=object)[idx]
        ctx.rows(
            name,
            Labels.of(provider_id=ids),
            totals.provider[idx],
            to_units(np.array(lo)),
            to_units(np.array(hi)),
            [f"{text}, {ctx.provider_name(p)}" for p in ids],
        )
    return block_providers
