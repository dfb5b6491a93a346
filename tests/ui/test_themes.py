"""Themes: the built-in files, user files (good and broken), choosing, NO_COLOR, saving.

Sessions talk to the real sandbox over loopback; the app is driven with Pilot.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.filter import Monochrome, NoColor
from textual.pilot import Pilot

from tests.ui.conftest import wait_for

# The fixed rows, silent client and frozen clock of the monitor snapshots, reused.
from tests.ui.test_monitor_snapshots import (
    OWNER,
    FrozenSession,
    frozen_clock,  # noqa: F401 - a fixture, used by name
    load_rows,
    settle,
)
from tui.core.config_file import save_config
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths
from tui.core.session import MonitorSession
from tui.core.settings import AppConfig, ProfileSettings, load_config
from tui.core.statuses import StatusKind
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp, SetupNeeded
from tui.ui.screens.first_run import FirstRunScreen
from tui.ui.screens.help import HelpPaths
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.themes import (
    DEFAULT_THEME,
    NO_COLOR_THEME,
    ThemeFileError,
    builtin_theme_files,
    load_builtin_themes,
    load_user_themes,
    parse_theme,
    pick_theme,
)
from tui.ui.widgets.table.conversions_table import ConversionsTable

BUILTIN = ("dark", "light", "high-contrast", "ansi-16")
PALETTE_KEYS = ("primary", "secondary", "accent", "foreground", "background", "surface",
                "panel", "success", "warning", "error")
STATUS_VARIABLES = (*(f"status-{kind.value.replace('_', '-')}" for kind in StatusKind),
                    "status-stale")

GOOD_THEME = """
name = "ocean"
dark = true
[palette]
primary = "#005f87"
secondary = "#5f87af"
accent = "#ffaf00"
foreground = "#e4e4e4"
background = "#001c2b"
surface = "#00263a"
panel = "#003049"
success = "#5faf5f"
warning = "#ffaf00"
error = "#ff5f5f"
[status]
queued = "#bcbcbc"
processing = "#5fafff"
completed = "#87d787"
failed = "#ff8787"
deleting = "#ffd75f"
unknown = "#d0d0d0"
stale = "#ffaf5f"
"""


COLOUR_CODES = frozenset({*range(30, 39), *range(40, 49), *range(90, 98), *range(100, 108)})
"""SGR parameters that set a colour (38/48 start 256-colour and truecolour ones)."""


def screen_sgr_codes(app: ConversionsApp) -> set[int]:
    """Every SGR parameter in the screen as it would be written to the terminal."""
    console = Console(force_terminal=True, color_system="truecolor", width=200)
    with console.capture() as capture:
        console.print(app.screen._compositor.render_update(full=True), end="")
    codes: set[int] = set()
    for params in re.findall(r"\x1b\[([0-9;]*)m", capture.get()):
        codes.update(int(part) for part in params.split(";") if part)
    return codes


def notifications(app: ConversionsApp) -> list[tuple[str, str]]:
    """(severity, message) of every toast so far."""
    return [(n.severity, n.message) for n in app._notifications]


@pytest.fixture
def session_for(sandbox: SandboxServer, tmp_path: Path) -> Iterator[
        Callable[..., MonitorSession]]:
    """Sessions on ``tmp_path/app`` with a given config (and profile theme), closed after."""
    made: list[MonitorSession] = []

    def build(config: AppConfig | None = None, *, profile_theme: str | None = None,
              demo: bool = False, paths: AppPaths | None = None,
              ids: tuple[int, ...] = ()) -> MonitorSession:
        paths = paths or AppPaths.under(tmp_path / "app")
        config = config or AppConfig(path=paths.config_file)
        profile = ProfileSettings(name="test", base_url=sandbox.base_url, theme=profile_theme)
        session = MonitorSession.open(paths, config, profile, demo=demo,
                                      preset_key=ApiKey("test-key"), env={})
        session.watchlist.add(list(ids))
        made.append(session)
        return session

    yield build
    for session in made:
        session.close()


async def started(pilot: Pilot[Any]) -> None:
    """Wait for the monitor screen."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MonitorScreen),
                   what="the monitor screen")


