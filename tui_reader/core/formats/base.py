"""The small interface every dataset writer shares, and what it reports.

A writer is opened on a target, receives one :class:`~.dataset.ExportDoc` at a time and is closed::

    with ProdigyWriter.open(Path("out.jsonl"), WriterOptions(strict=True)) as writer:
        for doc in export_docs(project):
            writer.write(doc)
    report = writer.report

It writes to a temporary name beside the target and renames it only when closed without error, so
the target appears complete or not at all (``atomic=False``: write in place, for a caller that
stages a whole folder itself).

What a format cannot hold is counted in ``report.losses`` ("overlapping spans dropped": 3). With
``strict`` the first loss raises :class:`ExportLossError` instead and nothing is written.
``report.notices`` counts what changed form without being lost (a brat span written as fragments).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, ClassVar

from ..errors import InputError
from .dataset import ExportDoc


class ExportLossError(InputError):
    """--strict: the format cannot hold something of the project; nothing was written."""


@dataclass(frozen=True)
class WriterOptions:
    strict: bool = False
    lang: str = "en"  # spaCy blank tokenizer language
    labels: tuple[str, ...] = ()  # the project's label names, in config order (BIO columns, brat)
    dataset: str = "tui-reader"  # Prodigy dataset name (in _session_id)
    extra: dict[str, Any] = field(default_factory=dict)  # format-specific options


@dataclass
class WriteReport:
    documents: int = 0
    spans: int = 0
    labels: Counter[str] = field(default_factory=Counter)  # spans written per label
    annotators: Counter[str] = field(default_factory=Counter)  # documents per layer written
    losses: Counter[str] = field(default_factory=Counter)
    notices: Counter[str] = field(default_factory=Counter)
    files: list[Path] = field(default_factory=list)

    def merge(self, other: WriteReport) -> None:
        self.documents += other.documents
        self.spans += other.spans
        self.labels.update(other.labels)
        self.annotators.update(other.annotators)
        self.losses.update(other.losses)
        self.notices.update(other.notices)
        self.files.extend(other.files)

    def lines(self) -> list[str]:
        """One line per loss and notice: ``"spans not aligned to tokens: 2"``."""
        return [f"{what}: {n}" for what, n in sorted(self.losses.items())] + [
            f"{what}: {n}" for what, n in sorted(self.notices.items())
        ]


class Writer:
    """Base of the dataset writers (one module per format)."""

    name: ClassVar[str] = ""
    suffix: ClassVar[str] = ""  # file suffix, "" for a folder format
    folder: ClassVar[bool] = False  # writes a folder rather than one file
    single_layer: ClassVar[bool] = True  # holds one set of spans per document
    binary: ClassVar[bool] = False

    def __init__(self, target: Path, options: WriterOptions, atomic: bool = True) -> None:
        self.target = Path(target)
        self.options = options
        self.report = WriteReport()
        self.atomic = atomic
        self._closed = False
        if atomic:
            self.path = self.target.with_name(f".tmp-{self.target.name}-{uuid.uuid4().hex[:8]}")
        else:
            self.path = self.target
        if self.folder:
            if self.target.exists() and (not self.target.is_dir() or any(self.target.iterdir())):
                if atomic:
                    raise FileExistsError(f"{self.target} exists and is not an empty folder")
            self.path.mkdir(parents=True, exist_ok=True)
            self.out: IO[Any] | None = None
        else:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self.out = open(self.path, "wb")  # noqa: SIM115 - closed in close()/abort()
        self._begin()

    @classmethod
    def open(cls, target: str | os.PathLike[str], options: WriterOptions | None = None,
             atomic: bool = True) -> Writer:
        return cls(Path(target), options or WriterOptions(), atomic=atomic)

    @classmethod
    def split_file(cls, split: str) -> str:
        """Where a split goes inside a folder export (a path relative to the folder)."""
        return f"{split}{cls.suffix}"

    # -- what subclasses implement
    def _begin(self) -> None:
        pass

    def _write(self, doc: ExportDoc) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        pass

    # -- the interface
    def write(self, doc: ExportDoc) -> None:
        self._write(doc)
        self.report.documents += 1

    def close(self) -> WriteReport:
        """Finish the output and put it in place; returns the report."""
        if self._closed:
            return self.report
        self._finish()
        if self.out is not None:
            self.out.flush()
            os.fsync(self.out.fileno())
            self.out.close()
        if self.atomic:
            if self.folder:
                if self.target.exists():
                    self.target.rmdir()  # checked empty at open
                os.replace(self.path, self.target)
            else:
                os.replace(self.path, self.target)
        self._closed = True
        self.report.files.append(self.target)
        return self.report

    def abort(self) -> None:
        """Drop everything written (after an error)."""
        if self._closed:
            return
        self._closed = True
        if self.out is not None:
            self.out.close()
        if self.folder:
            if self.atomic or self.path.exists():
                shutil.rmtree(self.path, ignore_errors=True)
        else:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # -- helpers for subclasses
    def layer_spans(self, doc: ExportDoc) -> list[dict[str, Any]]:
        """The document's one layer (ValueError listing the gold policies when there are more)."""
        return doc.single_layer(self.name)

    def lose(self, what: str, doc: ExportDoc, n: int = 1) -> None:
        """Count ``n`` of something this format cannot hold; with strict, stop here."""
        if n <= 0:
            return
        if self.options.strict:
            raise ExportLossError(
                f"{self.name}: {what} in document {doc.id!r} (--strict: nothing was written)"
            )
        self.report.losses[what] += n

    def notice(self, what: str, n: int = 1) -> None:
        if n > 0:
            self.report.notices[what] += n

    def count_spans(self, spans: list[dict[str, Any]]) -> None:
        self.report.spans += len(spans)
        self.report.labels.update(s["label"] for s in spans)

    def count_layer(self, name: str | None) -> None:
        if name:
            self.report.annotators[name] += 1


def overlapping_same_label(spans: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Spans without overlaps among spans of the same label (earliest start, then longest, wins);
    returns (kept, dropped count). Spans of different labels may overlap."""
    kept: list[dict[str, Any]] = []
    last_end: dict[str, int] = {}
    dropped = 0
    for span in sorted(spans, key=lambda s: (s["start"], -s["end"], s["label"])):
        if span["start"] < last_end.get(span["label"], -1):
            dropped += 1
            continue
        kept.append(span)
        last_end[span["label"]] = span["end"]
    return kept, dropped
