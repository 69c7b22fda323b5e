"""From the solver's floats to the published result: pence that reconcile exactly
(`pence_plan`), the rules that bind (`rule_lines`), the result document (`assemble`) and
an independent re-check of the published pence against every rule (`checks`)."""
