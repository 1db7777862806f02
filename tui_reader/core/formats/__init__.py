"""Dataset formats: one module per format, each declaring its ``Format`` (see ``registry.py``)."""
