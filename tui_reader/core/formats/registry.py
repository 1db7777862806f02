"""The one list of dataset formats.

Each format module declares one :class:`Format` (its name, writer, reader, how to recognise its
records, whether it is tokenized, whether it writes a folder, what it cannot carry), named
``FORMAT``. Adding a format is one new module plus one line in ``_MODULES`` below; the command
line's ``--format`` choices and help, import's format detection, the export and the dataset card
all read this registry.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:
    from ..store import Project
    from .base import ExportReport, Writer, WriterOptions

# Registry order is the order of --format's choices and of the README's table.
_MODULES = ("jsonl", "prodigy", "spacy_docbin", "hf", "doccano", "doccano_relations", "label_studio",
            "brat", "conll", "gliner")


@dataclass
class ReadContext:
    """What reading one file's records shares: Label Studio users to annotator names (the
    ``--ls-users`` file), and state a reader keeps from one record of the file to the next."""

    ls_users: dict[str, Any] | None = None
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Format:
    name: str  # what --format takes
    summary: str  # one line for --help and the dataset card
    writer: type[Writer]
    suffix: str = ""  # of the file one writer writes ("" for a writer that fills a folder)
    writes_folder: bool = False  # one writer fills a folder (brat)
    always_folder: bool = False  # the export is a folder even without --split (hf, brat)
    every_layer: bool = False  # holds every annotator's spans; else one layer (a gold policy)
    tokenized: bool = False  # spans are tied to tokens (the tokenizer is named in the card)
    binary: bool = False
    to_stdout: bool = False  # ``-o -`` may stream it to standard output
    drop_empty_splits: bool = False  # an empty split gets no file (datasets cannot load one)
    cannot_carry: tuple[str, ...] = ()  # what a user loses in this format, for the docs
    # Reading back: ``detect(record)`` says whether a parsed JSON record is of this format,
    # ``read(record)`` turns it into the native record that import stores.
    detect: Callable[[Any], bool] | None = None
    read: Callable[[dict[str, Any], ReadContext], dict[str, Any]] | None = None
    # A format written as a folder reads back from one: ``read_folder(folder)`` yields
    # ``(where, native record)`` for a folder holding ``folder_marker``.
    read_folder: Callable[[Path], Iterator[tuple[str, dict[str, Any]]]] | None = None
    folder_marker: str = ""
    # A dataset card of the format's own (hf: the Hub's), instead of card.dataset_card.
    card: Callable[[Project, ExportReport], str] | None = None
    options: dict[str, str] = field(default_factory=dict)  # format-specific WriterOptions.extra keys
    # Where one split's file goes inside a folder export ({split}, {suffix}); the Hub wants
    # Parquet shards under data/.
    split_path: str = "{split}{suffix}"

    def split_file(self, split: str) -> str:
        return self.split_path.format(split=split, suffix=self.suffix)

    def open(self, target: str | os.PathLike[str], options: WriterOptions | None = None,
             atomic: bool = True) -> Writer:
        """A writer of this format on ``target`` (a file, a folder, or ``-`` for stdout)."""
        from .base import WriterOptions

        return self.writer(self, Path(target), options or WriterOptions(), atomic=atomic)


_FORMATS: dict[str, Format] | None = None


def formats() -> dict[str, Format]:
    """Every format by name, in registry order (format modules are imported on first call)."""
    global _FORMATS
    if _FORMATS is None:
        found: dict[str, Format] = {}
        for module_name in _MODULES:
            module = importlib.import_module(f"{__package__}.{module_name}")
            fmt: Format = module.FORMAT
            found[fmt.name] = fmt
        _FORMATS = found
    return _FORMATS


def format_names() -> tuple[str, ...]:
    return tuple(formats())


def get_format(name: str) -> Format:
    try:
        return formats()[name]
    except KeyError:
        raise InputError(f"unknown format {name!r} (one of: {', '.join(formats())})") from None


def folder_format(folder: Path) -> Format | None:
    """The format a folder was written in, when one reads folders back (brat)."""
    return next((f for f in formats().values() if f.read_folder is not None and f.folder_marker
                 and (folder / f.folder_marker).is_file()), None)


def readable_formats() -> list[Format]:
    """The formats import reads back, the native one last (its records are the plainest, so the
    others are tried first)."""
    readable = [f for f in formats().values() if f.read is not None and f.detect is not None]
    return sorted(readable, key=lambda f: f.name == "jsonl")
