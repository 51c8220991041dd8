"""Measuring tools: the runtime benches and a loopback keyboard-and-DAW (not used at run time)."""
