"""A local server that speaks the Conversions API, for the demo and for tests."""
