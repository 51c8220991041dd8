"""Settings: the table of every setting, and the ones saved between runs."""
