"""``conversions-tui list`` and ``conversions-tui status``: the watchlist and the server's
answers from the command line, for people and for scripts.

    conversions-tui list [--profile P] [--view NAME | --filter EXPR] [--refresh] [--json | --csv]
    conversions-tui status [--profile P] [--json] ID...

``list`` reads the profile's watchlist, its file or a team's store (``--refresh`` checks
every row against the API first and records the answers, audit included, as a poll would);
``--filter`` takes the filter language of the monitor's ``/`` box (:mod:`tui.core.filters`),
``--view`` the filter of a view saved in the monitor (:mod:`tui.core.savedviews`), in its
sort (the table's key, :mod:`tui.core.roworder`; without a view, by ID). ``status`` asks
the API about the IDs given, now (watched or not; nothing is added to the watchlist).
Output: a plain table, or ``--json`` / ``--csv``; server text is written as sent, with
control characters made visible (:func:`tui.core.untrusted.printable`).

Exit codes: :data:`LIST_EXITS` and :data:`STATUS_EXITS` (shown by ``--help``).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tui.cli_help import exit_codes_epilog
from tui.cli_list_view import in_view_order, saved_view

if TYPE_CHECKING:
    from tui.core.savedviews import TableLayout

__all__ = ["LIST_EXITS", "STATUS_EXITS", "run_list", "run_status"]

EXIT_WELL, EXIT_ATTENTION, EXIT_ERROR = 0, 1, 2
LIST_EXITS = (
    (EXIT_WELL, "no row listed is Failed or stuck (also when none is listed)"),
    (EXIT_ATTENTION, "some rows listed are Failed, or stuck (in flight longer than the "
                     "profile's stuck_after, as the monitor's Stuck view)"),
    (EXIT_ERROR, "a bad filter (the bad term is named), no saved view of that name, no "
                 "API key or the server not answering (with --refresh), some rows could "
                 "not be checked, or a usage or configuration problem"),
)
STATUS_EXITS = (
    (EXIT_WELL, "every ID was found, none Failed nor stuck"),
    (EXIT_ATTENTION, "some are Failed, stuck, or not found (404)"),
    (EXIT_ERROR, "no API key, the server not answering, an ID that could not be checked, "
                 "an argument that is not an ID, or a usage or configuration problem"),
)
_CONTROL_FREE_LIMIT = None  # whole texts: a machine reads them; only controls are made safe


def _fail(command: str, message: str) -> int:
    print(f"conversions-tui {command}: {message}", file=sys.stderr)
    return EXIT_ERROR


def _parser(command: str, description: str, exits: Sequence[tuple[int, str]],
            epilog: str = "") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"conversions-tui {command}", description=description,
        epilog=(epilog + "\n\n" if epilog else "") + exit_codes_epilog(exits),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", help="profile from the config file (or CONVERSIONS_PROFILE)")
    parser.add_argument("--base-url", help="API base URL (or CONVERSIONS_BASE_URL)")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        help="allow http:// to a host other than this machine")
    return parser


def _filter_epilog() -> str:
    from tui.core.filters import FILTER_TERMS

    lines = ["filter terms (apart by spaces, all must match):"]
    lines += [f"  {example:<26} {meaning}" for example, meaning in FILTER_TERMS]
    return "\n".join(lines)


def _formats(parser: argparse.ArgumentParser, *, csv_too: bool) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true", help="one JSON array of rows on stdout")
    if csv_too:
        group.add_argument("--csv", action="store_true", help="CSV with a header on stdout")


# ---------------------------------------------------------------- shared steps
def _profile(command: str, opts: argparse.Namespace, env: Mapping[str, str]) -> Any:
    """The profile, or an exit code after saying why."""
    from tui.core.paths import AppPaths
    from tui.core.settings import ConfigError, load_config, resolve_profile

    paths = AppPaths.default()
    try:
        config = load_config(paths.config_file)
        profile = resolve_profile(config, profile=opts.profile, base_url=opts.base_url,
                                  env=env, allow_insecure_http=opts.allow_insecure_http)
    except ConfigError as error:
        return _fail(command, str(error))
    for warning in config.warnings:  # a bad value was replaced by its default: say so
        print(f"conversions-tui {command}: {warning}", file=sys.stderr)
    return paths, profile


def _check(command: str, profile: Any, ids: list[int], env: Mapping[str, str]
           ) -> Any:
    """Check ``ids`` against the API now: a CheckReport, or an exit code after saying why."""
    from tui.api.client import ConversionsClient
    from tui.core.checknow import check_now
    from tui.core.clientbounds import client_bounds
    from tui.core.credentials import ENV_API_KEY, CredentialStore
    from tui.core.settings import ConfigError, check_base_url

    try:
        check_base_url(profile.base_url, profile.allow_insecure_http)
    except ConfigError as error:
        return _fail(command, str(error))
    resolved = CredentialStore(then="no key can be read from it").resolve_sync(profile.name, env)
    if resolved.key is None:
        hint = f" ({resolved.problem})" if resolved.problem else ""
        return _fail(command, f"no API key for profile {profile.name!r}: set {ENV_API_KEY} "
                              f"or run `conversions-tui login`{hint}")
    key = resolved.key

    async def run() -> Any:
        async with ConversionsClient(profile.base_url, key.reveal(),
                                     verify=profile.ca_bundle or True,
                                     **client_bounds(profile)) as client:
            return await check_now(client, ids)

    try:
        report = asyncio.run(run())
    except KeyboardInterrupt:
        return _fail(command, "interrupted: nothing more was checked")
    if report.refused is not None:
        return _fail(command, f"the server refused the key of profile {profile.name!r} "
                              f"({report.refused}): run `conversions-tui login` or set "
                              f"{ENV_API_KEY}")
    if report.unreachable is not None:
        return _fail(command, f"cannot reach the server at {profile.base_url}: "
                              f"{report.unreachable}")
    return report


def _say_problems(command: str, problems: Mapping[int, str], total: int) -> None:
    from tui.core.untrusted import printable

    first_id, first = next(iter(problems.items()))
    print(f"conversions-tui {command}: could not check {len(problems)} of {total} "
          f"conversions (the first, {first_id}: {printable(first, limit=300)})",
          file=sys.stderr)


# ---------------------------------------------------------------- output
def _records(rows: Sequence[Any], now: float, stuck_after: Any,
             signed: Mapping[int, Any] | None = None) -> list[dict[str, Any]]:
    """Each row as export writes it, plus ``stuck`` and ``problem``; texts made safe.
    ``signed``: who did what to them (``signatures_of``), when known."""
    from tui.core.checknow import is_stuck_now
    from tui.core.export import row_record

    records = []
    for row in rows:
        record = row_record(row, now, signed=(signed or {}).get(row.id))
        record["stuck"] = is_stuck_now(row, now, stuck_after)
        record["problem"] = row.last_problem
        records.append({key: _safe(value) for key, value in record.items()})
    return records


def _safe(value: Any) -> Any:
    from tui.core.untrusted import printable

    if isinstance(value, str):
        return printable(value, limit=_CONTROL_FREE_LIMIT)
    if isinstance(value, list):
        return [_safe(item) for item in value]
    return value


def _write_json(records: list[dict[str, Any]]) -> None:
    print(json.dumps(records, ensure_ascii=False, indent=2))


def _write_csv(records: list[dict[str, Any]]) -> None:
    from tui.core.export import ADDED_COLUMNS, COLUMNS, spreadsheet_safe

    # Columns the export gained later come after list's own: none moves.
    columns = (*(c for c in COLUMNS if c not in ADDED_COLUMNS), "stuck", "problem",
               *ADDED_COLUMNS)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        cells = []
        for column in columns:
            value = record[column]
            if value is None:
                cells.append("")
            elif isinstance(value, bool | int | float):
                cells.append(str(value).lower() if isinstance(value, bool) else str(value))
            elif isinstance(value, list):
                cells.append("\n".join(spreadsheet_safe(str(item)) for item in value))
            else:
                cells.append(spreadsheet_safe(str(value)))
        writer.writerow(cells)


def _duration(seconds: int | None, minimum: bool | None) -> str:
    if seconds is None:
        return "—"
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            text = f"{seconds // size}{unit}"
            break
    else:
        text = f"{seconds}s"
    return ("≥" if minimum else "") + text


def _write_table(records: list[dict[str, Any]]) -> None:
    """A plain table for people: one row a line, columns padded, long texts cut."""
    from rich.cells import cell_len

    header = ("ID", "STATUS", "IN STATUS", "TYPE", "W", "E", "FILE", "NOTE")
    lines = [header]
    for record in records:
        status = record["status"] or "checking…"
        if record["purged"]:
            status += ", purged"
        if record["stuck"]:
            status += " (stuck)"
        if record["problem"]:
            status += " ⚠"
        lines.append((str(record["id"]), status,
                      _duration(record["time_in_status_s"], record["time_in_status_is_minimum"]),
                      record["data_source_type"] or "", str(record["warning_count"]),
                      str(record["error_count"]), _cut(record["file_name"] or "", 40),
                      _cut(record["note"] or "", 30)))
    widths = [max(cell_len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        cells = [text + " " * (width - cell_len(text)) for text, width in zip(line, widths,
                                                                              strict=True)]
        print("  ".join(cells).rstrip())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _output(opts: argparse.Namespace, records: list[dict[str, Any]]) -> None:
    if opts.json:
        _write_json(records)
    elif getattr(opts, "csv", False):
        _write_csv(records)
    else:
        _write_table(records)


# ---------------------------------------------------------------- list
def _audit_deletions(paths: Any, profile: Any, store: Any, recorded: Any) -> None:
    """Phase two of deletes asked for earlier, seen by this check: audited as confirmed
    (in the team's audit log on a team profile, as the monitor's poller would)."""
    from contextlib import closing

    from tui.core.audit import record_confirmed_deletions
    from tui.core.session import open_audit

    if not any(row.delete_requested_at is not None for row in recorded.rows.values()):
        return
    with closing(open_audit(paths, profile, store)) as audit:
        record_confirmed_deletions(audit, recorded, recorded.rows.values(),
                                   profile=profile.name, user=None)


def run_list(argv: list[str], *, env: Mapping[str, str] | None = None,
             clock: Callable[[], float] = time.time) -> int:
    """Run ``conversions-tui list`` with ``argv`` (without the word ``list``)."""
    env = os.environ if env is None else env
    parser = _parser("list", "List the profile's watched conversions (its watchlist file "
                             "or team store), those matching --filter; --refresh checks them "
                             "against the API first.", LIST_EXITS, _filter_epilog())
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--filter", metavar="EXPR", default="",
                        help="the monitor's / filter, e.g. 'status:failed age:>30m'")
    chosen.add_argument("--view", metavar="NAME",
                        help="a view saved in the monitor (V), by its name: its filter, "
                             "in its sort")
    parser.add_argument("--refresh", action="store_true",
                        help="check every watched conversion against the API first")
    _formats(parser, csv_too=True)
    opts = parser.parse_args(argv)

    from tui.core.filters import FilterError, parse_filter
    from tui.core.signatures import acknowledgers

    try:
        rows_filter = parse_filter(opts.filter, clock=clock)
    except FilterError as error:
        return _fail("list", f"bad filter: {error.located(opts.filter)}")
    got = _profile("list", opts, env)
    if isinstance(got, int):
        return got
    paths, profile = got
    view: tuple[str, TableLayout] | None = None
    if opts.view is not None:
        view = saved_view(paths, profile.name, opts.view, clock)
        if view is None:
            return _fail("list", f"no saved view is called {opts.view!r} in profile "
                                 f"{profile.name!r}.")

    from tui.core.checknow import needs_attention
    from tui.core.session import SESSION_OPEN_ERRORS, open_watch_store
    from tui.core.watchstore import StoreRefused

    paths.ensure(profile.name)
    try:
        # The team's store on a team profile: the rows the monitor shows.
        watchlist = open_watch_store(paths, profile, env)
    except SESSION_OPEN_ERRORS as error:
        return _fail("list", f"cannot open the watchlist of profile {profile.name!r}: {error}")
    problems: dict[int, str] = {}
    try:
        if opts.refresh:
            ids = [row.id for row in watchlist.all()]  # (a team store has no ids())
            report = _check("list", profile, ids, env)
            if isinstance(report, int):
                return report
            # Recorded as a poll would: the monitor (and its history) sees these answers,
            # and a delete asked for here and now seen done is audited, as the poller does.
            recorded = watchlist.record_results(
                [report.results[i] for i in ids if i in report.results])
            _audit_deletions(paths, profile, watchlist, recorded)
            problems = report.problems
        # Parsed again with the file at hand: msg: asks its FTS5 index.
        if view is not None:
            from tui.core.savedviews import lenient_filter

            rows_filter, _ = lenient_filter(view[0], clock=clock, messages=watchlist)
        else:
            rows_filter = parse_filter(opts.filter, clock=clock, messages=watchlist)
        rows = rows_filter.select(watchlist.all())
        if view is not None:
            rows = in_view_order(rows, opts.view, view[1])
        signed = acknowledgers(watchlist, paths.audit_db(profile.name), rows)
    except StoreRefused as error:  # the team's database gone since it was opened
        return _fail("list", str(error))
    finally:
        watchlist.close()
    now = clock()
    _output(opts, _records(rows, now, profile.stuck_after, signed))
    if problems:
        _say_problems("list", problems, len(problems) + len(rows))
        return EXIT_ERROR
    attention = [row for row in rows if needs_attention(row, now, profile.stuck_after)]
    if attention and not (opts.json or opts.csv):
        print(f"{len(attention)} of {len(rows)} listed need attention (Failed or stuck).",
              file=sys.stderr)
    return EXIT_ATTENTION if attention else EXIT_WELL


# ---------------------------------------------------------------- status
def run_status(argv: list[str], *, env: Mapping[str, str] | None = None,
               clock: Callable[[], float] = time.time) -> int:
    """Run ``conversions-tui status`` with ``argv`` (without the word ``status``)."""
    env = os.environ if env is None else env
    parser = _parser("status", "Ask the API about conversions now (watched or not; nothing "
                               "is added to the watchlist).", STATUS_EXITS)
    parser.add_argument("ids", nargs="+", help="conversion IDs or ranges (4512 4513-4520)")
    _formats(parser, csv_too=False)
    opts = parser.parse_args(argv)

    from tui.core.idlist import parse_id_list
    from tui.core.untrusted import printable

    ids: dict[int, None] = {}
    for text in opts.ids:
        found = parse_id_list(text)
        if found.invalid or not found.ids:
            why = "; ".join(found.invalid) or f"{printable(text, limit=40)!r} holds no ID"
            return _fail("status", f"not conversion IDs: {why}")
        ids.update(dict.fromkeys(found.ids))
    got = _profile("status", opts, env)
    if isinstance(got, int):
        return got
    _paths, profile = got
    report = _check("status", profile, list(ids), env)
    if isinstance(report, int):
        return report

    from tui.core.checknow import fresh_row, needs_attention

    rows = [fresh_row(i, report.results[i]) for i in ids if i in report.results]
    now = clock()
    _output(opts, _records(rows, now, profile.stuck_after))
    if report.problems:
        _say_problems("status", report.problems, len(ids))
        return EXIT_ERROR
    attention = [row for row in rows
                 if row.not_found or needs_attention(row, now, profile.stuck_after)]
    return EXIT_ATTENTION if attention else EXIT_WELL
