"""Explanations: shadow prices of binding rules, infeasibility diagnosis, comparisons."""
