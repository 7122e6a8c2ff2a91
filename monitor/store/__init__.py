"""Storage: SQLAlchemy tables and the queries each stage needs, split by domain."""
