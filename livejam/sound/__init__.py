"""The sound wing: livejam's own synth (a General MIDI SoundFont), for files and for live audio."""
