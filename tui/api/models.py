"""Pydantic models of the Conversions API wire format (see shared/api/openapi.yaml).

Attributes are snake_case; the wire names are camelCase aliases, and dumps use the
aliases. Every model keeps fields it does not know (``extra="allow"``), so nothing a
real server adds is lost.

Parsing server bytes goes through :meth:`Envelope.from_wire`:

* the fast path is one ``model_validate_json`` call on the bytes, entirely inside
  pydantic-core (a 1 MB file name or 100,000 warnings cost no per-item Python work;
  numbers where text belongs are turned into text there too);
* only when that fails does a tolerant path run in Python: error and warning lists
  that are not lists of text are coerced item by item (``"null"``, ``"true"``,
  ``{"code": 5}`` as JSON text), and any optional field of the wrong type is dropped
  so that its default applies (the original stays in :attr:`Envelope.raw`). An
  unknown key that is not valid Unicode (a lone surrogate, which JSON's ``\\ud800``
  escape allows) is kept with U+FFFD in place of the surrogate. A
  required field that is missing or wrong (a status's ``id`` or ``status``, a batch's
  ``results``) still fails: such an answer is not one the client can use.

Status words are plain strings, kept exactly as they came.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import to_json

__all__ = [
    "BatchEnvelope",
    "BatchRecordResult",
    "BatchResult",
    "ConversionRecord",
    "ConversionStatus",
    "Envelope",
    "Profile",
    "StatusEnvelope",
]

# Rounds of "drop the offending optional fields and try again" before giving up; each
# round fixes every error pydantic reported, nesting is at most three models deep.
_REPAIR_ROUNDS = 6
_TEXT_LIST_KEYS = ("errors", "warnings")
# How deep the models nest objects whose keys pydantic reads: envelope > payload >
# results[i] > conversion.
_MODEL_DEPTH = 4


class WireModel(BaseModel):
    """Base of every wire model: camelCase aliases, extra fields kept, numbers as text."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="allow",
        # A number where text belongs (an error code, a numeric file name) is shown,
        # not a crash, and pydantic-core does it without Python per item.
        coerce_numbers_to_str=True,
        # Validators are built on first use (the first answer), not at import: building
        # them all costs ~10 ms of every start, before the monitor's first screen.
        defer_build=True,
    )


class Profile(WireModel):
    """Whose API key this is (the envelope's ``profile``)."""

    id: int | None = None
    aad_id: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    created: datetime | None = None
    should_process_qr_codes: bool | None = None

    @property
    def display_name(self) -> str:
        """"First Last", else the e-mail address, else an empty string."""
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.email or ""


class ConversionStatus(WireModel):
    """One conversion as the status endpoint reports it; ``status`` is never an enum."""

    id: int
    status: str
    file_name: str | None = None
    data_source_type: str | None = None
    upload_date: datetime | None = None


class ConversionRecord(WireModel):
    """One item of a batch post: a file's bytes in base64 plus how to read them."""

    file_name: str
    data_source_type: str
    content: str
    external_reference: str | None = None


class BatchRecordResult(WireModel):
    """What the server decided about the record at ``index`` of a batch post."""

    index: int
    accepted: bool
    conversion: ConversionStatus | None = None
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class BatchResult(WireModel):
    """The payload of a batch post: counts and one result per record, in request order."""

    accepted: int | None = None
    rejected: int | None = None
    results: list[BatchRecordResult]