# ------------------------------------------------------------------ the files
def test_every_builtin_theme_file_loads_with_palette_and_status_colours() -> None:
    files = {entry.name for entry in builtin_theme_files()}
    assert files == {f"{name}.toml" for name in BUILTIN}
    themes = {theme.name: theme for theme in load_builtin_themes()}
    assert set(themes) == set(BUILTIN)
    assert load_builtin_themes()[0].name == DEFAULT_THEME
    for theme in themes.values():
        for key in PALETTE_KEYS:
            assert getattr(theme, key), f"{theme.name}: {key}"
        for variable in STATUS_VARIABLES:
            assert theme.variables.get(variable), f"{theme.name}: {variable}"


def test_ansi_theme_uses_only_the_terminals_colours() -> None:
    theme = {t.name: t for t in load_builtin_themes()}[NO_COLOR_THEME]
    assert theme.ansi
    colours = [getattr(theme, key) for key in PALETTE_KEYS] + [
        value for name, value in theme.variables.items() if not name.endswith("text-style")]
    assert colours and all(colour.startswith("ansi_") or colour == "transparent"
                           for colour in colours), colours
    # The cursor must show without colour: reverse video.
    assert "reverse" in theme.variables["block-cursor-text-style"]


@pytest.mark.parametrize(("text", "expected"), [
    ("name = ", "not valid TOML"),
    (GOOD_THEME.replace('primary = "#005f87"\n', ""), "palette.primary"),
    (GOOD_THEME.replace('"#ff8787"', '"reddish"'), "status.failed"),
    (GOOD_THEME.replace("dark = true", 'dark = "yes"'), "dark"),
    (GOOD_THEME + '[variables]\nblock-cursor-text-style = "shiny"\n', "text style"),
    (GOOD_THEME + '[variables]\nborder = "#zzz"\n', "not a colour"),
    (GOOD_THEME + '[variables]\nstatus-failed = "#ff0000"\n', "belongs in [status]"),
    (GOOD_THEME + "surprise = 1\n", "surprise"),
    (GOOD_THEME.replace('name = "ocean"', 'name = "Ocean Blue!"'), "name"),
])
def test_a_bad_theme_file_says_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(ThemeFileError) as caught:
        parse_theme(text, "ocean")
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_good_theme_file_becomes_a_theme_with_status_variables() -> None:
    theme = parse_theme(GOOD_THEME.replace('name = "ocean"\n', ""), "from-stem")
    assert theme.name == "from-stem"
    assert theme.primary == "#005f87"
    assert theme.variables["status-failed"] == "#ff8787"
    # deleted and not_found are optional and fall back to unknown's colour
    assert theme.variables["status-deleted"] == theme.variables["status-unknown"] == "#d0d0d0"
    assert theme.variables["status-not-found"] == "#d0d0d0"


def test_user_themes_load_one_problem_per_bad_file(tmp_path: Path) -> None:
    (tmp_path / "ocean.toml").write_text(GOOD_THEME)
    (tmp_path / "broken.toml").write_text("[palette\n")
    (tmp_path / "clash.toml").write_text(GOOD_THEME.replace('"ocean"', '"dark"'))
    (tmp_path / "notes.txt").write_text("not a theme")
    loaded = load_user_themes(tmp_path, taken={"dark"})
    assert [theme.name for theme in loaded.themes] == ["ocean"]
    assert sorted(problem.path.name for problem in loaded.problems) == ["broken.toml",
                                                                        "clash.toml"]
    assert all(str(problem.path) in str(problem) for problem in loaded.problems)
    assert load_user_themes(tmp_path / "missing", taken=()).themes == []


@pytest.mark.parametrize(("requested", "no_color", "name", "monochrome", "complains"), [
    (None, False, DEFAULT_THEME, False, False),
    (None, True, NO_COLOR_THEME, True, False),
    ("light", False, "light", False, False),
    ("light", True, "light", False, False),  # an explicit choice beats NO_COLOR
    ("nope", False, DEFAULT_THEME, False, True),
    ("nope", True, NO_COLOR_THEME, True, True),
])
def test_pick_theme(requested: str | None, no_color: bool, name: str, monochrome: bool,
                    complains: bool) -> None:
    pick = pick_theme(requested, BUILTIN, no_color=no_color)
    assert (pick.name, pick.monochrome, pick.problem is not None) == (name, monochrome,
                                                                     complains)


