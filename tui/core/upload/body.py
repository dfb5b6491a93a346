"""Batches of files, and the JSON body of one batch built straight from disk.

The body of a batch post is a JSON array of records whose ``content`` is the
file's bytes in base64. Building it through pydantic or ``json.dumps`` would hold
every file's bytes, its base64 text and the JSON text at once; here each file is
read, encoded and appended to one buffer, then dropped, so the only large object
left is the body itself (at most the byte budget).

The size of every record's JSON is known exactly from the file's size, so batches
are cut to the budget before any file is read.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tui.core.upload.plan import MAX_FILE_BYTES, UploadItem

__all__ = ["BuiltBody", "build_body", "group_batches", "record_size"]


def _text(value: str) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def _head(item: UploadItem) -> bytes:
    return (b'{"fileName":' + _text(item.file_name) + b',"dataSourceType":'
            + _text(item.data_source_type) + b',"content":"')


def _tail(reference: str | None) -> bytes:
    if reference is None:
        return b'"}'
    return b'","externalReference":' + _text(reference) + b"}"


def _base64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


def record_size(item: UploadItem, reference: str | None = None) -> int:
    """Bytes the item's record takes in the body (exact, for the size on disk)."""
    return len(_head(item)) + _base64_length(item.size) + len(_tail(reference))


def group_batches(items: Iterable[UploadItem], *, max_records: int, max_bytes: int,
                  reference: str | None = None) -> list[list[UploadItem]]:
    """Cut ``items`` into batches of at most ``max_records`` and ``max_bytes`` of body.

    Order is kept. A record larger than the budget on its own still gets a batch of
    its own (the server decides; a 413 then rejects just that file).
    """
    if max_records < 1 or max_bytes < 1:
        raise ValueError("a batch needs room for at least one record and one byte")
    batches: list[list[UploadItem]] = []
    current: list[UploadItem] = []
    size = 2  # the array's brackets
    for item in items:
        extra = record_size(item, reference) + (1 if current else 0)  # a comma
        if current and (len(current) >= max_records or size + extra > max_bytes):
            batches.append(current)
            current, size = [], 2
            extra = record_size(item, reference)
        current.append(item)
        size += extra
    if current:
        batches.append(current)
    return batches


@dataclass
class BuiltBody:
    """One batch's body, the items it carries (in array order) and those left out."""

    body: bytes
    items: list[UploadItem]
    unreadable: list[tuple[UploadItem, str]] = field(default_factory=list)

    @property
    def file_bytes(self) -> int:
        """The carried files' sizes, added up."""
        return sum(item.size for item in self.items)


def _read(item: UploadItem) -> bytes:
    """The file's bytes, refusing one that changed into something the API will not take."""
    with open(item.path, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if not data:
        raise ValueError("it is empty now")
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"it has grown beyond {MAX_FILE_BYTES // 2**20} MiB")
    return data


def build_body(items: Sequence[UploadItem], reference: str | None = None) -> BuiltBody:
    """Read ``items`` one by one into a JSON array body (blocking: run it on a thread).

    A file that cannot be read now (deleted, permissions changed, emptied) is left
    out with the reason; the body then carries the others.
    """
    buffer = io.BytesIO()
    # Size the buffer once for the body expected from the files' sizes: growing it step
    # by step would hold the old and the new copy at each step (twice the body).
    expected = 2 + max(len(items) - 1, 0) + sum(record_size(item, reference) for item in items)
    buffer.seek(expected - 1)
    buffer.write(b"\0")
    buffer.seek(0)
    buffer.write(b"[")
    carried: list[UploadItem] = []
    unreadable: list[tuple[UploadItem, str]] = []
    tail = _tail(reference)
    for item in items:
        try:
            data = _read(item)
        except OSError as error:
            unreadable.append((item, f"it could not be read when sending "
                                     f"({error.strerror or type(error).__name__})"))
            continue
        except ValueError as error:
            unreadable.append((item, f"{error} (checked when sending)"))
            continue
        if carried:
            buffer.write(b",")
        buffer.write(_head(item))
        buffer.write(base64.b64encode(data))
        buffer.write(tail)
        del data  # only the body stays in memory
        carried.append(item)
    buffer.write(b"]")
    buffer.truncate()  # shorter than expected when a file was left out or shrank
    # getvalue() hands over the buffer without a copy when nothing else holds it.
    return BuiltBody(body=buffer.getvalue(), items=carried, unreadable=unreadable)
