"""Read dataset files back as native records, and tell their formats apart.

Every reader yields ``(where, record)`` pairs, ``where`` being ``file:line`` (or ``file:task N``)
for messages and ``record`` the native shape that :func:`importer.parse_record` reads::

    {"id", "text", "spans": [{"start", "end", "label", "annotator", "note"?}], "meta",
     "done_by"?, "skipped_by"?}

Offsets stay those of the source text (code points); ``parse_record`` moves them with the text
when it turns CRLF into LF, and refuses (one message each) spans out of range or with an unknown
label, never snapping them.

- Prodigy: records pass as they are (``parse_record`` reads Prodigy tasks): ``_annotator_id`` is
  the annotator, ``answer`` reject/ignore keeps the text without spans. An accepted task with no
  span marks the document done by its annotator (a real negative).
- doccano: ``label`` or ``labels`` lists of ``[start, end, label]`` (or objects with
  ``start_offset``/``end_offset``/``label``, as in ``entities``); other keys become metadata.
- Label Studio, JSON export (a JSON array of tasks, or one task per JSONL line): each annotation's
  results of type ``labels`` become spans of its annotator (:class:`LSNames`); a result with
  several labels makes one span per label. A submitted annotation marks the document done by its
  annotator, a cancelled one (``was_cancelled``) skipped, its spans kept; a draft not attached to
  an annotation brings its spans (work in progress); predictions are ignored. Two annotations of
  one task attributed to one user stay two layers (``name`` and ``name#<annotation id>``).
- Label Studio, JSON-MIN export (a JSON array of flat records, one per annotation): the same, from
  the region lists under the control's name and ``annotator`` (JSON-MIN leaves cancelled
  annotations out).
- Label Studio offsets: when ``value.text`` shows that they count UTF-16 code units (as some
  older versions did after an emoji), they are converted to code points.

Each format's module reads its own records (its ``Format.read``); this module finds the records
in a file and which format each is. :func:`importer.import_records` stores them in a project.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import InputError
from ..text import decode
from .registry import ReadContext, get_format, readable_formats

if TYPE_CHECKING:
    from .label_studio import LSUser


# ------------------------------------------------------------------------------ detection
def detect_format(sample: bytes | str | dict[str, Any] | list[Any]) -> str:
    """The registry name of the format (``jsonl`` for native records, ``prodigy``, ``doccano``,
    ``label-studio`` for either of its JSON exports) of a file's first bytes or of its first
    records. InputError when it is none of them."""
    if isinstance(sample, (bytes, str)):
        text = sample.decode("utf-8", "replace") if isinstance(sample, bytes) else sample
        text = text.lstrip("\ufeff \t\r\n")
        if text.startswith("["):
            try:
                return detect_format(orjson.loads(text))
            except orjson.JSONDecodeError:
                return "label-studio"  # the first bytes of an array: tasks, by default
        first = text.split("\n", 1)[0]
        try:
            record = orjson.loads(first)
        except orjson.JSONDecodeError:
            raise InputError("not JSON Lines nor a JSON array of tasks") from None
        return detect_format(record)
    if isinstance(sample, list):
        if sample and all(isinstance(t, dict) and get_format("label-studio").detect(t)  # type: ignore[misc]
                          for t in sample[:5]):
            return "label-studio"
        raise InputError("a JSON array whose items are neither Label Studio tasks (its JSON "
                         "export) nor records of its JSON-MIN export")
    if not isinstance(sample, dict):
        raise InputError("a record must be a JSON object")
    for fmt in readable_formats():
        assert fmt.detect is not None
        if fmt.detect(sample):
            return fmt.name
    raise InputError("no \"text\" field: not a native, Prodigy, doccano or Label Studio record")


def to_native(record: Any, fmt: str | None = None, context: ReadContext | None = None) -> Any:
    """One record of ``fmt`` (detected when None) in the native shape; non-objects pass through
    (``parse_record`` reports them)."""
    if not isinstance(record, dict):
        return record
    try:
        fmt = fmt or detect_format(record)
    except InputError:
        return record
    read = get_format(fmt).read
    assert read is not None, f"{fmt} has no reader"
    return read(record, context or ReadContext())


# ------------------------------------------------------------------------------ files
def read_path(path: str | os.PathLike[str], fmt: str | None = None,
              problems: list[str] | None = None,
              ls_users: dict[str, LSUser] | None = None) -> Iterator[tuple[str, Any]]:
    """``(where, native record)`` for each record of a file (see :func:`records_of`)."""
    path = Path(path)
    yield from records_of(path, decode(path.read_bytes()), fmt, problems, ls_users=ls_users)


def records_of(path: Path, content: str, fmt: str | None = None, problems: list[str] | None = None,
               on_progress: Callable[[int], None] | None = None,
               ls_users: dict[str, LSUser] | None = None) -> Iterator[tuple[str, Any]]:
    """A JSON array is Label Studio tasks (its JSON or JSON-MIN export); JSON Lines records are
    converted from ``fmt``, or from the format detected record by record when None. Lines that
    are not JSON are reported in ``problems`` and skipped. ``ls_users`` (``--ls-users``) names
    Label Studio's users as annotators."""
    context = ReadContext(ls_users=ls_users)
    if content.lstrip("\ufeff \t\r\n").startswith("["):
        try:
            tasks = orjson.loads(content)
        except orjson.JSONDecodeError as err:
            raise InputError(f"{path}: not valid JSON ({err})") from None
        if on_progress:
            on_progress(len(content))
        if not fmt:
            fmt = detect_format(tasks) if tasks else "label-studio"
        for n, task in enumerate(tasks, 1):
            yield f"{path}:task {n}", to_native(task, fmt, context)
        return
    for number, line in enumerate(content.split("\n"), 1):
        if on_progress:
            on_progress(len(line) + 1)
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            if problems is not None:
                problems.append(f"{path}:{number}: skipped: not valid JSON ({err})")
            continue
        yield f"{path}:{number}", to_native(record, fmt, context)
