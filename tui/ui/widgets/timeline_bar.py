"""A conversion's status history as one bar: time in each status, to scale.

Line one is the bar: one segment per status span, as wide as its share of the
time, coloured by status kind from the theme (``$status-*``) and starting with
the kind's symbol and the status word, so it reads without colour too. Line
two gives each segment's duration beneath it. Status words came from the
server: they are made printable and drawn as plain text, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tui.core.statuses import StatusKind, status_kind, status_symbol
from tui.core.triage import StatusSpan, format_duration
from tui.core.untrusted import printable

__all__ = ["TimelineBar", "allocate_cells", "fit_cells"]

_PREFIX = "timeline-bar--"


def allocate_cells(seconds: Sequence[float], width: int) -> list[int]:
    """Split ``width`` cells between spans in proportion to their ``seconds``.

    Largest remainders get the leftover cells, so the sum is exactly ``width``.
    When there is room, every span gets at least one cell (taken from the
    widest), so a status that lasted a second is still seen. With no time at
    all (every span zero long) the cells are shared evenly.
    """
    count = len(seconds)
    if count == 0 or width <= 0:
        return [0] * count
    weights = [max(0.0, value) for value in seconds]
    total = sum(weights)
    if total <= 0:
        weights, total = [1.0] * count, float(count)
    exact = [width * weight / total for weight in weights]
    cells = [int(value) for value in exact]
    leftover = width - sum(cells)
    # Ties go to the later span: the current status is the one people look at.
    by_remainder = sorted(range(count), key=lambda i: (exact[i] - cells[i], i), reverse=True)
    for index in by_remainder[:leftover]:
        cells[index] += 1
    if width >= count:
        for index in range(count):
            if cells[index] == 0:
                widest = max(range(count), key=lambda i: cells[i])
                cells[widest] -= 1
                cells[index] = 1
    return cells


def fit_cells(text: str, width: int) -> str:
    """``text`` padded, or cut with an ellipsis, to exactly ``width`` cells (wide
    characters count as two)."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


class TimelineBar(Widget):
    """Time spent in each status, to scale, with the duration under each segment."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        f"{_PREFIX}{kind.value.replace('_', '-')}" for kind in StatusKind
    } | {f"{_PREFIX}duration", f"{_PREFIX}empty"}

    DEFAULT_CSS = """
    TimelineBar {
        height: 2;
        width: 1fr;
        & > .timeline-bar--queued { background: $status-queued; color: auto 90%; }
        & > .timeline-bar--processing { background: $status-processing; color: auto 90%; }
        & > .timeline-bar--completed { background: $status-completed; color: auto 90%; }
        & > .timeline-bar--failed {
            background: $status-failed; color: auto 90%; text-style: bold;
        }
        & > .timeline-bar--deleting { background: $status-deleting; color: auto 90%; }
        & > .timeline-bar--deleted { background: $status-deleted; color: auto 90%; }
        & > .timeline-bar--not-found { background: $status-not-found; color: auto 90%; }
        & > .timeline-bar--unknown { background: $status-unknown; color: auto 90%; }
        & > .timeline-bar--duration { color: $text-muted; }
        & > .timeline-bar--empty { color: $text-muted; text-style: italic; }
    }
    """

    def __init__(self, spans: Sequence[StatusSpan] = (), *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._spans = tuple(spans)

    @property
    def spans(self) -> tuple[StatusSpan, ...]:
        """The spans drawn, oldest first."""
        return self._spans

    @spans.setter
    def spans(self, spans: Sequence[StatusSpan]) -> None:
        self._spans = tuple(spans)
        self.refresh()

    def segment_widths(self, width: int | None = None) -> list[int]:
        """Cells each span takes at ``width`` (default: the widget's width)."""
        width = self.content_region.width if width is None else width
        return allocate_cells([span.seconds for span in self._spans], width)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"{_PREFIX}{name}")

    def render(self) -> Text:
        """The bar and, beneath it, the durations."""
        width = self.content_region.width
        if not self._spans:
            return Text("(no status recorded yet)", style=self._style("empty"), no_wrap=True)
        bar, durations = Text(no_wrap=True), Text(no_wrap=True)
        duration_style = self._style("duration")
        for span, cells in zip(self._spans, self.segment_widths(width), strict=True):
            if cells <= 0:
                continue
            kind = status_kind(span.status)
            symbol = status_symbol(kind)
            label = f"{symbol} {printable(span.status, limit=80)}"
            bar.append(fit_cells(label, cells) if cells > 1 else symbol,
                       self._style(kind.value.replace("_", "-")))
            # A duration is shown whole with a cell to spare, or not at all: "10 m…" misleads.
            took = format_duration(span.seconds)
            durations.append(fit_cells(took if cell_len(took) < cells else "", cells),
                             duration_style)
        bar.append("\n")
        bar.append_text(durations)
        return bar
