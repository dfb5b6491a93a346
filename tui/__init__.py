"""conversions-tui: a terminal UI for the Conversions API."""

__version__ = "0.1.0"
