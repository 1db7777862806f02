"""The one family of errors for problems a user can fix.

Everything a user can put right (a bad path, a damaged or foreign file, an unknown label, a bad
option) raises a :class:`TuiReaderError` whose message is one line naming what was wrong. The
command line and the app catch this family only: any other exception is a bug, and shows its
traceback. Subclasses that stand for a bad value also derive from ``ValueError`` (and a missing
thing from ``LookupError``), so scripts that caught those before keep working.
"""

from __future__ import annotations


class TuiReaderError(Exception):
    """A problem the user can fix; ``str(error)`` is one line that names it."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class StoreError(TuiReaderError):
    """A problem with the project's files (none here, a folder that is not a project, ...)."""


class CorruptFileError(StoreError):
    """A file that could not be parsed; it was left untouched."""


class InputError(TuiReaderError, ValueError):
    """A value from the user or from an imported file that cannot be taken (an unknown label, a
    span outside the text, a bad option)."""


class NotFoundError(TuiReaderError, LookupError):
    """A document or span that is not (or no longer) in the project."""


class PackageMissingError(TuiReaderError):
    """An optional package a command needs is not installed; the message says what to install."""


class ServeError(TuiReaderError):
    """A problem with what ``serve-ssh`` or ``serve-web`` was given (a key file, an address)."""
