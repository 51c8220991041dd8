"""MIDI in and out: ports, the watchdog, sounding notes and the panic, MIDI files."""
