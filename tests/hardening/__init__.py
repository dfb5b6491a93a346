"""Hardening: the whole app against the sandbox with faults switched on and off."""
