"""Properties over hostile input: the envelope parser, the client, the ID-list parser.

* ``Envelope.from_wire`` on any JSON value, on envelopes with random parts replaced by
  random JSON, and on bytes that are not JSON at all (truncated, invalid UTF-8, random):
  a model, or a ``ValueError`` (its documented failure), never anything else; a model
  it returns can always show its raw form. Mangling only optional parts never loses
  the conversion's id and status (the parser drops what it cannot use).
* ``ConversionsClient`` answering random status codes, headers and bodies through
  ``httpx.MockTransport`` (shapes the sandbox cannot produce on purpose): an envelope
  or an ``ApiError``, never another exception.
* ``parse_id_list`` on any text: valid, unique ids in order; every rejected piece named;
  parsing its own output gives the same ids.

Example counts are bounded so the module runs in a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tui.api.client import ConversionsClient, parse_retry_after
from tui.api.errors import ApiError, RateLimitedError
from tui.api.models import BatchEnvelope, ConversionStatus, Envelope, StatusEnvelope
from tui.core.idlist import MAX_ID, parse_id_list

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ----------------------------------------------------------------------------- JSON values
# Every code point, control characters and lone surrogates included (JSON escapes them).
_any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF)
_texts = st.one_of(
    st.text(_any_char, max_size=20),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x9F), max_size=10),  # C0/C1
    st.sampled_from(["", "null", "true", "[]", "{}", "2026-01-01T00:00:00Z", "Completed",
                     "\u202eevil", "\x1b[31mred", "0", "-1", "1e400"]),
)
_numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**63 - 1, 2**63, 2**64, -(2**63)]),
    st.floats(allow_nan=False, allow_infinity=False),
)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _texts)
json_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(_texts, inner, max_size=4)),
    max_leaves=12,
)


def _encode(value: Any, ascii_only: bool) -> bytes:
    """JSON bytes; non-ASCII text as UTF-8 (lone surrogates as their WTF-8 bytes)."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def _sandbox_like(conversion_id: int = 48210, status: str = "Completed") -> dict[str, Any]:
    """A status envelope shaped like the sandbox's (and the spec's) answer."""
    return {
        "profile": {"id": 7, "aadId": "0b7c", "email": "dana.whitfield@northwind.example",
                    "firstName": "Dana", "lastName": "Whitfield", "company": "Northwind",
                    "created": "2024-02-01T09:30:00Z", "shouldProcessQrCodes": False},
        "payload": {"id": conversion_id, "status": status, "fileName": "payroll Q3.xlsx",
                    "dataSourceType": "Excel", "uploadDate": "2026-05-04T08:00:00Z"},
        "errors": [],
        "hasErrors": False,
        "warnings": ["Row 14: date '03/04' is ambiguous; read as 3 April"],
        "hasWarnings": True,
        "metadata": {"sizeBytes": 1234, "rowsRead": 10},
    }


# Paths into the envelope above that are optional: mangling them must never lose the
# conversion's id and status. ("payload" itself, payload.id and payload.status are not.)
_OPTIONAL_PATHS: list[tuple[str, ...]] = [
    ("profile",), ("profile", "id"), ("profile", "aadId"), ("profile", "email"),
    ("profile", "firstName"), ("profile", "created"), ("profile", "shouldProcessQrCodes"),
    ("payload", "fileName"), ("payload", "dataSourceType"), ("payload", "uploadDate"),
    ("errors",), ("hasErrors",), ("warnings",), ("hasWarnings",), ("metadata",),
    ("metadata", "sizeBytes"),
]
_REQUIRED_PATHS: list[tuple[str, ...]] = [("payload",), ("payload", "id"),
                                          ("payload", "status")]
_DELETE = object()


