"""Saved views and table layouts in views.toml: round trip, and bad files warn, never fail."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tui.core.savedviews import (
    ProfileLayout,
    SavedView,
    TableLayout,
    check_view_name,
    dumps_layouts,
    load_layouts,
    parse_layouts,
    save_layouts,
)

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
_names = _text.filter(lambda name: check_view_name(name) is None)
_layouts = st.builds(TableLayout, sort=_text.filter(bool), reverse=st.booleans(),
                     columns=st.lists(_text, max_size=5, unique=True).map(tuple))
_views = st.builds(SavedView, name=_names, filter=_text, layout=_layouts,
                   base=_text.filter(bool))
_profiles = st.builds(
    ProfileLayout, table=_layouts,
    views=st.lists(_views, max_size=4, unique_by=lambda view: view.name).map(tuple))


@given(st.dictionaries(_text, _profiles, max_size=3))
def test_any_layouts_read_back_as_written(profiles: dict[str, ProfileLayout]) -> None:
    text = dumps_layouts(profiles)
    read = parse_layouts(text)
    assert read.warnings == []
    assert read.profiles == profiles


def test_save_keeps_other_profiles_and_replaces_a_view_in_place(tmp_path: Path) -> None:
    path = tmp_path / "views.toml"
    save_layouts(path, "prod", ProfileLayout(views=(SavedView("a", "status:failed"),
                                                     SavedView("b"))))
    save_layouts(path, "test", ProfileLayout(TableLayout("file", True, ("id", "file"))))
    prod = load_layouts(path).layout("prod")
    save_layouts(path, "prod", prod.with_view(SavedView("a", "type:csv")))
    read = load_layouts(path)
    assert [v.name for v in read.layout("prod").views] == ["a", "b"]
    assert read.layout("prod").view("a") == SavedView("a", "type:csv")
    assert read.layout("test").table == TableLayout("file", True, ("id", "file"))
    assert read.layout("prod").without_view("a").views == (SavedView("b"),)


def test_broken_toml_gives_defaults_and_a_warning_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "views.toml"
    path.write_text('[profiles.prod]\nsort = "id\ncolumns = []\n', encoding="utf-8")
    read = load_layouts(path)
    assert read.layout("prod") == ProfileLayout()
    assert len(read.warnings) == 1 and str(path) in read.warnings[0]
    assert "line 2" in read.warnings[0]
    # Saving then keeps the broken file aside: nothing the user wrote is lost.
    save_layouts(path, "prod", ProfileLayout(TableLayout("file")))
    assert (tmp_path / "views.toml.bad").read_text(encoding="utf-8").startswith("[profiles.prod]")
    assert load_layouts(path).layout("prod").table.sort == "file"


def test_bad_values_warn_with_file_and_line_and_keep_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "views.toml"
    path.write_text(
        '[profiles.prod]\nsort = 3\nreverse = "yes"\ncolumns = ["id", 4]\n\n'
        '[profiles.prod.views.ok]\nfilter = "type:csv"\n\n'
        '[profiles.prod.views.bad]\nfilter = 7\n', encoding="utf-8")
    read = load_layouts(path)
    prod = read.layout("prod")
    assert prod.table == TableLayout()
    assert [view.name for view in prod.views] == ["ok", "bad"]
    assert prod.view("ok") == SavedView("ok", "type:csv")
    assert prod.view("bad") == SavedView("bad", "")
    joined = "\n".join(read.warnings)
    assert f"{path}: line 2: [profiles.prod] sort" in joined
    assert f"{path}: line 3: [profiles.prod] reverse" in joined
    assert "line 4" in joined and "columns" in joined
    assert "filter: not text" in joined


def test_not_utf8_warns(tmp_path: Path) -> None:
    path = tmp_path / "views.toml"
    path.write_bytes(b'[profiles.p]\nsort = "\xff"\n')
    read = load_layouts(path)
    assert read.profiles == {} and "line 2: not UTF-8" in read.warnings[0]


def test_view_names_are_checked() -> None:
    assert check_view_name("Morning failures") is None
    assert check_view_name("  ") == "A view needs a name."
    assert check_view_name("x" * 41) is not None
    assert check_view_name("a\nb") is not None
