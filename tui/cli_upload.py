"""``conversions-tui upload``: the upload pipeline without the UI.

    conversions-tui upload [--profile P] [--base-url URL] [--type T] [--ref R]
                           [--json] [--report PATH] [--retry REPORT [--force]] FILES...

Progress goes to stderr (a bar on a terminal, plain lines otherwise); the summary to
stdout, or with ``--json`` one JSON document with every file's result to stdout (the
summary then goes to stderr). Files not accepted are written to a JSON Lines report
(``--report``, else a new file under the state folder) that ``--retry`` takes back;
the retried report records each retry and its result, so a second ``--retry`` does not
send again what the first got accepted (``--force`` does; see ``tui.core.upload.retry``).
Ctrl-C once stops after the batch in flight; twice stops at once.

Exit codes: see :data:`UPLOAD_EXITS` (shown by ``--help``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tui.api.client import ConversionsClient
from tui.cli_help import exit_codes_epilog
from tui.cli_upload_summary import (
    ProgressPrinter,
    already_json,
    already_lines,
    say,
    summary_lines,
)
from tui.core.clientbounds import client_bounds
from tui.core.credentials import ENV_API_KEY, ApiKey, CredentialStore
from tui.core.paths import AppPaths
from tui.core.settings import (
    ConfigError,
    ProfileNotConfigured,
    ProfileSettings,
    check_base_url,
    load_config,
    resolve_profile,
)
from tui.core.upload.outcome import UploadOutcome
from tui.core.upload.plan import (
    DATA_SOURCE_TYPES,
    UploadPlan,
    plan_files,
    plan_upload,
)
from tui.core.upload.retry import RetryPlan, plan_retry
from tui.core.upload.uploader import DEFAULT_BATCH_BYTES, MAX_BATCH_RECORDS, Uploader

if TYPE_CHECKING:
    from tui.core.watchstore import WatchStore

__all__ = ["exit_code", "run_upload"]

EXIT_ALL_ACCEPTED, EXIT_SOME_NOT, EXIT_NONE, EXIT_ALREADY_RETRIED = 0, 1, 2, 3
UPLOAD_EXITS = (
    (EXIT_ALL_ACCEPTED, "every file sent was accepted (with --retry: files an earlier retry "
                        "of the report already got accepted are left out, and listed)"),
    (EXIT_SOME_NOT, "some files were accepted, some not (see the report)"),
    (EXIT_NONE, "none was accepted, nothing could be sent, or a usage or configuration "
                "problem"),
    (EXIT_ALREADY_RETRIED, "--retry sent nothing: every file of the report was already "
                           "retried and accepted (or its retry's outcome is unknown); add "
                           "--force to send them again"),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conversions-tui upload",
        description="Upload files as conversions; accepted ones join the watchlist.",
        epilog=exit_codes_epilog(UPLOAD_EXITS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*",
                        help="files, folders or globs (quote them to keep ~ and * for us)")
    parser.add_argument("--profile", help="profile from the config file (or CONVERSIONS_PROFILE)")
    parser.add_argument("--base-url", help="API base URL (or CONVERSIONS_BASE_URL)")
    parser.add_argument("--type", dest="data_source_type", metavar="T",
                        help="send every file as this type: " + ", ".join(DATA_SOURCE_TYPES))
    parser.add_argument("--ref", help="external reference (a ticket number) for every record")
    parser.add_argument("--json", action="store_true",
                        help="print every file's result as one JSON document on stdout")
    parser.add_argument("--report", type=Path, metavar="PATH",
                        help="write the files not accepted here (JSON Lines)")
    parser.add_argument("--retry", type=Path, metavar="REPORT",
                        help="upload again the rejected/failed/not-sent files of a report; "
                             "the report records the retry and its results")
    parser.add_argument("--force", action="store_true",
                        help="with --retry: also send files an earlier retry of the report "
                             "got accepted or left with an unknown outcome (duplicates!)")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        help="allow http:// to a host other than this machine")
    parser.add_argument("--batch-records", type=int, default=MAX_BATCH_RECORDS,
                        help=argparse.SUPPRESS)
    parser.add_argument("--batch-bytes", type=int, default=DEFAULT_BATCH_BYTES,
                        help=argparse.SUPPRESS)
    return parser


def exit_code(outcome: UploadOutcome) -> int:
    """0 when every file was accepted (and recorded), 1 when some were, or all were but
    the last batch could not be recorded (a script must not take them as watched), 2 when
    none was."""
    if outcome.all_accepted and outcome.stopped_by != "recording":
        return EXIT_ALL_ACCEPTED
    return EXIT_SOME_NOT if outcome.accepted else EXIT_NONE


def _fail(message: str) -> int:
    say(sys.stderr, f"conversions-tui upload: {message}")
    return EXIT_NONE


def _plan(opts: argparse.Namespace) -> tuple[UploadPlan, RetryPlan | None]:
    plan = plan_upload(opts.files, type_override=opts.data_source_type)
    if opts.retry is None:
        return plan, None
    retry = plan_retry(opts.retry, force=opts.force)
    again = retry.files
    if opts.data_source_type:
        again = [(path, opts.data_source_type) for path, _ in again]
    retried = plan_files(again)
    known = {item.path for item in plan.items}
    plan.items.extend(item for item in retried.items if item.path not in known)
    plan.rejected.extend(retried.rejected)
    return plan, retry


def _same_file(one: Path, other: Path) -> bool:
    try:
        return one.resolve() == other.resolve()
    except OSError:
        return False


async def _send(plan: UploadPlan, opts: argparse.Namespace, profile: ProfileSettings,
                key: ApiKey, paths: AppPaths, progress: ProgressPrinter,
                watchlist: WatchStore) -> UploadOutcome:
    """Send the plan; accepted IDs go to ``watchlist`` (closed at the end)."""
    from tui.core.session import open_audit
    from tui.core.watching import WatchService

    try:
        # The team's audit log on a team profile (signed by the person), as the monitor's.
        audit = open_audit(paths, profile, watchlist)
    except BaseException:
        watchlist.close()
        raise
    audit.redact(key)  # before anything is recorded, in the team's database as here
    try:
        async with ConversionsClient(profile.base_url, key.reveal(),
                                     verify=profile.ca_bundle or True,
                                     **client_bounds(profile)) as client:
            # Accepted IDs are watched through the service, as in the monitor.
            watching = WatchService(watchlist, audit, profile_name=profile.name)
            uploader = Uploader(client, watching.upload_sink(), audit, profile_name=profile.name,
                                batch_records=opts.batch_records,
                                batch_bytes=opts.batch_bytes, on_progress=progress)
            with _CtrlC(uploader):
                return await uploader.run(plan, reference=opts.ref)
    finally:
        watchlist.close()
        audit.close()


class _CtrlC:
    """First Ctrl-C: finish the batch in flight, then stop. Second: stop now."""

    def __init__(self, uploader: Uploader) -> None:
        self._uploader = uploader
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._installed = False

    def _pressed(self) -> None:
        if self._uploader.cancelled and self._task is not None:
            self._task.cancel()
            return
        self._uploader.cancel()
        say(sys.stderr, "\nStopping after the batch in flight (Ctrl-C again to stop now).")

    def __enter__(self) -> _CtrlC:
        try:
            self._loop.add_signal_handler(signal.SIGINT, self._pressed)
            self._installed = True
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or no signals here: Ctrl-C keeps its default
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._installed:
            self._loop.remove_signal_handler(signal.SIGINT)


def _report_path(opts: argparse.Namespace, outcome: UploadOutcome, paths: AppPaths) -> Path | None:
    if opts.report is not None:
        return Path(opts.report)
    if outcome.all_accepted:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return paths.state_dir / "upload-reports" / f"upload-{stamp}-{os.getpid()}.jsonl"


def _record_retry(retry: RetryPlan | None, outcome: UploadOutcome,
                  report: Path | None) -> None:
    """Complete the retried report's entries; a failure is said, never fatal (the entries
    written before sending still keep a second retry from sending these files again)."""
    if retry is None:
        return
    try:
        retry.record(outcome, time.time(), report)
    except (OSError, ValueError) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else error
        say(sys.stderr, f"conversions-tui upload: the results of this retry could not be "
                         f"recorded in {retry.report} ({why}); its files are marked as being "
                         "sent there, so a later --retry leaves them out unless --force")


def _finish(outcome: UploadOutcome, opts: argparse.Namespace, paths: AppPaths,
            profile: str, retry: RetryPlan | None = None) -> int:
    report = _report_path(opts, outcome, paths)
    if report is not None:
        try:
            outcome.save_report(report)
        except OSError as error:
            say(sys.stderr, f"conversions-tui upload: the report could not be written to "
                             f"{report} ({error.strerror or error})")
            report = None
    _record_retry(retry, outcome, report)
    summary = already_lines(retry) + summary_lines(outcome, profile, report)
    if opts.json:
        document = outcome.as_json()
        document["profile"] = profile
        document["report"] = str(report) if report is not None else None
        document["already_retried"] = already_json(retry)
        document["exit_code"] = exit_code(outcome)
        print(json.dumps(document, ensure_ascii=False, indent=2))
        for line in summary:
            say(sys.stderr, line)
    else:
        for line in summary:
            say(sys.stdout, line)
    return exit_code(outcome)


def run_upload(argv: list[str], *, env: Mapping[str, str] | None = None) -> int:
    """Run ``conversions-tui upload`` with ``argv`` (without the word ``upload``)."""
    env = os.environ if env is None else env
    opts = _parser().parse_args(argv)
    if not opts.files and opts.retry is None:
        return _fail("name the files to upload (or --retry REPORT)")
    if opts.batch_records < 1 or opts.batch_bytes < 1:
        return _fail("batch sizes must be positive")
    paths = AppPaths.default()
    try:
        config = load_config(paths.config_file)
        profile = resolve_profile(config, profile=opts.profile, base_url=opts.base_url, env=env)
        check_base_url(profile.base_url, opts.allow_insecure_http or profile.allow_insecure_http)
    except ProfileNotConfigured as error:
        say(sys.stderr, str(error))
        return EXIT_NONE
    except ConfigError as error:
        return _fail(str(error))
    for warning in config.warnings:  # a bad value was replaced by its default: say so
        say(sys.stderr, warning)
    if opts.ref is not None and len(opts.ref.strip()) > 200:
        return _fail("the reference (--ref) is longer than 200 characters")
    if opts.force and opts.retry is None:
        return _fail("--force goes with --retry REPORT")
    if opts.retry is not None and opts.report is not None and _same_file(opts.retry,
                                                                         opts.report):
        return _fail("--report must be another file than the --retry report (the retry and "
                     "its results are recorded in the retried report itself)")
    try:
        plan, retry = _plan(opts)
    except (ValueError, OSError) as error:
        return _fail(str(error))
    if not plan.items and not plan.rejected and retry is not None and retry.already:
        for line in already_lines(retry):
            say(sys.stderr, line)
        say(sys.stderr, "conversions-tui upload: nothing sent.")
        if opts.json:
            document = UploadOutcome(reference=opts.ref).as_json()
            document.update(profile=profile.name, report=None,
                            already_retried=already_json(retry), exit_code=EXIT_ALREADY_RETRIED)
            print(json.dumps(document, ensure_ascii=False, indent=2))
        return EXIT_ALREADY_RETRIED
    if not plan.items:
        say(sys.stderr, "conversions-tui upload: nothing to upload.")
        return _finish(UploadOutcome(invalid=plan.rejected, reference=opts.ref), opts, paths,
                       profile.name, retry)
    # A command that exits keeps no key "for this session": the sentence says what is true.
    resolved = CredentialStore(then="no key can be read from it").resolve_sync(profile.name, env)
    if resolved.key is None:
        hint = f" ({resolved.problem})" if resolved.problem else ""
        return _fail(f"no API key for profile {profile.name!r}: set {ENV_API_KEY} or run "
                     f"`conversions-tui login`{hint}")
    from tui.core.session import SESSION_OPEN_ERRORS, open_watch_store

    try:
        # Where accepted IDs go (the team's store on a team profile): opened before
        # anything is sent, so a store that cannot be opened loses nothing.
        watchlist = open_watch_store(paths, profile, env)
    except SESSION_OPEN_ERRORS as error:
        return _fail(f"cannot open the watchlist of profile {profile.name!r} ({error}); "
                     "nothing was sent")
    if retry is not None:
        try:
            # Before anything goes: a retry that dies half way must still be known as sent.
            retry.mark_sending([item.path for item in plan.items], time.time())
        except (OSError, ValueError) as error:
            watchlist.close()
            why = error.strerror if isinstance(error, OSError) and error.strerror else error
            return _fail(f"the retry cannot be recorded in {retry.report} ({why}); nothing "
                         "was sent, so that no file can be sent twice")
    progress = ProgressPrinter(sys.stderr)
    try:
        outcome = asyncio.run(_send(plan, opts, profile, resolved.key, paths, progress,
                                    watchlist))
    except (KeyboardInterrupt, asyncio.CancelledError):
        progress.finish()
        marked = (f"; {retry.report} marks the retried files as being sent, so a later "
                  "--retry leaves them out unless --force") if retry is not None else ""
        return _fail("interrupted: the batch in flight may or may not have been created; "
                     f"the batches answered before it are in the watchlist{marked}")
    progress.finish()
    return _finish(outcome, opts, paths, profile.name, retry)
