"""Dataset formats: one module per format, each reading and writing through ``Project``."""

# The export formats, named here so the command line can list them without importing them all.
FORMAT_NAMES = ("jsonl", "prodigy", "spacy", "hf", "doccano", "label-studio", "brat", "conll",
                "gliner")
