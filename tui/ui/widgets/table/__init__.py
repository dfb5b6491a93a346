"""The conversions table: a widget that holds 100,000 rows and draws only what is seen.

``conversions_table.py`` is the widget (keys, clicks, cursor, marks, sort, filter);
``view.py`` its drawing half; ``rows.py`` the rows in sort order (no Textual);
``entries.py`` one row sanitised once; ``columns.py`` widths, formats and sort keys;
``drawing.py`` Strips, never markup; ``messages.py`` what the table tells its screen.
"""