def _mangle(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    parent: Any = data
    for part in path[:-1]:
        if not isinstance(parent, dict) or not isinstance(parent.get(part), dict):
            return  # an enclosing value was already replaced
        parent = parent[part]
    if value is _DELETE:
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = value


_replacement = st.one_of(json_values, st.just(_DELETE))


def _with_extra_key(where: str | None, key: str, value: Any) -> dict[str, Any]:
    """The sandbox-like envelope with one unknown key added (at the top, or in ``where``)."""
    data = _sandbox_like()
    (data if where is None else data[where])[key] = value
    return data


@st.composite
def mangled_envelopes(draw: st.DrawFn, paths: list[tuple[str, ...]]) -> dict[str, Any]:
    """The sandbox-like envelope with some of ``paths`` replaced by random JSON (or gone)."""
    data = _sandbox_like()
    chosen = draw(st.lists(st.sampled_from(paths), min_size=1, max_size=5, unique=True))
    for path in chosen:
        _mangle(data, path, draw(_replacement))
    # Unknown keys too, anywhere a real server might add one.
    for _ in range(draw(st.integers(0, 2))):
        where = draw(st.sampled_from([data, data.get("payload"), data.get("profile")]))
        if isinstance(where, dict):
            where[draw(_texts)] = draw(json_values)
    return data


# ----------------------------------------------------------------------------- the checks
def _check_model(envelope: Envelope) -> None:
    """What every envelope handed out must be able to do without raising."""
    assert isinstance(envelope.errors, list)
    assert all(isinstance(item, str) for item in envelope.errors)
    assert all(isinstance(item, str) for item in envelope.warnings)
    assert isinstance(envelope.metadata, dict)
    assert isinstance(envelope.has_errors, bool)
    assert isinstance(envelope.has_warnings, bool)
    assert isinstance(envelope.raw_text, str)
    assert isinstance(envelope.raw, dict)  # "show raw" must work for anything parsed
    if isinstance(envelope, StatusEnvelope) and envelope.payload is not None:
        assert isinstance(envelope.payload, ConversionStatus)
        assert isinstance(envelope.payload.id, int)
        assert isinstance(envelope.payload.status, str)


def _parse_or_value_error(model: type[Envelope], body: bytes | str) -> Envelope | None:
    """``model.from_wire(body)``: the model, or None after a ValueError; anything else
    escapes and fails the test."""
    try:
        envelope = model.from_wire(body)
    except ValueError as error:
        assert str(error)  # a clear error says something
        return None
    assert isinstance(envelope, model)
    _check_model(envelope)
    return envelope


@pytest.mark.parametrize("model", [StatusEnvelope, BatchEnvelope])
@FAST
@given(value=json_values, ascii_only=st.booleans())
def test_any_json_value_gives_a_model_or_a_value_error(model: type[Envelope], value: Any,
                                                       ascii_only: bool) -> None:
    result = _parse_or_value_error(model, _encode(value, ascii_only))
    if not isinstance(value, dict):
        assert result is None  # only an object can be an envelope


@FAST
@given(data=mangled_envelopes(_OPTIONAL_PATHS + _REQUIRED_PATHS), ascii_only=st.booleans())
def test_mangled_envelopes_give_a_model_or_a_value_error(data: dict[str, Any],
                                                         ascii_only: bool) -> None:
    _parse_or_value_error(StatusEnvelope, _encode(data, ascii_only))


@FAST
@given(data=mangled_envelopes(_OPTIONAL_PATHS), ascii_only=st.booleans())
# Found by hypothesis: an unknown key that is a lone surrogate (JSON "\ud800") made
# pydantic refuse the whole object, so the answer (or its payload) was lost.
@example(data=_with_extra_key(None, "\ud800", 0), ascii_only=True)
@example(data=_with_extra_key(None, "\ud800", 0), ascii_only=False)
@example(data=_with_extra_key("payload", "a\udfffb", "\ud800"), ascii_only=True)
@example(data=_with_extra_key("profile", "\ud800", None), ascii_only=True)
def test_mangled_optional_parts_never_lose_the_id_and_status(data: dict[str, Any],
                                                             ascii_only: bool) -> None:
    envelope = _parse_or_value_error(StatusEnvelope, _encode(data, ascii_only))
    assert isinstance(envelope, StatusEnvelope), "an answer with a usable id/status was refused"
    assert envelope.payload is not None
    assert (envelope.payload.id, envelope.payload.status) == (48210, "Completed")


@pytest.mark.parametrize("where", [None, "payload", "profile"])
def test_a_lone_surrogate_key_is_kept_mended_and_loses_nothing(where: str | None) -> None:
    body = _encode(_with_extra_key(where, "x\ud800", 1), ascii_only=True)
    envelope = StatusEnvelope.from_wire(body)
    assert envelope.payload is not None
    assert (envelope.payload.id, envelope.payload.status) == (48210, "Completed")
    assert envelope.profile is not None and envelope.profile.display_name == "Dana Whitfield"
    holder = envelope if where is None else getattr(envelope, where)
    assert (holder.model_extra or {}).get("x\ufffd") == 1  # kept, its surrogate mended
    raw = envelope.raw if where is None else envelope.raw[where]
    assert raw["x\ud800"] == 1  # "show raw" shows what came


def _sandbox_like_bytes() -> bytes:
    return json.dumps(_sandbox_like()).encode()


@FAST
@given(body=st.one_of(
    st.binary(max_size=200),
    st.integers(0, len(_sandbox_like_bytes()) - 1).map(lambda n: _sandbox_like_bytes()[:n]),
    st.tuples(st.integers(0, len(_sandbox_like_bytes())), st.binary(min_size=1, max_size=4))
    .map(lambda t: _sandbox_like_bytes()[:t[0]] + t[1] + _sandbox_like_bytes()[t[0]:]),
    st.sampled_from([b"", b"\xff\xfe{}", b"\xef\xbb\xbf{}", b"<html>502</html>",
                     b"[" * 100_000, b'{"a":' * 5000, b"\x00" * 10,
                     '{"payload":{"id":1,"status":"\udcff"}}'.encode("utf-8", "surrogatepass"),
                     b'{"payload":{"id":1,"status":"\xc3"}}',
                     b'{"payload":{"id":1,"status":"ok"}} trailing']),
))
def test_bytes_that_are_not_json_give_a_value_error_or_a_model(body: bytes) -> None:
    for model in (StatusEnvelope, BatchEnvelope, Envelope):
        _parse_or_value_error(model, body)


@FAST
@given(text=st.text(_any_char, max_size=60))
def test_text_bodies_give_a_value_error_or_a_model(text: str) -> None:
    _parse_or_value_error(StatusEnvelope, text)  # str bodies, lone surrogates included


# ----------------------------------------------------------------------------- the client
_http_dates = st.builds(
    "{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT".format,
    st.sampled_from(["Mon", "Tue", "Sun", "Xyz"]), st.integers(0, 40),
    st.sampled_from(["Jan", "Feb", "Dec", "Foo"]), st.integers(1, 9999),
    st.integers(0, 30), st.integers(0, 70), st.integers(0, 70))
_retry_after = st.one_of(
    st.none(), _http_dates,
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
    st.floats(allow_nan=True, allow_infinity=True).map(str), st.integers().map(str))
_content_types = st.sampled_from([None, "application/json", "text/html; charset=utf-8",
                                  "application/problem+json", "text/plain", "bogus"])
_bodies = st.one_of(
    json_values.map(lambda value: _encode(value, True)),
    mangled_envelopes(_OPTIONAL_PATHS + _REQUIRED_PATHS).map(lambda value: _encode(value, False)),
    st.just(_sandbox_like_bytes()),
    st.binary(max_size=100),
    st.sampled_from([b"", b"<html><body>502 Bad Gateway</body></html>", b"{",
                     b'{"payload": null}', b'{"payload": {"results": []}}']),
)
_statuses = st.one_of(st.integers(100, 999),
                      st.sampled_from([200, 201, 202, 204, 207, 301, 400, 401, 403, 404,
                                       409, 410, 413, 429, 500, 502, 503]))


@pytest.fixture(scope="module")
def mocked_client() -> Iterator[tuple[ConversionsClient, dict[str, httpx.Response],
                                      asyncio.AbstractEventLoop]]:
    """One client on one loop for every example; the transport answers ``answer["next"]``."""
    answer: dict[str, httpx.Response] = {}
    loop = asyncio.new_event_loop()
    client = ConversionsClient("http://api.test", "property-key",
                               transport=httpx.MockTransport(lambda request: answer["next"]))
    try:
        yield client, answer, loop
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()


def _response(status: int, body: bytes, content_type: str | None,
              retry_after: str | None) -> httpx.Response:
    headers = {}
    if content_type is not None:
        headers["content-type"] = content_type
    if retry_after is not None:
        headers["retry-after"] = retry_after
    return httpx.Response(status, content=body, headers=headers)


_CALLS: dict[str, Callable[[ConversionsClient], Any]] = {
    "get_status": lambda client: client.get_status(48210),
    "delete": lambda client: client.delete(48210),
    "post_batch": lambda client: client.post_batch(b'[{"fileName":"a.csv"}]'),
}


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(call=st.sampled_from(sorted(_CALLS)), status=_statuses, body=_bodies,
       content_type=_content_types, retry_after=_retry_after)
def test_the_client_gives_an_envelope_or_an_api_error(
        mocked_client: tuple[ConversionsClient, dict[str, httpx.Response],
                             asyncio.AbstractEventLoop],
        call: str, status: int, body: bytes, content_type: str | None,
        retry_after: str | None) -> None:
    client, answer, loop = mocked_client
    answer["next"] = _response(status, body, content_type, retry_after)
    try:
        result = loop.run_until_complete(_CALLS[call](client))
    except ApiError as error:
        assert str(error) and "property-key" not in str(error) + repr(error)
        assert error.status_code == status
        if isinstance(error, RateLimitedError):
            assert error.retry_after is None or error.retry_after >= 0
        return
    assert 200 <= status < 300 or (call == "post_batch" and status == 400)
    assert isinstance(result, BatchEnvelope if call == "post_batch" else StatusEnvelope)
    _check_model(result)
    if call != "delete":
        assert result.payload is not None  # get_status and post_batch promise one


@FAST
@given(value=_retry_after)
def test_retry_after_is_none_or_a_non_negative_number(value: str | None) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or seconds >= 0


_HUGE_YEAR = "Mon, 01 Jan 99999999999999999999 00:00:00 GMT"


def test_retry_after_with_a_huge_year_is_unreadable() -> None:
    assert parse_retry_after(_HUGE_YEAR) is None


def test_a_429_with_a_huge_year_is_rate_limited(
        mocked_client: tuple[ConversionsClient, dict[str, httpx.Response],
                             asyncio.AbstractEventLoop]) -> None:
    client, answer, loop = mocked_client
    answer["next"] = _response(429, b'{"errors":["slow down"]}', "application/json",
                               _HUGE_YEAR)
    with pytest.raises(RateLimitedError):
        loop.run_until_complete(client.get_status(48210))


# ----------------------------------------------------------------------------- ID lists
_MAX_RANGE = 50
_labels = st.sampled_from(["", "#", "id=", "ID:", "ids=", "conversion#", "no.", "Nr:"])
_wrappers = st.sampled_from([("", ""), ("(", ")"), ("[", "]."), ("'", "'"), ("“", "”"),
                             ("", ","), ("", "!")])
_separators = st.sampled_from([" ", ", ", ";", "\n", "\t", " | ", "\r\n", "\u2003"])


@st.composite
def id_tokens(draw: st.DrawFn) -> tuple[str, list[int]]:
    """A token a person might type, and the IDs it stands for (in order)."""
    kind = draw(st.sampled_from(["single", "single", "range", "zeros"]))
    if kind == "range":
        low = draw(st.integers(1, MAX_ID - _MAX_RANGE))
        high = low + draw(st.integers(0, _MAX_RANGE - 1))
        dash = draw(st.sampled_from(["-", "..", "–", "—", "…", " - ", " .. "]))
        return f"{low}{dash}{high}", list(range(low, high + 1))
    value = draw(st.integers(1, MAX_ID))
    text = str(value).zfill(draw(st.integers(0, 25))) if kind == "zeros" else str(value)
    label = draw(_labels)
    opening, closing = draw(_wrappers)
    return f"{opening}{label}{text}{closing}", [value]


_bad_tokens = st.one_of(
    st.just("0"), st.just("000"),
    st.integers(1, 10**6).map(lambda n: f"-{n}"),
    st.integers(MAX_ID + 1, 10**40).map(str),
    st.integers(1, 10**6).map(lambda n: f"{n}abc"),
    st.tuples(st.integers(2, 10**6), st.integers(0, 10**6))
    .filter(lambda t: t[1] < t[0]).map(lambda t: f"{t[0]}-{t[1]}"),  # backwards
    st.integers(1, 10**6).map(lambda n: f"{n}-{n + _MAX_RANGE}"),  # one over the cap
)


def _unique(values: list[int]) -> list[int]:
    return list(dict.fromkeys(values))


@settings(max_examples=300, deadline=None)
@given(text=st.text(_any_char, max_size=200))
@example(text="1" * 5000)
@example(text="٣ ۴۵ 1-٣")  # digits of other scripts
def test_any_text_gives_valid_unique_ids_and_named_rejects(text: str) -> None:
    result = parse_id_list(text, max_range=_MAX_RANGE)
    assert all(type(i) is int and 1 <= i <= MAX_ID for i in result.ids)
    assert len(result.ids) == len(set(result.ids))
    for item in result.invalid:
        # "<the piece, made printable> (<why>)", on one line
        assert re.fullmatch(r"(?s).+ \(.+\)", item), item
        assert "\n" not in item and "\x1b" not in item
    # Idempotent: parsing what was found finds exactly it again, nothing invalid.
    again = parse_id_list("\n".join(map(str, result.ids)), max_range=_MAX_RANGE)
    assert again.ids == result.ids
    assert again.invalid == []


@FAST
@given(tokens=st.lists(id_tokens(), max_size=15), glue=_separators)
def test_typed_ids_come_back_in_order(tokens: list[tuple[str, list[int]]], glue: str) -> None:
    result = parse_id_list(glue.join(text for text, _ in tokens), max_range=_MAX_RANGE)
    assert result.ids == _unique([value for _, values in tokens for value in values])
    assert result.invalid == []


@FAST
@given(tokens=st.lists(st.one_of(id_tokens().map(lambda t: (t, True)),
                                 _bad_tokens.map(lambda t: ((t, []), False))), max_size=15),
       glue=_separators)
def test_every_bad_piece_is_named_and_the_good_ones_kept(
        tokens: list[tuple[tuple[str, list[int]], bool]], glue: str) -> None:
    # A range written with spaces ("5 - 9") next to a bad piece could merge with it.
    assume(all(" " not in text for (text, _), _good in tokens))
    result = parse_id_list(glue.join(text for (text, _), _good in tokens),
                           max_range=_MAX_RANGE)
    bad = [text for (text, _), good in tokens if not good]
    assert result.ids == _unique([v for (_, values), good in tokens if good for v in values])
    assert len(result.invalid) == len(bad)
    for text, named in zip(bad, result.invalid, strict=True):
        assert named.startswith(text[:30]), (text, named)


@FAST
@given(values=st.lists(st.integers(1, MAX_ID), max_size=40), glue=_separators)
def test_joined_ids_round_trip(values: list[int], glue: str) -> None:
    result = parse_id_list(glue.join(map(str, values)))
    assert result.ids == _unique(values)
    assert result.invalid == []
