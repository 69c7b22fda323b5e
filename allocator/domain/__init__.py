"""The domain arithmetic every step shares: scenario arrays, the pot, fair-share targets,
value curves, money in pence and its rounding. No solver and no formulation here."""
