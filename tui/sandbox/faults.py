"""Fault injection: what can go wrong between a client and the API, switchable at run time.

A ``FaultConfig`` lives on the state; the fault middleware reads it on every request, so a
test (or ``PUT /_control/faults``) can change it while the server runs. Rates are
probabilities from 0 to 1 (``True`` counts as 1).
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

#: Which requests an ID-scoped fault touches: ``True`` every request under
#: ``path_prefix`` (batch posts included), else the conversion IDs named in the path.
IdScope = bool | tuple[int, ...]

#: The ID-scoped faults: hostile answers for chosen conversions.
SCOPED_FAULTS = (
    "endless_ids", "oversized_ids", "trickle_ids", "gzip_bomb_ids", "forbidden_ids",
    "wrong_id_for",
)

#: Field names, for the control plane and the docs.
FAULT_NAMES = (
    "latency", "error_rate", "error_status", "html_error", "malformed_json",
    "truncated_json", "drop_connection", "rate_limit", "rate_limit_burst", "storm",
    "retry_after", "path_prefix", *SCOPED_FAULTS, "oversized_bytes", "oversized_chunked",
    "trickle_rate", "gzip_bomb_bytes", "wrong_id",
)
_SIZES = ("oversized_bytes", "gzip_bomb_bytes")
_FLAGS = ("storm", "oversized_chunked")

PROXY_502_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@dataclass
class FaultConfig:
    """Which faults are on. All off by default; ``clear()`` turns them off again.

    - ``latency``: seconds added before every answer.
    - ``error_rate`` / ``error_status``: that share of requests answers an envelope with
      this status (500 by default; 429 adds Retry-After).
    - ``html_error``: that share answers a proxy-style 502 HTML page.
    - ``malformed_json``: that share answers 200 with a body that is not JSON.
    - ``truncated_json``: that share answers with the first half of the real body.
    - ``drop_connection``: that share closes the socket without any answer.
    - ``rate_limit``: requests per second allowed (token bucket holding
      ``rate_limit_burst`` tokens, default one second's worth); beyond it 429.
    - ``storm``: every request answers 429.
    - ``retry_after``: seconds sent in Retry-After on a storm or error 429.
    - ``path_prefix``: only requests whose path starts with it are touched.
      The control plane (``/_control``) is never touched.

    Hostile answers for chosen conversions (each an :data:`IdScope`: a list of IDs, or
    ``True`` for every request):

    - ``endless_ids``: 200, application/json, chunked, a body that never ends (it stops
      when the client hangs up, or after 1 GiB).
    - ``oversized_ids``: the real answer padded with spaces to ``oversized_bytes``, with a
      Content-Length (chunked without one when ``oversized_chunked``).
    - ``trickle_ids``: the real answer, ``trickle_rate`` bytes a second.
    - ``gzip_bomb_ids``: the real answer padded to ``gzip_bomb_bytes``, gzip-compressed
      (about a thousandth of that on the wire), ``Content-Encoding: gzip``.
    - ``forbidden_ids``: 403 with the profile, "You do not have access to this conversion".
    - ``wrong_id_for``: the real answer about conversion ``wrong_id`` instead (its
      ``fileName`` is ``someone-elses.csv``).
    """

    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 500
    html_error: float = 0.0
    malformed_json: float = 0.0
    truncated_json: float = 0.0
    drop_connection: float = 0.0
    rate_limit: float | None = None
    rate_limit_burst: float | None = None
    storm: bool = False
    retry_after: int = 1
    path_prefix: str = "/v1"
    endless_ids: IdScope = ()
    oversized_ids: IdScope = ()
    oversized_bytes: int = 20 * 1024 * 1024
    oversized_chunked: bool = False
    trickle_ids: IdScope = ()
    trickle_rate: float = 0.5
    gzip_bomb_ids: IdScope = ()
    gzip_bomb_bytes: int = 1024 * 1024 * 1024
    forbidden_ids: IdScope = ()
    wrong_id_for: IdScope = ()
    wrong_id: int = 99

    def clear(self) -> None:
        """Turn every fault off."""
        for spec in fields(self):
            setattr(self, spec.name, getattr(FaultConfig(), spec.name))

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``changes`` (field name -> value), checking names and types."""
        checked = {name: _check(name, value) for name, value in changes.items()}
        for name, value in checked.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        """The settings as JSON-friendly values."""
        return asdict(self)

    @property
    def active(self) -> bool:
        """Whether any fault is on."""
        return self != FaultConfig(path_prefix=self.path_prefix)


def touches(scope: IdScope | list[int], conversion_id: int | None) -> bool:
    """Whether an ID-scoped fault set to ``scope`` applies to a request about
    ``conversion_id`` (None for a request without one, such as a batch post)."""
    if scope is True:
        return True
    if scope is False or conversion_id is None:
        return False
    return conversion_id in scope


def _check(name: str, value: Any) -> Any:
    if name not in FAULT_NAMES:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULT_NAMES)}")
    if name == "path_prefix":
        if not isinstance(value, str):
            raise ValueError("path_prefix must be a string")
        return value
    if name in _FLAGS:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if name in SCOPED_FAULTS:
        return _check_scope(name, value)
    if name in (*_SIZES, "wrong_id"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1")
        return value
    if name == "trickle_rate" and (isinstance(value, bool) or value == 0):
        raise ValueError("trickle_rate must be a number of bytes a second > 0")
    if name in ("rate_limit", "rate_limit_burst") and value is None:
        return None
    if isinstance(value, bool):
        value = 1.0 if value else 0.0
    if not isinstance(value, int | float) or math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be a number >= 0")
    if name in ("error_status", "retry_after"):
        if int(value) != value:
            raise ValueError(f"{name} must be a whole number")
        if name == "error_status" and not 400 <= value <= 599:
            raise ValueError("error_status must be between 400 and 599")
        return int(value)
    if name in ("error_rate", "html_error", "malformed_json", "truncated_json",
                "drop_connection") and value > 1:
        raise ValueError(f"{name} is a share of requests, from 0 to 1")
    return float(value)


def _check_scope(name: str, value: Any) -> IdScope:
    if isinstance(value, bool):
        return value
    if isinstance(value, list | tuple) and all(
            isinstance(item, int) and not isinstance(item, bool) and item >= 1
            for item in value):
        return tuple(value)
    raise ValueError(f"{name} must be a list of conversion IDs, or true for every request")


class TokenBucket:
    """A rate limit: ``rate`` requests a second, bursts up to ``capacity``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: float | None = None
        self._stamp = time.monotonic()
        self._key: tuple[float, float] | None = None

    def take(self, rate: float, capacity: float | None) -> float:
        """Take a token: 0.0 if allowed, else the seconds until one is available."""
        burst = max(1.0, capacity if capacity is not None else rate)
        with self._lock:
            now = time.monotonic()
            if self._tokens is None or self._key != (rate, burst):
                self._tokens, self._key = burst, (rate, burst)  # new settings: start full
            else:
                self._tokens = min(burst, self._tokens + (now - self._stamp) * rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            if rate <= 0:
                return math.inf
            return (1.0 - self._tokens) / rate

    def reset(self) -> None:
        """Start full again."""
        with self._lock:
            self._tokens = None


class FaultDice:
    """The random draws deciding whether a request is hit (seedable, so tests repeat)."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def hit(self, rate: float) -> bool:
        """True with probability ``rate``."""
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        with self._lock:
            return self._rng.random() < rate
