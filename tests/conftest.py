"""Set for every test and every process a test starts: after each write of a document, the store
reads the files back cold and checks they hold what it keeps in memory (core/journal.py)."""

import os

os.environ.setdefault("TUI_READER_CHECK_JOURNAL", "1")
