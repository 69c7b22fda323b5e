"""Alembic environment and revisions, shipped inside the package (see api/storage/migrate.py)."""
