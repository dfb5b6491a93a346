"""Reading conversion IDs out of whatever a person types or pastes.

Accepted: single IDs (``42``), lists separated by spaces, commas, semicolons
or bars (``1 2 3``, ``1,2;3``), ranges (``120-130``, ``120..130``, ``120–130``,
also with spaces around the dash) and ticket text such as ``Conversions #4512,
4513 and id=4520 failed``. Words without digits are ignored; anything else with
a digit that is not an ID is reported in :attr:`IdListResult.invalid` with the
reason, so nothing the user gave silently disappears.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tui.core.untrusted import printable

__all__ = ["MAX_ID", "IdListResult", "parse_id_list"]

MAX_ID = 2**63 - 1  # the API's ids are positive 64-bit integers

_SEPARATORS = re.compile(r"[\s,;|]+")
# A range written with spaces around its dash ("120 - 130") is joined first, so the
# split below sees one token. A lone "-5" after a number ("1 -5") is left alone.
_SPACED_RANGE = re.compile(r"(?<=\d)[ \t]+(-|–|—|\.\.|…)[ \t]+(?=\d)")
_RANGE = re.compile(r"(\d+)(?:-|–|—|\.\.|…)(\d+)")
_NUMBER = re.compile(r"\d+")
# "#4512", "id=4520", "ID:7", "conversion#12", "no.5": a label the number may carry.
_LABEL = re.compile(r"(?i)(?:(?:ids?|conversions?|no|nr|number)\s*[#=:.]+|#+)")
_WRAPPING = "\"'`()[]{}<>.,:;!?*_“”‘’«»"
_SHOWN_LIMIT = 40


@dataclass
class IdListResult:
    """IDs found (unique, in the order given) and each rejected piece with why."""

    ids: list[int] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def _number(digits: str) -> tuple[int | None, str | None]:
    """The value of a run of digits, or why it is no ID."""
    digits = digits.lstrip("0") or "0"
    # Checked on length first: int() of a huge digit string is slow, and refused past 4300.
    if len(digits) > len(str(MAX_ID)) or int(digits) > MAX_ID:
        return None, "too large: IDs fit in 64 bits"
    value = int(digits)
    if value == 0:
        return None, "IDs start at 1"
    return value, None


def _read_token(token: str, max_range: int) -> tuple[list[int] | range, str | None]:
    """IDs in one token, or the reason it is invalid. No digits: nothing, no reason."""
    core = token.strip(_WRAPPING)
    label = _LABEL.match(core)
    if label:
        core = core[label.end():]
    if _NUMBER.fullmatch(core):
        value, why = _number(core)
        return ([value] if value is not None else []), why
    ranged = _RANGE.fullmatch(core)
    if ranged:
        (low, why_low), (high, why_high) = _number(ranged[1]), _number(ranged[2])
        if low is None or high is None:
            return [], why_low or why_high
        if high < low:
            return [], "range runs backwards"
        if high - low + 1 > max_range:
            return [], f"range of {high - low + 1:,} IDs is over the limit of {max_range:,}"
        return range(low, high + 1), None
    if core.startswith("-") and _NUMBER.fullmatch(core[1:]):
        return [], "negative numbers are not IDs"
    if any(char.isdigit() for char in token):
        return [], "not an ID"
    return [], None


def parse_id_list(text: str, *, max_range: int = 10_000) -> IdListResult:
    """Find the conversion IDs in ``text`` (typed, pasted from a ticket, or a range).

    ``max_range`` caps how many IDs one range may stand for, so a typo such as
    ``1-1000000`` is reported instead of filling the watchlist.
    """
    result = IdListResult()
    seen: set[int] = set()
    joined = _SPACED_RANGE.sub(r"\1", text)
    for token in _SEPARATORS.split(joined):
        if not token:
            continue
        found, why = _read_token(token, max_range)
        if why is not None:
            shown = printable(token.strip(_WRAPPING) or token, limit=_SHOWN_LIMIT)
            result.invalid.append(f"{shown} ({why})")
            continue
        for value in found:
            if value not in seen:
                seen.add(value)
                result.ids.append(value)
    return result