# ------------------------------------------------------------------- in the app
@pytest.mark.parametrize("name", BUILTIN)
async def test_each_builtin_theme_registers_and_feeds_the_table(
        name: str, session_for: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_for(), theme=name)
    expected = {t.name: t for t in load_builtin_themes()}[name].variables
    async with app.run_test() as pilot:
        await started(pilot)
        assert app.theme == name
        variables = app.get_css_variables()
        for variable in STATUS_VARIABLES:
            assert variables[variable] == expected[variable]
        assert notifications(app) == []


async def test_a_broken_user_theme_is_one_toast_and_the_app_runs(
        session_for: Callable[..., MonitorSession], tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path / "app")
    paths.themes_dir.mkdir(parents=True)
    broken = paths.themes_dir / "midnight.toml"
    broken.write_text(GOOD_THEME.replace('"ocean"', '"midnight"').replace(
        'failed = "#ff8787"', 'failed = "blood"'))
    (paths.themes_dir / "ocean.toml").write_text(GOOD_THEME)
    app = ConversionsApp(session_for(paths=paths))
    async with app.run_test() as pilot:
        await started(pilot)
        toasts = notifications(app)
        assert len(toasts) == 1, toasts
        assert str(broken) in toasts[0][1] and "status.failed" in toasts[0][1]
        assert app.theme == DEFAULT_THEME
        assert "ocean" in app.available_themes and "midnight" not in app.available_themes
        offered = {choice.name: choice for choice in app.theme_choices()}
        assert offered["ocean"].ours and offered["ocean"].description == "your theme"
        assert "midnight" not in offered
        app.theme = "ocean"  # the good one next to it is usable
        await pilot.pause()
        assert app.get_css_variables()["status-failed"] == "#ff8787"


async def test_an_unknown_theme_name_is_a_toast_and_the_default(
        session_for: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_for(), theme="solarized-ultra")
    async with app.run_test() as pilot:
        await started(pilot)
        assert app.theme == DEFAULT_THEME
        (toast,) = notifications(app)
        assert "solarized-ultra" in toast[1] and "dark" in toast[1]


async def test_app_takes_profile_theme_over_config_theme(
        session_for: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_for(AppConfig(theme="light"), profile_theme="high-contrast"))
    async with app.run_test() as pilot:
        await started(pilot)
        assert app.theme == "high-contrast"
    app = ConversionsApp(session_for(AppConfig(theme="light")))
    async with app.run_test() as pilot:
        await started(pilot)
        assert app.theme == "light"


