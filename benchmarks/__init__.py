"""Benchmarks of the allocator, side by side with the alternatives (run: ``python -m benchmarks``).

Separate from the tests (pytest collects only ``tests/``): a registry of seeded scenario
sizes (`benchmarks.registry`), the same model written row by row in PuLP
(`benchmarks.pulp_rowwise`), the solver floor (`benchmarks.floor`), the timed phases of
every contender in a fresh worker process (`benchmarks.phases`) and the report
(`benchmarks.report`), which writes ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations
