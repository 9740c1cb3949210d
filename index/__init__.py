"""Ingestion and the on-disk index: article files -> articles -> chunks -> SQLite/FTS5 + FAISS."""
