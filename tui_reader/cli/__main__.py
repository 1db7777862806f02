"""``python -m tui_reader.cli``: the same command line as ``tui-reader``."""

from . import main

main()