class Envelope(WireModel):
    """The wrapper around every answer. Every key may be missing from a real server."""

    profile: Profile | None = None
    payload: Any = None
    errors: list[str] = Field(default_factory=list)
    has_errors: bool = False
    warnings: list[str] = Field(default_factory=list)
    has_warnings: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)

    _raw_json: bytes | None = PrivateAttr(default=None)
    _raw_cache: dict[str, Any] | None = PrivateAttr(default=None)
    _http_status: int = PrivateAttr(default=200)

    @classmethod
    def from_wire(cls, content: bytes | str, *, http_status: int = 200) -> Self:
        """Parse an answer body. Raises ``ValueError`` (a ``ValidationError`` or a JSON
        error) when it is not a JSON object or a required field cannot be used."""
        body = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
        try:
            envelope = cls.model_validate_json(body)
        except ValidationError:
            envelope = cls.model_validate(_repaired(cls, _loads_object(body)))
        envelope._raw_json = body
        envelope._http_status = http_status
        return envelope

    @property
    def http_status(self) -> int:
        """The HTTP status code the envelope came with (200 when built by hand)."""
        return self._http_status

    @http_status.setter
    def http_status(self, value: int) -> None:
        self._http_status = value

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON object exactly as received (decoded on first use, for "show raw")."""
        if self._raw_cache is None:
            if self._raw_json is None:
                self._raw_cache = self.model_dump(mode="json", by_alias=True)
            else:
                self._raw_cache = _loads_object(self._raw_json)
        return self._raw_cache

    @property
    def raw_text(self) -> str:
        """The body as received, as text (invalid UTF-8 replaced)."""
        if self._raw_json is None:
            return self.model_dump_json(by_alias=True)
        return self._raw_json.decode("utf-8", "replace")


class StatusEnvelope(Envelope):
    """Envelope of the status and delete endpoints."""

    payload: ConversionStatus | None = None


class BatchEnvelope(Envelope):
    """Envelope of the batch post."""

    payload: BatchResult | None = None


def _loads_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except RecursionError:
        # A deeply nested body must fail like any other bad body, not crash the caller.
        raise ValueError("the answer is nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"the answer is a JSON {type(data).__name__}, not an object")
    return data


def _as_text(item: object) -> str:
    """JSON text of a value, cheaply for the scalars a hostile list is made of."""
    if isinstance(item, str):
        return item
    if item is None:
        return "null"
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return str(item)
    # pydantic-core's encoder: ten times faster than json.dumps per item.
    return to_json(item).decode("utf-8", "replace")


def _as_text_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [item if type(item) is str else _as_text(item) for item in value]
    return [_as_text(value)]


def _normalise_text_lists(data: dict[str, Any]) -> None:
    """Coerce every errors/warnings list (envelope and batch results) to a list of text."""
    for key in _TEXT_LIST_KEYS:
        if key in data:
            data[key] = _as_text_list(data[key])
    payload = data.get("payload")
    results = payload.get("results") if isinstance(payload, dict) else None
    if isinstance(results, list):
        for item in results:
            if isinstance(item, dict):
                for key in _TEXT_LIST_KEYS:
                    if key in item:
                        item[key] = _as_text_list(item[key])


def _mended(key: str) -> str:
    """``key`` with each lone surrogate replaced by U+FFFD (pydantic refuses them)."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in key)
    return key


def _mend_keys(value: object, depth: int) -> None:
    """Make every key of the objects the models read valid Unicode, in place.

    An unknown key is kept as an extra field; one pydantic cannot read as text fails the
    whole object (not one field), so a lone surrogate in a key a server added would
    otherwise refuse an answer whose id and status are fine.
    """
    if depth <= 0:
        return
    if isinstance(value, dict):
        for key in list(value):
            if isinstance(key, str) and (mended := _mended(key)) != key:
                value[mended] = value.pop(key)
        for item in value.values():
            if isinstance(item, dict | list):
                _mend_keys(item, depth - 1)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                _mend_keys(item, depth - 1)


def _repaired(model: type[Envelope], data: dict[str, Any]) -> dict[str, Any]:
    """Make ``data`` acceptable to ``model`` by dropping optional fields of the wrong type.

    Raises the last ``ValidationError`` when a required field is missing or wrong.
    """
    _mend_keys(data, _MODEL_DEPTH)
    _normalise_text_lists(data)
    for flag, source in (("hasErrors", "errors"), ("hasWarnings", "warnings")):
        if flag in data and not isinstance(data[flag], bool):
            data[flag] = bool(data.get(source))
    for _ in range(_REPAIR_ROUNDS):
        try:
            model.model_validate(data)
        except ValidationError as exc:
            problems = exc.errors(include_url=False, include_input=False, include_context=False)
            # Deepest and last first, so dropping one key never moves another's path.
            locations = sorted((p["loc"] for p in problems if p["type"] != "missing"),
                               key=lambda loc: (len(loc), [str(part) for part in loc]),
                               reverse=True)
            if not locations or not all(_drop(data, loc) for loc in locations):
                raise
        else:
            return data
    raise ValueError("the answer could not be repaired")


def _drop(data: dict[str, Any], loc: tuple[int | str, ...]) -> bool:
    """Remove the value at ``loc`` when it is a key of an object (its default then applies)."""
    if not loc or not isinstance(loc[-1], str):
        return False  # the root itself, or an item of a list: nothing optional to drop
    parent: Any = data
    for part in loc[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return True  # already dropped with an enclosing value
    if isinstance(parent, dict):
        parent.pop(loc[-1], None)
        return True
    return False
