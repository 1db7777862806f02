"""The core: no Textual import. Corpus text, spans, the store, formats."""
