"""Persistence: typed ORM tables, keyword-only repository functions, Alembic migrations."""
