"""Storage: SQLAlchemy Core tables, one database per region plus the directory."""
