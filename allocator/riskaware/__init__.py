"""Risk-aware allocation: CVaR limits over sampled outturns added to the formulation, wrapping
the pipeline (`allocator.pipeline.solve_scenario`) rather than being dispatched from it.
The risk-share arithmetic it relies on is `allocator.riskshare`."""
