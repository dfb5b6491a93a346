"""The README as a newcomer follows it: commands that work as typed, links that resolve,
and the system packages the full suite needs, named."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
ARCHITECTURE = ROOT / "docs" / "architecture.md"

TRY_IT = ("python3 -m venv .venv && .venv/bin/pip install '.[sandbox]' && "
          ".venv/bin/conversions-tui --demo")
TEST_IT = ("python3 -m venv .venv && .venv/bin/pip install '.[dev]' && "
           ".venv/bin/python -m pytest -q")


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end == -1 else text[start:end]


def test_readme_opens_with_the_two_commands() -> None:
    blocks = _code_blocks(README)
    assert [block.strip() for block in blocks[:2]] == [TRY_IT, TEST_IT]


def test_every_command_works_after_try_it_as_typed() -> None:
    """"Try it" installs into .venv without activating it: a bare ``conversions-tui``
    or ``benchmarks/X.py`` is 'command not found' or 'Permission denied'."""
    activated = "source .venv/bin/activate\n" in "".join(_code_blocks(README))
    for block in _code_blocks(README):
        for line in block.splitlines():
            command = line.strip()
            if not activated:
                assert not command.startswith("conversions-tui"), command
            if "benchmarks/" in command:
                assert command.startswith(".venv/bin/python benchmarks/"), command
    for span in re.findall(r"`([^`\n]+)`", README):
        if span.startswith(("benchmarks/", "conversions-tui ")) and " " in span:
            raise AssertionError(f"a command without its interpreter or venv: `{span}`")


def test_readme_links_only_what_the_repository_holds() -> None:
    assert "../shared" not in README
    for target in re.findall(r"\]\(([^)\s]+)\)", README):
        if target.startswith(("http://", "https://", "#")):
            continue
        assert (ROOT / target.split("#")[0]).exists(), f"README links a missing {target}"


def test_the_design_is_in_the_repository_and_linked() -> None:
    assert ARCHITECTURE.is_file()
    assert "](docs/architecture.md)" in README
    text = ARCHITECTURE.read_text(encoding="utf-8")
    assert "../shared" not in text
    packages = sorted(path.parent.relative_to(ROOT).as_posix()
                      for path in (ROOT / "tui").rglob("__init__.py"))
    missing = [package for package in packages if f"`{package}" not in text]
    assert not missing, f"docs/architecture.md does not describe {missing}"


def test_the_packages_ci_installs_are_named_with_how_to_get_them() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    packages = re.search(r'^ci_packages="([^"]+)"', ci, flags=re.MULTILINE)
    assert packages is not None
    section = _section(README, "What the full suite needs")
    install = re.search(r"^sudo apt-get install (.+)$", section, flags=re.MULTILINE)
    assert install is not None, "no apt-get line in 'What the full suite needs'"
    assert set(packages.group(1).split()) <= set(install.group(1).split())


def test_every_program_a_test_skips_without_is_named() -> None:
    section = _section(README, "What the full suite needs")
    needed: set[str] = {"sshd"}  # looked up on its own in test_ssh_e2e (it lives in sbin)
    for path in (ROOT / "tests").rglob("*.py"):
        for call in re.findall(r"require_programs\(([^)]*)\)", path.read_text(encoding="utf-8")):
            needed.update(re.findall(r'"([^"]+)"', call))
    missing = sorted(name for name in needed if f"`{name}`" not in section)
    assert not missing, f"tests skip without {missing}, which the README does not name"
