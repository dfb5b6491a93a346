"""The PostgreSQL fixture itself: a real server, a fresh database per test."""

from __future__ import annotations

import psycopg

from tests.fixtures.postgres import PostgresServer


def test_each_test_gets_an_empty_database(postgres_server: PostgresServer,
                                          team_database: str) -> None:
    with psycopg.connect(team_database) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)
        version = conn.execute("SHOW server_version_num").fetchone()
        assert version is not None and int(version[0]) >= 120000
    assert str(postgres_server.port) in team_database
