"""Scenarios made rather than read: the seeded generator (one system to national), the
realistic example system, and the NHS England practice-level import."""
