"""Checking the records of a batch post, one by one, as the spec's ConversionRecord says."""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

MAX_ITEMS = 100
MAX_BODY_BYTES = 25 * 1024 * 1024
MAX_CONTENT_BYTES = 10 * 1024 * 1024
MAX_FILE_NAME = 255
MAX_REFERENCE = 200

#: Accepted data source types, by lower-case spelling -> canonical spelling.
DATA_SOURCE_TYPES = {name.lower(): name for name in ("Csv", "Excel", "Json", "Xml", "Pdf",
                                                     "Image")}
_EXTENSIONS = {
    "Csv": (".csv", ".txt"), "Excel": (".xlsx", ".xls", ".xlsm"), "Json": (".json",),
    "Xml": (".xml",), "Pdf": (".pdf",), "Image": (".png", ".jpg", ".jpeg", ".tif", ".tiff"),
}
_KNOWN_FIELDS = frozenset({"fileName", "dataSourceType", "content", "externalReference"})
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_TEXT_TYPES = frozenset({"Csv", "Json", "Xml"})


@dataclass
class RecordCheck:
    """The verdict on one record: accepted when ``errors`` is empty."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    file_name: str = ""
    data_source_type: str = ""
    external_reference: str | None = None
    size: int = 0
    #: A reason the content will fail processing (found now, reported when it ends).
    failure: str | None = None


def check_record(item: Any) -> RecordCheck:
    """Validate one item of the batch array."""
    check = RecordCheck()
    if not isinstance(item, dict):
        check.errors.append("Record is not a JSON object")
        return check
    _check_file_name(item.get("fileName"), check)
    _check_type(item.get("dataSourceType"), check)
    content = _check_content(item.get("content"), check)
    reference = item.get("externalReference")
    if reference is not None:
        if not isinstance(reference, str):
            check.errors.append("externalReference must be a string")
        elif len(reference) > MAX_REFERENCE:
            check.errors.append(f"externalReference is longer than {MAX_REFERENCE} characters")
        else:
            check.external_reference = reference
    for name in sorted(set(item) - _KNOWN_FIELDS):
        check.warnings.append(f"Unknown field '{_short(name)}' ignored")
    if not check.errors:
        if not check.file_name.lower().endswith(_EXTENSIONS[check.data_source_type]):
            check.warnings.append(
                f"fileName extension does not look like {check.data_source_type}")
        if content is not None:
            check.failure = _content_failure(content, check.data_source_type)
    return check


def _short(text: str) -> str:
    """A name quoted back in a message: printable and short."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= 40 else clean[:39] + "…"


def _check_file_name(value: Any, check: RecordCheck) -> None:
    if value is None:
        check.errors.append("fileName is required")
    elif not isinstance(value, str):
        check.errors.append("fileName must be a string")
    elif not value:
        check.errors.append("fileName is empty")
    elif len(value) > MAX_FILE_NAME:
        check.errors.append(f"fileName is longer than {MAX_FILE_NAME} characters")
    elif "/" in value or "\\" in value:
        check.errors.append("fileName must be a bare file name (no '/' or '\\')")
    elif any(unicodedata.category(c) == "Cc" for c in value):
        check.errors.append("fileName contains control characters")
    elif value.strip(" .") == "":
        check.errors.append("fileName is not a file name")
    else:
        check.file_name = value


def _check_type(value: Any, check: RecordCheck) -> None:
    if value is None:
        check.errors.append("dataSourceType is required")
    elif not isinstance(value, str) or value.lower() not in DATA_SOURCE_TYPES:
        shown = _short(value) if isinstance(value, str) else type(value).__name__
        known = ", ".join(DATA_SOURCE_TYPES.values())
        check.errors.append(f"dataSourceType '{shown}' is not one of {known}")
    else:
        check.data_source_type = DATA_SOURCE_TYPES[value.lower()]


def _check_content(value: Any, check: RecordCheck) -> bytes | None:
    if value is None:
        check.errors.append("content is required")
        return None
    if not isinstance(value, str):
        check.errors.append("content must be a base64 string")
        return None
    if not value:
        check.errors.append("content is empty")
        return None
    padding = len(value) - len(value.rstrip("="))
    decoded_size = len(value) // 4 * 3 - padding
    if len(value) % 4 or not _BASE64.fullmatch(value):
        check.errors.append("content is not standard base64 (with padding, no line breaks)")
        return None
    if decoded_size > MAX_CONTENT_BYTES:
        check.errors.append(f"content is larger than {MAX_CONTENT_BYTES // (1024 * 1024)} MiB")
        return None
    try:
        data = base64.b64decode(value, validate=True)
    except binascii.Error:
        check.errors.append("content is not standard base64 (with padding, no line breaks)")
        return None
    if not data:
        check.errors.append("content is empty")
        return None
    check.size = len(data)
    return data


def _content_failure(data: bytes, kind: str) -> str | None:
    """Problems a real service would only report after processing."""
    if kind not in _TEXT_TYPES:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"File is not valid UTF-8 (byte 0x{data[exc.start]:02X} at offset {exc.start})"
    if kind == "Json":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return f"Line {exc.lineno}: invalid JSON ({exc.msg})"
    return None
