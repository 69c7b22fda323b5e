"""Named blocks of rows or columns.

A `BlockIndex` maps each named block (``"alloc"``, ``"pace.floor"``...) to a
contiguous slice of positions and keeps, for every position in the block, the
domain labels it stands for (provider, neighbourhood, segment, funder, rule...).
Position ``i`` of a solver array is therefore always explainable by name.

Labels are held as plain arrays (`Labels`) while the program is built and become a
DataFrame (`Block.labels`) only when something reads them: a national build has tens
of thousands of labelled positions, and most blocks' labels are never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from allocator.types import BoolArray, IntArray

if TYPE_CHECKING:  # pandas is imported only when a label table is read (not by a solve)
    import pandas as pd

LabelArray = npt.NDArray[Any]


@dataclass(frozen=True)
class Labels:
    """The labels of a block's positions: one array per label column, one entry per position."""

    columns: dict[str, LabelArray]
    size: int

    @classmethod
    def of(cls, **columns: str | Sequence[Any] | LabelArray) -> Labels:
        """Labels from equal-length columns; a single string is repeated down its column.

        >>> Labels.of(unit_id=["a", "b"], rule_id="floor").frame().to_dict("list")
        {'unit_id': ['a', 'b'], 'rule_id': ['floor', 'floor']}
        """
        sizes = {len(values) for values in columns.values() if not isinstance(values, str)}
        if len(sizes) != 1:
            raise ValueError(f"label columns need one common length, got {sorted(sizes)}")
        (size,) = sizes
        return cls(
            {
                name: np.full(size, values, dtype=object)
                if isinstance(values, str)
                else np.asarray(values, dtype=object)
                for name, values in columns.items()
            },
            size,
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Labels:
        return cls({str(name): frame[name].to_numpy() for name in frame.columns}, len(frame))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, column: str) -> LabelArray:
        return self.columns[column]

    def __contains__(self, column: object) -> bool:
        return column in self.columns

    def take(self, rows: IntArray | BoolArray) -> Labels:
        """The labels of some positions (indices or a mask), in that order."""
        size = int(rows.sum()) if rows.dtype == np.bool_ else rows.size
        return Labels({name: values[rows] for name, values in self.columns.items()}, size)

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.columns, index=pd.RangeIndex(self.size))


@dataclass(frozen=True)
class Block:
    """One named block: a slice of positions plus their labels (one row per position)."""

    name: str
    start: int
    stop: int
    label_columns: Labels

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def positions(self) -> slice:
        return slice(self.start, self.stop)

    @cached_property
    def labels(self) -> pd.DataFrame:
        """The label table, one row per position, built the first time it is read."""
        return self.label_columns.frame()


@dataclass(slots=True)
class BlockIndex:
    """Ordered, append-only registry of blocks."""

    blocks: dict[str, Block] = field(default_factory=dict)
    size: int = 0

    def add(self, name: str, labels: Labels | pd.DataFrame) -> Block:
        """Append a block of ``len(labels)`` positions and return it."""
        if name in self.blocks:
            raise ValueError(f"block {name!r} already exists")
        if not isinstance(labels, Labels):
            labels = Labels.from_frame(labels)
        block = Block(name, self.size, self.size + len(labels), labels)
        self.blocks[name] = block
        self.size = block.stop
        return block

    def __getitem__(self, name: str) -> Block:
        return self.blocks[name]

    def __contains__(self, name: object) -> bool:
        return name in self.blocks

    def names(self) -> list[str]:
        return list(self.blocks)

    def copy(self) -> BlockIndex:
        return BlockIndex(dict(self.blocks), self.size)
