"""Believable demo content: whose key it is, what files were sent, how they went."""

from __future__ import annotations

import random
from typing import Any

from tui.sandbox.lifecycle import (
    COMPLETED,
    DELETED,
    DELETION_PENDING,
    FAILED,
    PROCESSING,
    QUEUED,
    UPLOADED,
    Conversion,
    LifecyclePlan,
)

DEMO_PROFILE: dict[str, Any] = {
    "id": 7731,
    "aadId": "3f6c2a8e-51d4-4b7a-9e0c-8d2f1a6b4c90",
    "email": "dana.whitfield@northwind.example",
    "firstName": "Dana",
    "lastName": "Whitfield",
    "company": "Northwind Traders",
    "created": "2023-03-14T09:26:53Z",
    "shouldProcessQrCodes": False,
}

_FILE_STEMS: tuple[tuple[str, str, str], ...] = (
    ("invoices_{month}", "csv", "Csv"),
    ("payroll Q{quarter}", "xlsx", "Excel"),
    ("customer_export", "json", "Json"),
    ("supplier_catalogue_{month}", "xml", "Xml"),
    ("bank_statement_{month}", "pdf", "Pdf"),
    ("receipt_scan_{n}", "png", "Image"),
    ("expenses {month}", "xlsx", "Excel"),
    ("orders_{month}", "csv", "Csv"),
    ("inventory_snapshot", "json", "Json"),
    ("delivery_notes_{n}", "pdf", "Pdf"),
    ("timesheets_week{week}", "csv", "Csv"),
    ("vat_return Q{quarter}", "xlsx", "Excel"),
    ("price_list_{month}", "xml", "Xml"),
    ("contract_scan_{n}", "jpg", "Image"),
)

_ROW_WARNINGS = (
    "Row {row}: date '03/04' is ambiguous; read as 3 April",
    "Row {row}: trailing spaces trimmed in column 'customer'",
    "Row {row}: currency missing, assumed EUR",
    "Row {row}: duplicate invoice number 'INV-{num}' kept twice",
    "Row {row}: empty column 'vat_rate' treated as 0",
    "Sheet 'Summary' ignored: no table found",
    "Page {page}: low scan quality, text recognised with 71% confidence",
)

_FAILURES = (
    "Row {row}: column 'amount' is not a number ('12,5O')",
    "File is not valid UTF-8 (byte 0xE9 at offset {num})",
    "Row {row}: expected 9 columns, found 7",
    "Header row missing column 'invoice_date'",
    "Workbook is password protected",
    "Line {row}: unexpected end of JSON input",
    "Element <item> at line {row} is not closed",
    "Image resolution too low to read (72 dpi)",
)

# How seeded conversions spread over the lifecycle: (status, weight).
_SPREAD: tuple[tuple[str, int], ...] = (
    (COMPLETED, 40), (FAILED, 12), (PROCESSING, 14), (QUEUED, 7), (UPLOADED, 5),
    (DELETION_PENDING, 6), (DELETED, 6),
)


def file_name(rng: random.Random) -> tuple[str, str]:
    """A realistic file name and its data source type."""
    stem, extension, kind = rng.choice(_FILE_STEMS)
    name = stem.format(
        month=f"2026-{rng.randint(1, 12):02d}",
        quarter=rng.randint(1, 4),
        n=rng.randint(1000, 9999),
        week=rng.randint(1, 52),
    )
    return f"{name}.{extension}", kind


def _fill(template: str, rng: random.Random) -> str:
    return template.format(row=rng.randint(2, 4000), num=rng.randint(100, 99999),
                           page=rng.randint(1, 40))


def outcome_messages(rng: random.Random, outcome: str) -> tuple[list[str], list[str],
                                                                 dict[str, Any]]:
    """Warnings, errors and metadata a finished conversion reports."""
    rows = rng.randint(12, 48000)
    if outcome == FAILED:
        errors = [_fill(rng.choice(_FAILURES), rng) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        return [], errors, {"rowsRead": rng.randint(0, rows), "rowsProcessed": 0}
    warnings: list[str] = []
    if rng.random() < 0.3:
        warnings = [_fill(rng.choice(_ROW_WARNINGS), rng) for _ in range(rng.randint(1, 4))]
    return warnings, [], {"rowsRead": rows, "rowsProcessed": rows}


def seed_conversions(rng: random.Random, *, count: int, first_id: int, now: float,
                     speed: float) -> list[Conversion]:
    """``count`` conversions at random points of every stage of their lifecycle.

    The first few take one status each so even a small seed shows every state; a few of
    the Processing ones are frozen there for hours, the "stuck" case a monitor must flag.
    """
    statuses = [status for status, _ in _SPREAD]
    weights = [weight for _, weight in _SPREAD]
    made: list[Conversion] = []
    for index in range(count):
        status = statuses[index] if index < len(statuses) else rng.choices(statuses, weights)[0]
        outcome = FAILED if status == FAILED else (
            COMPLETED if status in (COMPLETED, DELETION_PENDING, DELETED)
            else rng.choice((COMPLETED,) * 5 + (FAILED,)))
        plan = LifecyclePlan.draw(rng, outcome=outcome)
        name, kind = file_name(rng)
        warnings, errors, metadata = outcome_messages(rng, outcome)
        frozen = status == PROCESSING and rng.random() < 0.15
        age = _age_in(status, plan, rng, frozen=frozen) / speed
        since = now - age
        upload = since - time_before_status(status, plan, rng) / speed
        made.append(Conversion(
            id=first_id + index, file_name=name, data_source_type=kind, upload_date=upload,
            status=status, since=since, plan=plan, frozen=frozen,
            outcome_warnings=warnings, outcome_errors=errors, outcome_metadata=metadata,
            metadata={"sizeBytes": rng.randint(2_000, 9_000_000)}, seeded=True,
        ))
    return made


def _age_in(status: str, plan: LifecyclePlan, rng: random.Random, *, frozen: bool) -> float:
    """How long (speed-1 seconds) a seeded conversion has already spent in ``status``."""
    if frozen:
        return rng.uniform(2 * 3600, 9 * 3600)
    spans = {UPLOADED: plan.uploaded, QUEUED: plan.queued, PROCESSING: plan.processing,
             DELETION_PENDING: plan.deletion, DELETED: 280.0}
    if status in spans:
        return rng.uniform(0.0, spans[status] * 0.9)
    return rng.uniform(60.0, 6 * 86400.0)  # settled: minutes to days ago


def time_before_status(status: str, plan: LifecyclePlan, rng: random.Random) -> float:
    """Seconds between upload and entering ``status``."""
    if status == UPLOADED:
        return 0.0
    if status == QUEUED:
        return plan.uploaded
    if status == PROCESSING:
        return plan.uploaded + plan.queued
    finished = plan.uploaded + plan.queued + plan.processing
    if status in (DELETION_PENDING, DELETED):
        return finished + rng.uniform(600.0, 86400.0)
    return finished
