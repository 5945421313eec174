"""Storage layer: the only place that knows SQL (SQLAlchemy Core on SQLite and MySQL)."""
