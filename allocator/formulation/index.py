"""Named blocks of rows or columns.

A `BlockIndex` maps each named block (``"alloc"``, ``"pace.floor"``...) to a
contiguous slice of positions and keeps, for every position in the block, the
domain labels it stands for (provider, neighbourhood, segment, funder, rule...).
Position ``i`` of a solver array is therefore always explainable by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True, slots=True)
class Block:
    """One named block: a slice of positions plus a label table (one row per position)."""

    name: str
    start: int
    stop: int
    labels: pd.DataFrame

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def positions(self) -> slice:
        return slice(self.start, self.stop)


@dataclass(slots=True)
class BlockIndex:
    """Ordered, append-only registry of blocks."""

    blocks: dict[str, Block] = field(default_factory=dict)
    size: int = 0

    def add(self, name: str, labels: pd.DataFrame) -> Block:
        """Append a block of ``len(labels)`` positions and return it."""
        if name in self.blocks:
            raise ValueError(f"block {name!r} already exists")
        block = Block(name, self.size, self.size + len(labels), labels.reset_index(drop=True))
        self.blocks[name] = block
        self.size = block.stop
        return block

    def __getitem__(self, name: str) -> Block:
        return self.blocks[name]

    def __contains__(self, name: object) -> bool:
        return name in self.blocks

    def names(self) -> list[str]:
        return list(self.blocks)

    def block_of(self, position: int) -> Block:
        """The block holding a position (linear scan over blocks, not positions)."""
        for block in self.blocks.values():
            if block.start <= position < block.stop:
                return block
        raise IndexError(position)

    def copy(self) -> BlockIndex:
        return BlockIndex(dict(self.blocks), self.size)
