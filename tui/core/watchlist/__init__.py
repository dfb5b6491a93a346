"""The watchlist: every conversion the app watches, kept in SQLite per profile.

The API has no list call, so this file *is* the app's view of the world: each watched
ID with the last status envelope seen (file name, type, status, upload date, warnings,
errors, metadata and the raw JSON), when it was first seen, last checked and last
changed, a note, the last polling problem, and a history of every status change seen,
with its time.

- :mod:`.schema`: the file's tables, how older files are brought up to date, the SQL;
- :mod:`.rows`: the typed rows (:class:`WatchedConversion`, decoded by column name) and
  how a poll result folds into one;
- :mod:`.store`: :class:`Watchlist`, reads and writes;
- :mod:`.connection`: what it is built on: the connection, transactions, the feed's
  counter and the in-memory snapshot;
- :mod:`.matches`: a message search's answer as a test of a row;
- :mod:`.reads`: the change feed another process follows, and the status history.
"""

from tui.core.watchlist.rows import (
    DELETED_STATUS,
    MAX_ID,
    PollResult,
    RecordedResults,
    StatusChange,
    WatchedConversion,
    WatchlistChanges,
)
from tui.core.watchlist.schema import WatchlistError
from tui.core.watchlist.store import KEEP_UNWATCHED, Watchlist

__all__ = [
    "DELETED_STATUS",
    "KEEP_UNWATCHED",
    "MAX_ID",
    "PollResult",
    "RecordedResults",
    "StatusChange",
    "WatchedConversion",
    "Watchlist",
    "WatchlistChanges",
    "WatchlistError",
]
