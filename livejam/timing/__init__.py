"""Time: clocks, the timed output, tempo and MIDI clock, bars and the beat grid."""
