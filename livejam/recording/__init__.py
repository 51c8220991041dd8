"""Recording: each session to a MIDI file, and the recordings kept."""
