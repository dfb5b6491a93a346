"""Team mode: the watchlist shared by a support team in PostgreSQL (issue 15).

The SQLite watchlist stays the default; a profile with ``store = "postgresql://..."`` (or
``CONVERSIONS_STORE``) uses this store instead.

- :mod:`.address`: the store's address and where its password comes from (never the config);
- :mod:`.errors`: :class:`TeamStoreError`, one sentence without the password;
- :mod:`.migrations`: the versioned schema;
- :mod:`.store`: :class:`TeamStore`, the rows, scoped by profile base URL, signed by person
  (its reads in :mod:`.rowreads`);
- :mod:`.mirror`: :class:`~.mirror.TeamMirror`, this machine's copy of the rows, shown when
  the monitor starts while the database cannot be reached;
- :mod:`.changes` and :mod:`.reader`: the change feed (NOTIFY on write, a LISTENing reader);
- :mod:`.asking`: a follower asks the leader to check rows now (its ``r``);
- :mod:`.leader`: :class:`LeaderLock`, one poller per base URL (an advisory lock);
- :mod:`.importing`: a person's SQLite watchlist copied into the team store, once;
- :mod:`.status`: what ``conversions-tui team status`` reports.

Importing this package loads psycopg: the app imports it only for a profile that uses it.
"""

from tui.core.teamstore.address import ENV_STORE, StoreAddress, resolve_store_address
from tui.core.teamstore.errors import TeamStoreError
from tui.core.teamstore.leader import LeaderInfo, LeaderLock
from tui.core.teamstore.migrations import SCHEMA_VERSION
from tui.core.teamstore.reader import ChangeBatch, ChangeReader
from tui.core.teamstore.store import DeleteRequests, TeamStore

__all__ = [
    "ENV_STORE",
    "SCHEMA_VERSION",
    "ChangeBatch",
    "ChangeReader",
    "DeleteRequests",
    "LeaderInfo",
    "LeaderLock",
    "StoreAddress",
    "TeamStore",
    "TeamStoreError",
    "resolve_store_address",
]
