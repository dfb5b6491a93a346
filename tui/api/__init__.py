"""The wire format and the HTTP client of the Conversions API (no UI, no disk, no keyring)."""
