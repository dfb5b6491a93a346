"""The team store's tests share one real PostgreSQL server per session."""

from tests.fixtures.postgres import postgres_server, team_database

__all__ = ["postgres_server", "team_database"]
