"""The one place where text from the server is made safe to show.

Everything the server sends (file names, status words, warnings, metadata) is
untrusted. Before it reaches rendering it goes through :func:`printable`, which
makes control characters visible instead of passing them to the terminal:

* C0 controls become Unicode "control pictures" (ESC -> ␛, NUL -> ␀);
* DEL, C1 controls, BiDi overrides/isolates, and lone surrogates become a
  visible ``<U+XXXX>`` so a right-to-left override cannot reorder the screen;
* over-long text is cut with an ellipsis.

Markup is a separate concern: the UI wraps the result in ``rich.text.Text``
(never ``Text.from_markup``), so ``[/]`` stays two brackets and a slash.
"""

from __future__ import annotations

import re

__all__ = ["is_clean", "printable"]

# C0 (except nothing: even tab and newline are made visible on one line), DEL,
# C1, BiDi embedding/override/isolate marks, LRM/RLM/ALM, line/paragraph
# separators, and lone surrogates (not encodable to the terminal).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ufeff\ud800-\udfff]"
)
_UNSAFE_MULTILINE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ufeff\ud800-\udfff]"
)


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ .. ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def printable(text: str, *, limit: int | None = 2000, multiline: bool = False) -> str:
    """Return ``text`` with every control character made visible and cut to ``limit``.

    ``multiline`` keeps line feeds (for lists of messages); everything else that
    could move the cursor, change colours or reorder text is replaced.
    """
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    pattern = _UNSAFE_MULTILINE if multiline else _UNSAFE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_visible, text)


def is_clean(text: str) -> bool:
    """True when ``text`` holds no character that :func:`printable` would replace."""
    return _UNSAFE.search(text) is None
