"""Screens and modals of the app, one module each."""
