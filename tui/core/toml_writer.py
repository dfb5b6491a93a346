"""TOML written by the app (the config file, saved views): :func:`dumps_toml`.

tomllib only reads; what the app writes is simple (nested tables of strings, numbers,
booleans and lists of them), so a small writer with the escapes TOML requires is enough.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps_toml", "toml_key"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}


def _toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise ValueError("a lone surrogate cannot be written to TOML")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    """``key`` as TOML writes it: bare when it can be, else a quoted string."""
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"integer {value} does not fit TOML's 64 bits")
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # always has "." or "e": stays a float when read back
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _dump_table(table: Mapping[str, Any], prefix: tuple[str, ...], out: list[str]) -> None:
    scalars = [(k, v) for k, v in table.items() if not isinstance(v, Mapping)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
    if prefix:
        out.append(("\n" if out else "") + "[" + ".".join(map(toml_key, prefix)) + "]")
    out.extend(f"{toml_key(key)} = {_toml_value(value)}" for key, value in scalars
               if value is not None)
    for key, value in tables:
        _dump_table(value, (*prefix, key), out)


def dumps_toml(data: Mapping[str, Any]) -> str:
    """Write nested mappings of str/int/float/bool (and lists of them) as TOML.

    ``None`` values are left out (TOML has no null). Comments in a file read
    earlier are not kept: tomllib does not report them.
    """
    out: list[str] = []
    _dump_table(data, (), out)
    return "\n".join(out) + "\n"
