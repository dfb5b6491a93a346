"""Whether the server is failing, judged from the last checks of many rows.

A 502 for one row is that row's problem (the table's Problem column says so). When most
recent checks fail across several rows, the server is failing, and the banner says so
in one sentence: "Server failing: 20 of 20 checks in the last 30 s failed: HTTP 502,
HTML page". Without it a server answering errors to everything showed only as amber
"Checked" cells; the reason sat in Inspect.

Only answers that blame the server count as failures: a 5xx, an HTML page, a broken or
oversized answer, a drop or a timeout confirmed as the row's. A 403 for one conversion
(the key may not see it) or an answer about another conversion is that row's, and an
API 404 is a proper answer.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

__all__ = ["HEALTH_WINDOW", "ServerHealth", "ServerVerdict"]

HEALTH_WINDOW = 30.0
"""Seconds of checks the verdict looks at (at least six poll intervals)."""

_MIN_FAILED = 3  # fewer failed checks than this say nothing about the server
_MIN_ROWS = 2  # "across several rows": one ID that keeps failing is its own problem
_RECOVERED_AFTER = 3  # this many answers in a row end a failing spell at once


@dataclass(frozen=True, slots=True)
class ServerVerdict:
    """The server is failing: ``failed`` of ``checks`` in the last ``seconds`` failed."""

    failed: int
    checks: int
    seconds: float
    causes: tuple[tuple[str, int], ...]  # most common first: (cause, how many)

    def sentence(self) -> str:
        """"20 of 20 checks in the last 30 s failed: HTTP 502, HTML page"."""
        cause = ""
        if self.causes:
            cause = f": {self.causes[0][0]}"
            others = len(self.causes) - 1
            if others:
                cause += f" (and {others} other cause{'s' if others > 1 else ''})"
        return (f"{self.failed} of {self.checks} checks in the last {self.seconds:.0f} s "
                f"failed{cause}")


class ServerHealth:
    """The last checks' outcomes (on the scheduler's clock), and the verdict on them."""

    def __init__(self, interval: float) -> None:
        self._window = max(HEALTH_WINDOW, 6 * interval)
        # (clock time, row, cause: None when the check went through)
        self._checks: deque[tuple[float, int, str | None]] = deque()
        self._answered_in_a_row = 0
        self._told_at = -float("inf")
        self.verdict: ServerVerdict | None = None

    def record(self, conversion_id: int, cause: str | None, now: float) -> bool:
        """A check of ``conversion_id`` ended at ``now``, failing for ``cause`` (None: it
        went through). True when the banner should be told: the verdict changed, or its
        counts did and a second has passed (not once per check in a storm)."""
        self._checks.append((now, conversion_id, cause))
        self._answered_in_a_row = self._answered_in_a_row + 1 if cause is None else 0
        before = self.verdict
        if self.judge(now) or (self.verdict != before and now - self._told_at >= 1.0):
            self._told_at = now
            return True
        return False

    def judge(self, now: float) -> bool:
        """Judge again at ``now`` (old checks leave the window); True when it changed."""
        checks = self._checks
        while checks and checks[0][0] < now - self._window:
            checks.popleft()
        verdict = None
        if self._answered_in_a_row < _RECOVERED_AFTER:
            failed = [(row, cause) for _at, row, cause in checks if cause is not None]
            rows = {row for row, _cause in failed}
            if len(failed) >= _MIN_FAILED and len(rows) >= _MIN_ROWS and (
                    3 * len(failed) >= 2 * len(checks)):
                causes = Counter(cause for _row, cause in failed).most_common()
                verdict = ServerVerdict(len(failed), len(checks), self._window,
                                        tuple(causes))
        changed = (verdict is None) != (self.verdict is None) or (
            verdict is not None and self.verdict is not None
            and verdict.causes[0][0] != self.verdict.causes[0][0])
        self.verdict = verdict
        return changed

    def forget(self, ids: set[int]) -> None:
        """``ids`` are no longer watched: their checks no longer count."""
        self._checks = deque(check for check in self._checks if check[1] not in ids)
