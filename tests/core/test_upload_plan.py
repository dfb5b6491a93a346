"""plan_upload: expanding what a person typed, guessing types, and naming every bad file."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tui.core.upload import plan as upload_plan
from tui.core.upload.plan import (
    MAX_FILE_BYTES,
    RejectedFile,
    data_source_type_for,
    file_name_problem,
    plan_upload,
)


def _file(path: Path, data: bytes = b"a,b\n1,2\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _reasons(rejected: list[RejectedFile]) -> dict[str, str]:
    return {entry.path.name: entry.reason for entry in rejected}


@pytest.mark.parametrize(("name", "kind"), [
    ("a.csv", "Csv"), ("a.CSV", "Csv"), ("b.xls", "Excel"), ("b.XlsX", "Excel"),
    ("c.json", "Json"), ("d.xml", "Xml"), ("e.pdf", "Pdf"), ("f.png", "Image"),
    ("f.jpg", "Image"), ("f.JPEG", "Image"), ("f.tif", "Image"), ("f.tiff", "Image"),
    ("g.docx", None), ("noextension", None), ("archive.csv.gz", None),
])
def test_type_is_guessed_from_the_extension(name: str, kind: str | None) -> None:
    assert data_source_type_for(name) == kind


def test_every_known_file_is_planned_with_its_type_and_size(tmp_path: Path) -> None:
    csv = _file(tmp_path / "a.csv", b"x" * 10)
    png = _file(tmp_path / "b.png", b"\x89PNG" * 3)
    plan = plan_upload([csv, str(png)])
    assert [(i.file_name, i.data_source_type, i.size) for i in plan.items] == [
        ("a.csv", "Csv", 10), ("b.png", "Image", 12)]
    assert plan.rejected == []
    assert plan.total_bytes == 22


def test_type_override_applies_to_all_and_admits_unknown_extensions(tmp_path: Path) -> None:
    _file(tmp_path / "a.csv")
    _file(tmp_path / "notes.txt")
    plan = plan_upload([str(tmp_path / "*")], type_override="json")
    assert [(i.file_name, i.data_source_type) for i in plan.items] == [
        ("a.csv", "Json"), ("notes.txt", "Json")]
    with pytest.raises(ValueError, match="unknown data source type"):
        plan_upload([tmp_path / "a.csv"], type_override="Word")


def test_type_can_be_changed_for_one_file_or_all(tmp_path: Path) -> None:
    first = _file(tmp_path / "a.csv")
    _file(tmp_path / "b.csv")
    plan = plan_upload([tmp_path])
    one = plan.with_type("xml", path=first)
    assert [i.data_source_type for i in one.items] == ["Xml", "Csv"]
    assert [i.data_source_type for i in plan.with_type("Pdf").items] == ["Pdf", "Pdf"]
    assert [i.data_source_type for i in plan.items] == ["Csv", "Csv"]  # a copy, not changed
    with pytest.raises(ValueError):
        plan.items[0].with_type("Word")


def test_home_globs_and_folders_are_expanded(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    ticket = tmp_path / "tickets" / "4412"
    _file(ticket / "b.csv")
    _file(ticket / "a.csv")
    _file(ticket / "skip.json")
    _file(tmp_path / "folder" / "x.xml")
    _file(tmp_path / "folder" / "nested" / "deep.csv")  # a sub-folder is not walked
    plan = plan_upload(["~/tickets/4412/*.csv", "~/folder"])
    assert [i.file_name for i in plan.items] == ["a.csv", "b.csv", "x.xml"]
    assert all(i.path.is_absolute() for i in plan.items)
    recursive = plan_upload([str(tmp_path / "folder" / "**" / "*.csv")])
    assert [i.file_name for i in recursive.items] == ["deep.csv"]


def test_a_pattern_matching_nothing_and_a_missing_file_are_reported(tmp_path: Path) -> None:
    plan = plan_upload([str(tmp_path / "*.csv"), tmp_path / "gone.csv"])
    assert plan.items == []
    assert [(entry.path.name, entry.reason) for entry in plan.rejected] == [
        ("*.csv", "no file matches this pattern"), ("gone.csv", "it does not exist")]


def test_empty_too_large_and_unknown_type_are_left_out_with_reasons(tmp_path: Path) -> None:
    _file(tmp_path / "empty.csv", b"")
    big = tmp_path / "big.csv"
    with open(big, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    limit = tmp_path / "limit.csv"
    with open(limit, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES)  # exactly 10 MiB is allowed
    _file(tmp_path / "report.docx")
    plan = plan_upload([tmp_path])
    assert [i.file_name for i in plan.items] == ["limit.csv"]
    reasons = _reasons(plan.rejected)
    assert reasons["empty.csv"] == "it is empty"
    assert reasons["big.csv"].startswith("it is larger than 10 MiB (10,485,761 bytes)")
    assert reasons["report.docx"].startswith("its type is unknown from the extension")


def test_pipes_sockets_and_folders_are_not_regular_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.csv")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock.csv"))
    try:
        (tmp_path / "folder.csv").mkdir()
        plan = plan_upload([tmp_path / "pipe.csv", tmp_path / "sock.csv",
                            f"{tmp_path}/folder.c[s]v"])
    finally:
        server.close()
    assert plan.items == []
    reasons = _reasons(plan.rejected)
    assert reasons["pipe.csv"].startswith("it is not a regular file")
    assert reasons["sock.csv"].startswith("it is not a regular file")
    # A folder matched by a glob stands for its files: none here, so nothing at all.
    assert "folder.csv" not in reasons


def test_a_dangling_link_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "link.csv").symlink_to(tmp_path / "nowhere.csv")
    plan = plan_upload([tmp_path / "link.csv"])
    assert _reasons(plan.rejected) == {"link.csv": "it does not exist"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_without_read_permission_is_unreadable(tmp_path: Path) -> None:
    locked = _file(tmp_path / "locked.csv")
    locked.chmod(0)
    plan = plan_upload([locked])
    assert _reasons(plan.rejected)["locked.csv"].startswith("it cannot be read")


def test_an_unreadable_file_is_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _file(tmp_path / "ok.csv")
    locked = _file(tmp_path / "locked.csv")
    real_probe = upload_plan._probe_readable

    def probe(path: Path) -> None:
        if path == locked:
            raise PermissionError(13, "Permission denied")
        real_probe(path)

    monkeypatch.setattr(upload_plan, "_probe_readable", probe)
    plan = plan_upload([tmp_path])
    assert [i.file_name for i in plan.items] == ["ok.csv"]
    assert _reasons(plan.rejected) == {"locked.csv": "it cannot be read (Permission denied)"}


def test_the_same_name_twice_keeps_the_first(tmp_path: Path) -> None:
    first = _file(tmp_path / "one" / "data.csv")
    second = _file(tmp_path / "two" / "data.csv")
    plan = plan_upload([first, second])
    assert [i.path for i in plan.items] == [first]
    assert plan.rejected == [RejectedFile(
        second, f"another file in this upload has the same name ({first})")]


def test_the_same_file_named_twice_is_sent_once(tmp_path: Path) -> None:
    path = _file(tmp_path / "data.csv")
    plan = plan_upload([tmp_path, path, str(tmp_path / "*.csv")])
    assert [i.path for i in plan.items] == [path]
    assert plan.rejected == []


def test_names_the_api_cannot_take_are_left_out(tmp_path: Path) -> None:
    _file(tmp_path / "bell\x07.csv")
    _file(tmp_path / "back\\slash.csv")
    raw = os.fsencode(tmp_path) + b"/caf\xe9.csv"
    with open(raw, "wb") as handle:
        handle.write(b"x")
    plan = plan_upload([tmp_path])
    assert plan.items == []
    reasons = sorted(entry.reason for entry in plan.rejected)
    assert reasons == [
        "its name contains '/' or '\\', which the API does not take",
        "its name contains control characters",
        "its name is not valid UTF-8 text",
    ]


@pytest.mark.parametrize(("name", "problem"), [
    ("", "its name is empty"),
    ("x" * 255, None),
    ("x" * 256, "its name is longer than 255 characters"),
    ("a/b.csv", "its name contains '/' or '\\', which the API does not take"),
    ("tab\there.csv", "its name contains control characters"),
    ("del\x7f.csv", "its name contains control characters"),
    ("résumé.csv", None),
    ("...", "its name is only dots and spaces"),
    (". .", "its name is only dots and spaces"),
    (".hidden.csv", None),
])
def test_file_name_rules(name: str, problem: str | None) -> None:
    assert file_name_problem(name) == problem
