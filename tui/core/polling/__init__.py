"""Polling: keeping every watched conversion fresh without hammering the API.

One :class:`~tui.core.polling.scheduler.PollScheduler` does it, by these rules:

* Active statuses (and words we do not know) are checked every ``interval``;
  settled ones (Completed, Failed, Deleted, not found) every
  ``settled_interval``, within a small share of the request budget, so the
  steady request rate follows the *active* rows. Active rows that want the
  whole budget do not starve them: a settled row that has waited longer than
  the next active one goes first, within that share.
* New IDs, never checked yet, are checked oldest first. While active rows are due
  too, new ones get ``new_share`` of the requests (about a quarter) and no more, so a
  paste of 10,000 IDs delays active rows only as far as losing that share does; with
  no active row due they may use the whole budget. IDs an upload had accepted
  (``PollScheduler.uploaded``) exist now, whatever an earlier check said: they are
  checked at once.
* Requests go out through a token bucket (``request_budget`` per second) and
  at most ``concurrency`` at a time; one ID is never polled twice at once
  (its next poll is scheduled when the last one finishes). A stuck request
  (out for an interval and four times as long as answers typically take) stops
  holding its slot (up to ``spare_slots`` more connections), so rows that
  trickle cannot stop the others before they are known to.
* Errors back off per ID; when several rows failed and the server then answers
  cleanly for an interval, the backed-off rows are asked again at once (a
  server's error spell must not outlive itself), while an ID that fails on its
  own keeps its backoff. A 429 holds everyone for its Retry-After and then ramps
  back up. A refused connection, or drops and timeouts with no answer for two
  intervals, turn into one OFFLINE state with a single probing ID, probed at
  least once an interval; a drop while others answer is that row's problem.
* Rows whose checks keep timing out while others answer (a trickling server) move
  to a slow lane that may hold only ``slow_slots`` of the connections, so the other
  rows keep their interval; a row leaves it with its next HTTP answer.
* A refused key (a 401, a 403 whose envelope names no profile, or 403s of
  ``key_refusal_rows`` different rows for an interval with no answer between) stops
  polling until ``PollScheduler.set_client``. A 403 about one conversion while
  the key is known is that row's problem ("no access to this conversion (HTTP
  403)"); so is an answer about another conversion, or one cut off at the client's
  size cap: such an answer is never stored, the row keeps its last good data and
  backs off.
* Results are flushed in batches (one ``record_results`` transaction, then one
  ``on_update`` call), at most every ``flush_interval`` seconds.
* The stored watchlist is the truth: every ``WATCHLIST_SYNC_INTERVAL`` seconds the
  scheduler reads its change feed (what other processes wrote since the last look; one
  ``PRAGMA`` when nothing), polls rows another process added, drops rows it removed,
  follows delete requests made elsewhere, and sends the rows others changed (a note,
  say) in the next update, which names the added and removed IDs, so the table follows.

The modules, by responsibility:

* :mod:`~tui.core.polling.scheduler`: the scheduler's public surface, its dispatch loop
  and the life of one request.
* :mod:`~tui.core.polling.feed`: the stored watchlist's rows and its change feed (what
  other processes wrote), followed into the scheduler's queue.
* :mod:`~tui.core.polling.lanes`: which row goes next (the lanes and their shares);
  :mod:`~tui.core.polling.queue`: the lanes' heaps of rows.
* :mod:`~tui.core.polling.answers`: what an answer or a failure does to its row and to
  the link; :mod:`~tui.core.polling.problems` words the problems,
  :mod:`~tui.core.polling.keyrefusals` tells a refused key from a refused row.
* :mod:`~tui.core.polling.link`: the banner's state (online, offline and its probe, a
  429's hold, a refused key, paused).
* :mod:`~tui.core.polling.pacing`: the token bucket, the ramp after a 429, backoff and
  the server's error spells.
* :mod:`~tui.core.polling.updates`: results stored in batches, one update message each.
* :mod:`~tui.core.polling.types`: what the scheduler takes and gives (settings,
  connectivity, updates, counters), importable without its machinery.
* :mod:`~tui.core.polling.lock` and :mod:`~tui.core.polling.following`: one poller per
  watchlist file; another monitor follows the file instead.

Nothing is re-exported here: import from the module, so naming a type does not load
the scheduler.
"""
