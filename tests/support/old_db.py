"""A database as the first version of the schema wrote it, for the upgrade tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

VERSION_1 = """
CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, status TEXT NOT NULL,
    template TEXT NOT NULL, attachment TEXT, source_file TEXT, created_at REAL NOT NULL, start_at REAL,
    started_at REAL, finished_at REAL, total INTEGER NOT NULL DEFAULT 0);
CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL REFERENCES jobs(id)
    ON DELETE CASCADE, phone TEXT NOT NULL, name TEXT, columns TEXT, text TEXT NOT NULL, attachment TEXT,
    status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL,
    last_error TEXT, claimed_by TEXT, claimed_at REAL, sent_at REAL, updated_at REAL,
    UNIQUE (job_id, phone));
CREATE TABLE kv (name TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at REAL NOT NULL);
INSERT INTO kv VALUES ('schema_version', '1', 0);
"""


def version_1_database(path: Path, rows: str) -> Path:
    """`path` made a version-1 database holding `rows` (INSERT statements)."""
    con = sqlite3.connect(path)
    try:
        con.executescript(VERSION_1 + rows)
        con.commit()
    finally:
        con.close()
    return path
