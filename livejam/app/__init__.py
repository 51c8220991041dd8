"""What a user runs: the command line, headless play, the live wiring, the TUI."""
