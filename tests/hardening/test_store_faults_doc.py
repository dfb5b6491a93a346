"""docs/reliability.md holds the team store's section as the matrix renders it, so the
document written by hand now and the one the matrix writes later say the same."""

from __future__ import annotations

from tests.hardening.conftest import DOC_PATH, FaultMatrix
from tests.hardening.store_faults import STORE_FAULTS, render_store_faults


def test_the_store_faults_section_is_in_the_document_and_in_what_the_matrix_writes() -> None:
    section = "\n".join(render_store_faults())
    assert section in DOC_PATH.read_text(encoding="utf-8")
    assert section in FaultMatrix().render()
    faults = [fault for fault, _ in STORE_FAULTS]
    assert faults == ["Database unreachable at start", "Database unreachable mid-run",
                      "Leader killed (SIGKILL)", "Schema newer than the app"]
