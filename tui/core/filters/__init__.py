"""The filter language of the ``/`` box and ``conversions-tui list --filter``.

``status:failed,processing type:csv note:INC-4412 id:48200-48300 age:>30m warn:>0
err:>0 file:payroll* msg:"not valid UTF-8" -status:deleted payroll``: one parser for the
app and the command line. :func:`parse_filter` gives a :class:`RowFilter` (a fast test
of a ``WatchedConversion``) or raises :class:`FilterError` naming the bad term's span
with one sentence; it raises nothing else, whatever the text.
"""

from tui.core.filters.errors import FilterError
from tui.core.filters.parse import FILTER_TERMS, RowFilter, TextTest, parse_filter, row_text
from tui.core.filters.terms import STATUS_WORDS, started_at

__all__ = ["FILTER_TERMS", "STATUS_WORDS", "FilterError", "RowFilter", "TextTest",
           "parse_filter", "row_text", "started_at"]
