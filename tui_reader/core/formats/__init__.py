"""Dataset formats: one module per format, each reading and writing through ``Project``."""
