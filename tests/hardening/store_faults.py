"""The team store's faults (PostgreSQL, issue 15), as docs/reliability.md tells them.

The fault matrix measures the API's faults; the store's are tested elsewhere
(tests/core/teamstore/test_outage.py, test_start_away.py, test_takeover_processes.py,
test_migrations in test_session.py, tests/ui/test_team_refusals.py) and measured by
benchmarks/bench_team.py.
This text is rendered into the document by :class:`tests.hardening.conftest.FaultMatrix`,
so writing the matrix again keeps the section.
"""

from __future__ import annotations

STORE_FAULTS_INTRO = (
    "A profile with `store = \"postgresql://...\"` (or `CONVERSIONS_STORE`) keeps its "
    "watchlist, notes, acknowledgements and audit in the team's PostgreSQL database. What "
    "the user sees when that database fails (tested against a real PostgreSQL 15: "
    "`tests/core/teamstore/`, `tests/ui/test_team_refusals.py`; measured by "
    "`benchmarks/bench_team.py`):")

STORE_FAULTS: tuple[tuple[str, str], ...] = (
    ("Database unreachable at start",
     "The monitor opens all the same (refused, timed out, not resolved or restarting; a "
     "wrong password, a missing database or a newer schema stay one sentence and exit). It "
     "shows the rows last saved on this machine (a private copy, 0600, per store and base "
     "URL in the profile's data folder, with the change number it is complete up to; no "
     "password or API key in it; none yet: an empty table) under one banner, \"Offline "
     "since 09:02, retrying in 4 s (the team database cannot be reached; rows as saved "
     "on this machine at 18:40, read-only until it is back)\". Nothing is polled; a note, "
     "acknowledgement, watch, unwatch or delete is refused with the \"Not saved\" toast "
     "(the text typed given back), an upload before anything is sent. The follower "
     "retries with a backoff doubling to 30 s; once through, the schema is checked (or "
     "migrated), what others wrote since the copy's number is read (a database whose "
     "counter never reached it was reset, or one made again at the address: every row is "
     "read again), the banner goes, and "
     "the app polls or follows as usual (`tests/core/teamstore/test_start_away.py`, "
     "`tests/ui/test_team_refusals.py`). `watch`, `upload` and `team` still say one "
     "sentence and exit."),
    ("Database unreachable mid-run",
     "One banner with the database's sentence; the rows on screen stay as they were. A "
     "follower retries with a backoff doubling to 30 s; a leader whose session is cut "
     "stops polling at its next one-second check (another app may poll now) and follows. "
     "An action meanwhile (acknowledge, unwatch, delete, mark all read) is refused at "
     "once with one toast, \"Not saved: Could not acknowledge: the team database … "
     "cannot be reached since 10:42; nothing was changed, and the app reconnects by "
     "itself. Try again when the banner is gone.\", never silently lost; a dialog that "
     "saves typed text (note, snooze, add IDs) stays open with that sentence in it and "
     "the text as typed (esc gives the whole text back in a toast); a delete is refused "
     "before its question once the store knows the database is away (\"Not deleted: … "
     "Nothing was sent to the server.\"); Inspect shows the row as last known, saying "
     "its history and who did what cannot be read now; what the app reads or marks by "
     "itself (activity, read marks) keeps what it showed, without a toast; "
     "an audit entry made meanwhile goes to this machine's file, saying so. Back: the "
     "banner goes and what was missed is read by the change counter. Measured with "
     "PostgreSQL stopped for 30 s under two and five app processes on 10,000 watched "
     "(`bench_team.py`, 5 s interval, a loaded machine): no process crashed or printed a "
     "traceback; each showed the banner, within 4.9 s of the stop; no API request went "
     "out while nobody could hold the lead; from the server back, polling resumed after "
     "1.5 to 2.1 s, every banner was gone after at most 5.8 s and the statuses changed "
     "meanwhile were on every process after 6.3 to 6.9 s (bound: the longest retry, 30 s, "
     "+ two intervals), a note written then was on the others within 0.03 s; the history "
     "and audit from before were kept, each change around the outage recorded once and a "
     "delete confirmed once. No store call waits for a pooled connection on the event "
     "loop: a pooled connection found dead is replaced by a new one tried at once, and "
     "when that is refused the call fails then; the leader's LISTEN connection, broken "
     "with the server, tells the store at once in its thread; while away, a call on the "
     "event loop is refused at once and a thread tries the database for it "
     "(`tests/core/teamstore/test_outage_loop.py`). Before, the leader's first store "
     "call after the stop waited on the event loop up to 5 s (about 5 s in five runs of "
     "six). Measured since (ad hoc, not in `benchmarks/`) with one leading app on 20 "
     "active rows, 1 s interval, the server stopped under a 10 ms ticker on the loop: "
     "the longest stall was 0.02 to 0.05 s in fourteen stops, against 5.0 s in two "
     "stops of five before."),
    ("Leader killed (SIGKILL)",
     "PostgreSQL ends the killed app's session and with it the advisory lock; a follower "
     "takes the lead at its next try (every poll interval, at most every second) and "
     "polls; its header stops saying \"following …\". Measured with five app processes "
     "on 10,000 watched (`bench_team.py`, 5 s interval, a loaded machine): polling "
     "resumed 1.06 s after the kill (target: two intervals); every status is in the "
     "history once and a delete is confirmed once in the audit "
     "(`tests/core/teamstore/test_takeover_processes.py`, two processes)."),
    ("Schema newer than the app",
     "The app does not start: one sentence, \"The team database has schema N, newer than "
     "this app's M: upgrade conversions-tui to use it.\", and no traceback; `conversions-tui "
     "team migrate` refuses with the same sentence and `team status` says to upgrade."),
)


def render_store_faults() -> list[str]:
    """The section's Markdown lines."""
    lines = ["## The team store's faults (PostgreSQL)", "", STORE_FAULTS_INTRO, ""]
    for fault, seen in STORE_FAULTS:
        lines.append(f"- **{fault}.** {seen}")
    return lines
