"""The engine without MIDI ports or waiting: a fake-clock driver, `respond`, WAV rendering."""
