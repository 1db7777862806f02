"""tui-reader: label spans of articles in the terminal."""

__version__ = "0.1.0"

