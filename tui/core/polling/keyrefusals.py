"""Whether 401/403 answers refuse the API key itself or only some conversions.

A key that may not see every customer's conversions gets a 403 for those (the
envelope still names the key's profile): those rows' problem, never a reason to
stop the monitor and ask for another key. :class:`KeyRefusals` keeps what the
answers since the last status answer say, and decides.
"""

from __future__ import annotations

from tui.api.errors import AuthenticationError

__all__ = ["KeyRefusals"]


class KeyRefusals:
    """Refusals naming a known key since the last answer, and whether they add up to a
    refused key (see :meth:`refused`). ``generation`` counts the clients (keys) used."""

    def __init__(self, rows_needed: int, interval: float) -> None:
        self._rows_needed = rows_needed
        self._interval = interval
        self._rows: set[int] = set()  # refused since the last answer
        self._since = 0.0  # when the first of them was refused
        self._known_row_refused = False  # one of them had answered this key before
        self._answered_with = -1  # the generation that last had any answer
        self._answered_rows: dict[int, int] = {}  # row -> generation of its last answer

    def answered(self, conversion_id: int, generation: int) -> None:
        """A status answer (or the API's 404): the key works; earlier refusals were rows'."""
        self._rows.clear()
        self._known_row_refused = False
        self._answered_with = generation
        self._answered_rows[conversion_id] = generation

    def refused(self, conversion_id: int, error: AuthenticationError, *, now: float,
                watched: int, generation: int) -> bool:
        """True when this refusal means the key itself is refused.

        A 401 (not authenticated), no envelope, or one without a profile: the key. A 403
        whose envelope names the key's profile: the key only when 403s came from
        ``rows_needed`` different rows (all of them if fewer are watched, at least two)
        for a whole interval with no answer between (every active row is asked once an
        interval, so rows polled in step cannot fake it), and one of them answered this
        key before or nothing ever has (rows it never could see, refused while the
        settled rows it can see are rarely asked, stay those rows' problems).
        """
        envelope = error.envelope
        if error.status_code != 403 or envelope is None or envelope.profile is None:
            return True
        if not self._rows:
            self._since = now
        self._rows.add(conversion_id)
        if self._answered_rows.get(conversion_id) == generation:
            self._known_row_refused = True
        needed = min(self._rows_needed, watched)
        if needed < 2 or len(self._rows) < needed or now - self._since < self._interval:
            return False
        return self._known_row_refused or self._answered_with != generation

    def new_key(self) -> None:
        """Another key from now on: refusals so far were the old key's."""
        self._rows.clear()
        self._known_row_refused = False

    def forget(self, ids: set[int]) -> None:
        """``ids`` are no longer watched."""
        self._rows -= ids
        for conversion_id in ids:
            self._answered_rows.pop(conversion_id, None)