@pytest.mark.parametrize(("flag", "env", "profile", "config", "expected"), [
    ("ansi-16", "light", "high-contrast", "dark", "ansi-16"),
    (None, "light", "high-contrast", "ansi-16", "light"),
    (None, None, "high-contrast", "light", "high-contrast"),
    (None, None, None, "light", "light"),
    (None, None, None, None, DEFAULT_THEME),
])
def test_cli_theme_precedence(flag: str | None, env: str | None, profile: str | None,
                              config: str | None, expected: str, sandbox: SandboxServer,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """--theme, then CONVERSIONS_THEME, then the profile's theme, then the config's."""
    from tui import cli

    paths = AppPaths.default()
    save_config(paths.config_file, AppConfig(theme=config, default_profile="p", profiles={
        "p": ProfileSettings(name="p", base_url=sandbox.base_url, theme=profile)}))
    if env:
        monkeypatch.setenv("CONVERSIONS_THEME", env)
    monkeypatch.setenv("CONVERSIONS_API_KEY", "test-key")
    chosen: list[str] = []

    def run(app: ConversionsApp, *args: Any, **kwargs: Any) -> None:
        chosen.append(app.theme)

    monkeypatch.setattr(ConversionsApp, "run", run)
    assert cli.main(["--theme", flag] if flag else []) == 0
    assert chosen == [expected]


async def test_no_color_starts_on_the_ansi_theme_without_colour(
        session_for: Callable[..., MonitorSession], monkeypatch: pytest.MonkeyPatch,
        sandbox: SandboxServer) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    watched = sandbox.state.add_conversion(status="Failed", errors=["Row 1: bad"])
    app = ConversionsApp(session_for(ids=(watched,)))
    async with app.run_test() as pilot:
        await started(pilot)
        await wait_for(pilot, lambda: app.screen.query_one(ConversionsTable).cursor_id,
                       what="a row under the cursor")
        await pilot.pause()
        assert app.theme == NO_COLOR_THEME
        assert any(isinstance(f, NoColor) for f in app._filters)
        assert not any(isinstance(f, Monochrome) for f in app._filters)
        # Nothing on screen carries a colour, yet the cursor row still stands out.
        codes = screen_sgr_codes(app)
        assert codes and not codes & COLOUR_CODES, sorted(codes & COLOUR_CODES)
        assert 7 in codes  # reverse video: the cursor


async def test_without_no_color_the_screen_has_colours(
        session_for: Callable[..., MonitorSession]) -> None:
    """The check above can fail: the same screen in colour is full of colour codes."""
    app = ConversionsApp(session_for(), theme=NO_COLOR_THEME)
    async with app.run_test() as pilot:
        await started(pilot)
        assert screen_sgr_codes(app) & COLOUR_CODES


async def test_no_color_with_an_explicit_theme_keeps_its_colours(
        session_for: Callable[..., MonitorSession], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = ConversionsApp(session_for(), theme="light")
    async with app.run_test() as pilot:
        await started(pilot)
        assert app.theme == "light"
        assert not any(isinstance(f, NoColor | Monochrome) for f in app._filters)


async def choose_in_palette(pilot: Pilot[Any], text: str) -> None:
    """Open the palette, type ``text`` and run the highlighted command."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*text)
    await wait_for(pilot, lambda: _palette_has_hits(pilot), what="palette hits")
    await pilot.press("enter")
    await pilot.pause()


def _palette_has_hits(pilot: Pilot[Any]) -> bool:
    from textual.command import CommandList

    lists = pilot.app.screen.query(CommandList)
    return bool(lists) and lists.first().option_count > 0


async def test_palette_theme_switch_is_saved_in_the_config(
        session_for: Callable[..., MonitorSession], tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path / "app")
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text('default_profile = "test"\n[keymap]\n"monitor.add" = "A"\n')
    app = ConversionsApp(session_for(load_config(paths.config_file), paths=paths))
    async with app.run_test() as pilot:
        await started(pilot)
        await choose_in_palette(pilot, "theme: high-contrast")
        await wait_for(pilot, lambda: app.theme == "high-contrast", what="theme switched")
        assert any("saved" in message for _, message in notifications(app))
    saved = tomllib.loads(paths.config_file.read_text())
    assert saved["theme"] == "high-contrast"
    assert saved["keymap"] == {"monitor.add": "A"}  # the rest of the file stays
    assert saved["default_profile"] == "test"


async def test_palette_theme_switch_goes_to_the_profile_that_sets_its_own(
        session_for: Callable[..., MonitorSession], tmp_path: Path, sandbox: SandboxServer,
) -> None:
    paths = AppPaths.under(tmp_path / "app")
    save_config(paths.config_file, AppConfig(theme="dark", profiles={
        "test": ProfileSettings(name="test", base_url=sandbox.base_url, theme="light")}))
    app = ConversionsApp(session_for(load_config(paths.config_file), paths=paths,
                                     profile_theme="light"))
    async with app.run_test() as pilot:
        await started(pilot)
        assert app.theme == "light"
        app.choose_theme("ansi-16")
        await pilot.pause()
    saved = load_config(paths.config_file)
    assert saved.profiles["test"].theme == "ansi-16"
    assert saved.theme == "dark"


async def test_demo_switches_theme_but_writes_nothing(
        session_for: Callable[..., MonitorSession], tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path / "app")
    app = ConversionsApp(session_for(paths=paths, demo=True))
    async with app.run_test() as pilot:
        await started(pilot)
        await choose_in_palette(pilot, "theme: light")
        await wait_for(pilot, lambda: app.theme == "light", what="theme switched")
    assert not paths.config_file.exists()
    assert not AppPaths.default().config_file.exists()


async def test_first_run_honours_the_config_theme_and_saves_a_palette_choice(
        tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path / "fresh")
    save_config(paths.config_file, AppConfig(theme="light"))
    setup = SetupNeeded(paths=paths, config=load_config(paths.config_file),
                        explanation="No profile yet.")
    app = ConversionsApp(None, setup=setup)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FirstRunScreen), what="form")
        assert app.theme == "light"
        app.choose_theme("high-contrast")
        await pilot.pause()
        assert app.theme == "high-contrast"
    assert load_config(paths.config_file).theme == "high-contrast"
    assert setup.config.theme == "high-contrast"  # the form saves this same config later


async def test_demo_still_loads_the_users_own_themes(
        session_for: Callable[..., MonitorSession], tmp_path: Path) -> None:
    user_themes = AppPaths.default().themes_dir
    user_themes.mkdir(parents=True)
    (user_themes / "ocean.toml").write_text(GOOD_THEME)
    app = ConversionsApp(session_for(paths=AppPaths.under(tmp_path / "demo"), demo=True),
                         theme="ocean")
    async with app.run_test() as pilot:
        await started(pilot)
        assert app.theme == "ocean"
        assert notifications(app) == []


# ------------------------------------------------------------------- the wheel
@pytest.mark.slow
def test_builtin_themes_ship_in_the_wheel_and_load_from_it(tmp_path: Path) -> None:
    """Build the wheel, look inside, install it elsewhere and load the themes from there."""
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "dist"
    out.mkdir()
    build = subprocess.run(
        [sys.executable, "-c", "import sys; from hatchling.build import build_wheel; "
         "print(build_wheel(sys.argv[1]))", str(out)],
        cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stderr
    wheel = out / build.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.startswith("tui/themes/")}
    assert {f"tui/themes/{name}.toml" for name in BUILTIN} <= shipped

    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(site), str(wheel)],
        capture_output=True, text=True, timeout=300, check=False)
    assert install.returncode == 0, install.stderr
    probe = (
        "import json, tui, tui.ui.themes as t\n"
        "files = t.builtin_theme_files()\n"
        "print(json.dumps({'tui': tui.__file__, 'files': [str(f) for f in files],\n"
        "                  'themes': [x.name for x in t.load_builtin_themes()]}))\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert Path(found["tui"]).is_relative_to(site)
    assert len(found["files"]) == len(BUILTIN)
    assert all(Path(name).is_relative_to(site / "tui" / "themes") for name in found["files"])
    assert sorted(found["themes"]) == sorted(BUILTIN)


# ------------------------------------------------------------------ snapshots
SnapCompare = Callable[..., bool]


@pytest.fixture
def themed_app(tmp_path: Path) -> Iterator[Callable[[str], ConversionsApp]]:
    """The monitor on the fixed rows of the monitor snapshots, in a given theme."""
    sessions: list[MonitorSession] = []

    def build(theme: str) -> ConversionsApp:
        profile = ProfileSettings(name="support-prod", base_url="https://api.northwind.example")
        session = FrozenSession.open(AppPaths.under(tmp_path / theme), AppConfig(), profile,
                                     preset_key=ApiKey("snapshot-key-7f3a"), env={})
        session.last_profile = OWNER
        load_rows(session)
        sessions.append(session)
        return ConversionsApp(session, theme=theme)

    yield build
    for session in sessions:
        session.close()


@pytest.mark.usefixtures("frozen_clock")
@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("theme", BUILTIN)
def test_monitor_in_each_theme(snap_compare: SnapCompare, themed_app: Callable[[str],
                               ConversionsApp], theme: str, size: tuple[int, int]) -> None:
    assert snap_compare(themed_app(theme), terminal_size=size, run_before=settle)


@pytest.mark.usefixtures("frozen_clock")
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_help_screen(snap_compare: SnapCompare, themed_app: Callable[[str], ConversionsApp],
                     theme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real folders are temporary; show fixed ones so the picture does not change.
    home = AppPaths.under(Path("/home/dana/.local/share/conversions-tui"))
    monkeypatch.setattr(HelpPaths, "of", classmethod(
        lambda cls, paths, profile, demo=False, themes_dir=None, **_: HelpPaths(
            profile=profile, config_file=str(home.config_file),
            themes_dir=str(home.themes_dir), data_dir=str(home.profile_data_dir(profile)),
            audit_db=str(home.audit_db(profile)))))

    async def open_help(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(themed_app(theme), terminal_size=(120, 40), run_before=open_help)


def test_the_readme_example_is_a_valid_theme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "themes" / "README.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    theme = parse_theme(example, "ignored")
    assert theme.name == "ocean"
    assert theme.variables["status-not-found"] == "#d787ff"
