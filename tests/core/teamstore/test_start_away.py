"""The team database cannot be reached when the monitor starts: it opens all the same,
shows the rows saved on this machine (read-only), one banner says so, changes are refused
with a sentence, and once the database is back it catches up and works as usual.

Its own PostgreSQL server (stopped and started here), so the session's stays up."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import stat
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.postgres import PostgresServer, start_server
from tests.waiting import WAIT_BOUND, until
from tui.api.client import ConversionsClient
from tui.core.paths import AppPaths
from tui.core.polling.types import Connectivity, ConnectivityState
from tui.core.session import MonitorSession, open_watch_store
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.teamstore import TeamStore, TeamStoreError
from tui.core.watching import WatchChange, WatchService
from tui.core.watchlist import WatchlistError
from tui.core.watchstore import StoreRefused
from tui.sandbox.runner import SandboxServer

PASSWORD = "pw-canary-8c41d2"
_roles = itertools.count(1)


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def _team_url(server: PostgresServer) -> str:
    """A fresh database owned by a role with a password (the copy must never hold it)."""
    dbname = server.create_database()
    role = f"member_{os.getpid()}_{next(_roles)}"
    server.admin(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    server.admin(f"ALTER DATABASE {dbname} OWNER TO {role}")
    return server.url(dbname, user=role)


class Monitor:
    """A session and its watch service as the monitor makes them, with what it emitted."""

    def __init__(self, root: Path, base_url: str, store: str) -> None:
        profile = ProfileSettings(name="team", base_url=base_url, poll_interval=0.2)
        self.session = MonitorSession.open(AppPaths.under(root), AppConfig(), profile,
                                           env={"CONVERSIONS_STORE": store})
        self.changes: list[WatchChange] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.service = WatchService.for_session(self.session, on_change=self.changes.append,
                                                spawn=self._spawn)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    @property
    def store(self) -> TeamStore:
        assert isinstance(self.session.watchlist, TeamStore)
        return self.session.watchlist

    def banners(self) -> list[Connectivity]:
        return [c.connectivity for c in self.changes if c.connectivity is not None]

    def last(self, conversion_id: int) -> Any:
        rows = [row for c in self.changes for row in c.rows if row.id == conversion_id]
        return rows[-1] if rows else None

    def said(self) -> str:
        return "; ".join(f"rows={[(r.id, r.note) for r in c.rows]} removed={c.removed} "
                         f"banner={c.connectivity}" for c in self.changes[-8:]) or "nothing"

    async def close(self) -> None:
        self.service.stop()
        if self.tasks:
            await asyncio.wait_for(asyncio.gather(*self.tasks), WAIT_BOUND)
        self.session.close()


def _copies(root: Path) -> list[Path]:
    return sorted(root.rglob("team-copy-*"))


def _works(action: object) -> bool:
    try:
        assert callable(action)
        action()
    except StoreRefused:
        return False
    return True


async def test_a_start_while_the_database_is_down_shows_the_copy_and_catches_up(
        own_server: PostgresServer, sandbox: SandboxServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    url = _team_url(own_server)
    one, two, three = (sandbox.state.add_conversion(status="Processing", frozen=True)
                       for _ in range(3))
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10) as client:
        # A first run, with the database up: what it shows is saved on this machine.
        first = Monitor(tmp_path, sandbox.base_url, url)
        try:
            first.service.load()
            first.service.set_client(client)
            first.service.watch([one, two], note="TICKET-1")
            await until(lambda: all((row := first.store.get(i)) is not None
                                    and row.status == "Processing" for i in (one, two)),
                        first.said)
        finally:
            await first.close()
        copies = _copies(tmp_path)
        assert copies, "no copy saved on this machine"
        for path in copies:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))
            assert PASSWORD.encode() not in path.read_bytes()
        # A colleague writes meanwhile: a note on one row, a new row.
        colleague = open_watch_store(AppPaths.under(tmp_path / "sam"), ProfileSettings(
            name="team", base_url=sandbox.base_url), env={"CONVERSIONS_STORE": url})
        try:
            colleague.set_note(two, "TICKET-2")
            colleague.add([three])
        finally:
            colleague.close()

        own_server.pause()
        resumed = False
        again = Monitor(tmp_path, sandbox.base_url, url)  # opens: no sentence, no exit
        try:
            rows = again.service.load()
            assert [(row.id, row.note, row.status) for row in rows] == [
                (one, "TICKET-1", "Processing"), (two, "TICKET-1", "Processing")]
            again.service.set_client(client)
            assert again.service.scheduler is None  # nothing polled: nowhere to record it
            await until(lambda: again.banners(), again.said)
            banner = again.banners()[0]
            assert banner.state is ConnectivityState.OFFLINE
            assert "team database cannot be reached" in banner.message
            assert "rows as saved on this machine at" in banner.message
            assert "read-only" in banner.message and "\n" not in banner.message
            with pytest.raises(StoreRefused, match="cannot be reached") as refused:
                again.service.set_note([one], "TICKET-3")
            assert "\n" not in str(refused.value)
            with pytest.raises(StoreRefused):
                again.service.unwatch([one])
            with pytest.raises(StoreRefused):
                again.service.watch([12345])
            with pytest.raises(StoreRefused, match="Could not upload"):
                again.service.check_writable("upload")  # before anything is sent
            assert again.service.scheduler is None
            # One banner: every state said while away is the same offline sentence.
            assert {(b.state, b.message) for b in again.banners()} == {
                (ConnectivityState.OFFLINE, banner.message)}

            own_server.resume()
            resumed = True
            await until(lambda: again.banners()[-1].state is ConnectivityState.ONLINE,
                        again.said)
            # What the colleague wrote while this monitor was away comes in.
            await until(lambda: (row := again.last(two)) is not None
                        and row.note == "TICKET-2", again.said)
            await until(lambda: again.last(three) is not None, again.said)
            await until(lambda: again.service.scheduler is not None, again.said)
            await until(lambda: _works(lambda: again.service.set_note([one], "TICKET-3")),
                        "a note is taken once the database is back")
            assert again.store.get(one).note == "TICKET-3"  # type: ignore[union-attr]
            assert again.service.check_writable("upload")
            assert one not in again.service.unwatched_here  # the refused unwatch left no trace
        finally:
            if not resumed:
                own_server.resume()
            await again.close()
        later = Monitor(tmp_path, sandbox.base_url, url)
        try:  # the copy followed: the next start away would show these
            assert {row.id: row.note for row in later.store.mirror.rows()} == {  # type: ignore[union-attr]
                one: "TICKET-3", two: "TICKET-2", three: None}
        finally:
            await later.close()


async def test_no_copy_and_no_database_opens_empty_with_the_banner(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there
    monitor = Monitor(tmp_path, sandbox.base_url, f"postgresql://dana@127.0.0.1:{port}/team")
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10) as client:
        try:
            assert monitor.service.load() == []
            monitor.service.set_client(client)
            await until(lambda: monitor.banners(), monitor.said)
            said = monitor.banners()[0].message
            assert "no rows saved on this machine yet" in said and "read-only" in said
            with pytest.raises(StoreRefused, match="cannot be reached"):
                monitor.service.set_note([1], "TICKET-1")
            assert monitor.service.scheduler is None
        finally:
            await monitor.close()
    assert _copies(tmp_path) == []  # nothing known: nothing saved


def test_a_command_still_says_one_sentence_when_the_database_is_down(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WatchlistError) as caught:
        open_watch_store(AppPaths.under(tmp_path), ProfileSettings(
            name="team", base_url=sandbox.base_url),
            env={"CONVERSIONS_STORE": f"postgresql://dana@127.0.0.1:{port}/team"})
    said = str(caught.value)
    assert "cannot be reached" in said and "\n" not in said


def test_a_wrong_password_at_start_is_still_one_sentence(
        own_server: PostgresServer, sandbox: SandboxServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = _team_url(own_server)
    monkeypatch.setenv("PGPASSWORD", "not-the-password")
    with pytest.raises(WatchlistError) as caught:
        MonitorSession.open(AppPaths.under(tmp_path), AppConfig(), ProfileSettings(
            name="team", base_url=sandbox.base_url), env={"CONVERSIONS_STORE": url})
    said = str(caught.value)
    assert "password authentication failed" in said and "\n" not in said
    assert "not-the-password" not in said


def test_a_reset_database_is_read_again_whole(
        own_server: PostgresServer, tmp_path: Path) -> None:
    """A number from before a reset (or from this machine's copy) that the database's
    counter never reached: every row comes again, and what the copy holds that the
    database does not is removed."""
    from tests.core.teamstore.conftest import BASE_URL, address_of
    from tui.core.teamstore.mirror import TeamMirror

    url = own_server.url(own_server.create_database())
    mirror = TeamMirror(tmp_path / "copy.sqlite3", store="x", base_url=BASE_URL,
                        flush_delay=0)
    store = TeamStore(address_of(url), BASE_URL, "dana", mirror=mirror)
    try:
        mirror.replace([], 0)
        store.add([5, 6])
        known = store.all()  # the copy holds 5 and 6
        mirror.flush()
        assert [row.id for row in known] == [5, 6]
        # The database is replaced by one holding only 7, with a counter far behind.
        with TeamStore(address_of(url), BASE_URL, "sam") as other:
            other.remove([5, 6])
            other.add([7])
        changes = store.changes_since(10_000)
        assert [row.id for row in changes.rows] == [7] and changes.added == {7}
        assert sorted(changes.removed) == [5, 6]
        assert changes.seq == store.feed_seq() < 10_000
        mirror.flush()
        assert mirror.ids() == {7}
        assert store.changes_since(changes.seq).rows == ()  # and from there as usual
    finally:
        store.close()


def test_a_store_that_starts_away_refuses_at_once_and_opens_on_first_contact(
        own_server: PostgresServer, tmp_path: Path) -> None:
    """Away from the start: every call is refused without trying (none waits for a
    timeout), and the first listening connection sets up the schema and the pool."""
    from tests.core.teamstore.conftest import BASE_URL, address_of
    from tui.core.teamstore import ChangeReader

    url = own_server.url(own_server.create_database())
    own_server.pause()
    try:
        store = TeamStore(address_of(url), BASE_URL, "dana", start_away=True)
        assert not store.opened and store.away_since is not None
        assert store.all() == [] and store.feed_seq() == 0
        with pytest.raises(TeamStoreError, match="cannot be reached"):
            store.add([1])
        with pytest.raises(TeamStoreError, match="cannot be reached"):
            ChangeReader(store)
    finally:
        own_server.resume()
    try:
        reader = ChangeReader(store)  # migrates the fresh database, opens the pool
        assert store.opened and store.away_since is None
        assert store.add([1]) == [1]
        reader.close()
    finally:
        store.close()


def test_a_copy_of_a_database_made_again_at_the_same_address_is_not_trusted(
        own_server: PostgresServer, tmp_path: Path) -> None:
    """The database was made again while this app was off (its counter past the copy's
    number): the catch-up from the copy reads every row and drops the copy's others."""
    from tests.core.teamstore.conftest import BASE_URL, address_of
    from tui.core.teamstore import ChangeReader
    from tui.core.teamstore.mirror import TeamMirror

    dbname = own_server.create_database()
    address = address_of(own_server.url(dbname))

    def copy() -> TeamMirror:
        return TeamMirror(tmp_path / "copy.sqlite3", store="x", base_url=BASE_URL)

    with TeamStore(address, BASE_URL, "dana", mirror=copy()) as before:
        before.add([1, 2])
        before.all()  # the copy: rows 1 and 2 of the first database
    saved = copy().state()
    assert saved.database and saved.seq >= 1
    own_server.admin(f"DROP DATABASE {dbname} WITH (FORCE)")
    own_server.admin(f"CREATE DATABASE {dbname}")
    with TeamStore(address, BASE_URL, "sam") as other:
        other.add([3])
        for number in range(saved.seq + 2):  # its counter well past the copy's number
            other.set_note(3, f"TICKET-{number}")

    own_server.pause()
    try:
        store = TeamStore(address, BASE_URL, "dana", start_away=True, mirror=copy())
        assert [row.id for row in store.all()] == [1, 2]
        since = store.feed_seq()
        assert since == saved.seq
    finally:
        own_server.resume()
    try:
        reader = ChangeReader(store)
        batch = reader.catch_up(since)
        assert sorted(batch.rows) == [3] and sorted(batch.removed) == [1, 2], batch
        assert batch.added == {3}
        assert store.changes_since(reader.seq).rows == ()  # then as usual
        reader.close()
    finally:
        store.close()
    assert copy().ids() == {3}
