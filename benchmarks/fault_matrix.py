#!/usr/bin/env python3
"""The fault matrix as a script: run the end-to-end fault tests and print the table.

Runs ``tests/hardening/test_fault_matrix.py`` (the real app against a loopback sandbox,
each fault on for a few seconds, then off), has it write its measurements to a temporary
file instead of ``docs/reliability.md``, and prints the matrix. The exit code is pytest's.

    .venv/bin/python benchmarks/fault_matrix.py [--write-docs] [-- extra pytest args]

``--write-docs`` writes ``docs/reliability.md`` as ``CONVERSIONS_WRITE_RELIABILITY=1`` does.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import harness

ROOT = harness.ROOT
TESTS = "tests/hardening/test_fault_matrix.py"
WRITE_ENV = "CONVERSIONS_WRITE_RELIABILITY"


def matrix_section(text: str) -> str:
    """The '## Matrix' table of the generated document."""
    lines = text.splitlines()
    start = lines.index("## Matrix")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    return "\n".join(lines[start:end]).strip()


def main(argv: list[str] | None = None) -> int:
    """Run the fault tests, print the matrix, return pytest's exit code."""
    parser = harness.parser(__file__, __doc__)
    parser.add_argument("--write-docs", action="store_true",
                        help="also write docs/reliability.md")
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest")
    args = parser.parse_args(argv)
    harness.stop_on_signals()
    with harness.MachineLoad(), tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "reliability.md"
        written = (ROOT / "docs" / "reliability.md") if args.write_docs else target
        before = written.stat().st_mtime_ns if written.exists() else None
        env = dict(os.environ, **{WRITE_ENV: "1" if args.write_docs else str(target)})
        done = harness.run([sys.executable, "-m", "pytest", TESTS, "-q", "-rxXf",
                            *args.pytest_args], cwd=ROOT, env=env)
        # Only a file this run wrote: a -k subset writes nothing, and old docs must not show.
        if written.exists() and written.stat().st_mtime_ns != before:
            print()
            print(matrix_section(written.read_text(encoding="utf-8")))
        else:
            print("\nno matrix written (a case did not run)", file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
