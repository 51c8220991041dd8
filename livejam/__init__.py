"""livejam: a real-time MIDI performance companion."""
__version__ = "0.1.0"
