"""The ``[keymap]`` of the config: which binding ids exist, and what a remap would break.

Every binding of the app has an id (``"monitor.delete"``); the config remaps by
id (``"monitor.delete" = "ctrl+d"``) and Textual's ``App.set_keymap`` applies
it. Textual quietly drops a binding whose key a remap takes, so before applying
the keymap :func:`check_keymap` lists what the user should hear about: ids that
do not exist, and keys that two different actions would share on one screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from textual.binding import Binding
from textual.dom import DOMNode

from tui.ui.textual_private import merged_bindings, normalize_keys

__all__ = [
    "KeymapScope",
    "binding_ids",
    "check_keymap",
    "normalize_keymap",
    "scope_bindings",
]


@dataclass(frozen=True)
class KeymapScope:
    """The classes whose bindings are live together on one screen (app, screen, widgets)."""

    name: str
    nodes: Sequence[type[DOMNode]]


def scope_bindings(node: type[DOMNode]) -> list[Binding]:
    """The bindings of ``node`` as Textual merges them (inherited ones included)."""
    merged = merged_bindings(node)
    return [binding for bindings in merged.key_to_bindings.values() for binding in bindings]


def binding_ids(scopes: Iterable[KeymapScope]) -> set[str]:
    """Every binding id a keymap may name."""
    return {binding.id for scope in scopes for node in scope.nodes
            for binding in scope_bindings(node) if binding.id}


def normalize_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    """Keys as Textual names them (``"?"`` becomes ``"question_mark"``)."""
    return {binding_id: normalize_keys(keys) for binding_id, keys in keymap.items()}


@dataclass(frozen=True)
class _Bound:
    label: str
    action: str
    remapped: bool


def check_keymap(keymap: Mapping[str, str], scopes: Sequence[KeymapScope]) -> list[str]:
    """What is wrong with ``keymap`` for these scopes, one readable line each.

    Unknown ids are reported, and every key that the remap leaves with two
    different actions in one scope. Keys that clash in the defaults (a widget's
    ``enter`` under a screen's ``enter``) are by design and not reported.
    """
    keymap = normalize_keymap(keymap)
    problems = [f"unknown binding id {binding_id!r}"
                for binding_id in sorted(set(keymap) - binding_ids(scopes))]
    for scope in scopes:
        keys: dict[str, list[_Bound]] = {}
        for node in scope.nodes:
            for binding in scope_bindings(node):
                remapped = binding.id is not None and binding.id in keymap
                new_keys = keymap[binding.id].split(",") if remapped and binding.id else [
                    binding.key]
                label = binding.id or binding.action
                for key in new_keys:
                    keys.setdefault(key.strip(), []).append(
                        _Bound(label, binding.action, remapped))
        for key, bound in sorted(keys.items()):
            if not any(item.remapped for item in bound):
                continue
            if len({item.action for item in bound}) < 2:
                continue  # two ids for the same action on one key: harmless
            labels = ", ".join(dict.fromkeys(item.label for item in bound))
            problems.append(f"{key} is bound twice on the {scope.name} screen ({labels})")
    return problems
