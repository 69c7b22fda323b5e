"""Budget-allocation optimiser for integrated health and care systems.

One function, `allocator.pipeline.solve_scenario`, turns a scenario into a published
allocation, in five steps, one sub-package each:

1. **validate** (`allocator/validate/`): every problem at once, each located by its path
   and, for workbooks, its sheet and row;
2. **formulate** (`allocator/formulation/`): one solver-neutral linear program of
   numpy/scipy arrays, built by one module per rule family (funding and ring-fences,
   schemes, capacity and viability, payments, pace of change, minimum spends, fair-share
   bands, fairness, value, stability), each step returning what the next ones need;
3. **solve the stages** (`allocator/stages/`, through `allocator/backends/`: HiGHS,
   OR-Tools, PuLP/CBC): fairness, then value, then stability, each optimum held for the next;
4. **publish pence** (`allocator/publish/`): solver floats rounded to whole pence that
   reconcile exactly at every level (`allocator/domain/rounding.py`), the rules that bind,
   and the result document;
5. **explain** (`allocator/explain/`): shadow prices through the stages, the elastic
   diagnosis of an infeasible scenario, comparisons.

The arithmetic every step shares (scenario arrays, the pot, fair-share targets, value
curves, money) is `allocator/domain/`; made scenarios are `allocator/synth/`; files are
`allocator/io/`. The CLI (`cli/`), the API (`api/`), batch runs (`allocator/batch/`) and
the risk-aware solve (`allocator/riskaware/`, over the risk-share arithmetic of
`allocator/riskshare/`) all call the same function; the core never imports the CLI or
the service. `docs/rules.md` maps every rule, by the name finance staff use, to its
schema, check, formulation module, relaxation, re-check and tests.
"""

__version__ = "0.1.0"
