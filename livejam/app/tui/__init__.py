"""The Textual TUI: a thin view over a running engine (see app.py)."""
