"""Read Prodigy, doccano and Label Studio files back as native records, and tell formats apart.

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

:func:`importer.import_records` stores such records in a project.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from ..text import decode
from .label_studio import DOC_ID, LSUser

FORMATS = ("native", "prodigy", "doccano", "label-studio", "label-studio-min")


# ------------------------------------------------------------------------------ detection
def detect_format(sample: bytes | str | dict[str, Any] | list[Any]) -> str:
    """``native``, ``prodigy``, ``doccano``, ``label-studio`` or ``label-studio-min`` (JSON-MIN),
    from a file's first bytes or its first records. ValueError when it is none of them."""
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
            raise ValueError("not JSON Lines nor a JSON array of tasks") from None
        return detect_format(record)
    if isinstance(sample, list):
        if all(isinstance(t, dict) and isinstance(t.get("data"), dict) for t in sample[:5]):
            return "label-studio"
        if sample and all(is_json_min(t) for t in sample[:5]):
            return "label-studio-min"
        raise ValueError("a JSON array whose items are neither Label Studio tasks (its JSON "
                         "export) nor records of its JSON-MIN export")
    if not isinstance(sample, dict):
        raise ValueError("a record must be a JSON object")
    if isinstance(sample.get("data"), dict) and (
        "annotations" in sample or "predictions" in sample or "completions" in sample
        or isinstance(sample["data"].get("text"), str)
    ):
        return "label-studio"
    if any(k in sample for k in ("_input_hash", "_task_hash", "_annotator_id", "_session_id",
                                 "_view_id", "answer")):
        return "prodigy"
    if any(isinstance(sample.get(k), list) for k in ("label", "labels", "entities")):
        return "doccano"
    if isinstance(sample.get("text"), str):
        spans = sample.get("spans")
        if isinstance(spans, list) and any(isinstance(s, dict) and "token_start" in s for s in spans):
            return "prodigy"
        return "native"
    raise ValueError("no \"text\" field: not a native, Prodigy, doccano or Label Studio record")


# ------------------------------------------------------------------------------ one record
def from_prodigy(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    annotator = record.get("_annotator_id") or record.get("annotator")
    if record.get("answer") == "accept" and not record.get("spans") and isinstance(annotator, str):
        out["done_by"] = [annotator]
    return out


def from_doccano(record: dict[str, Any]) -> dict[str, Any]:
    annotator = next(
        (record[k] for k in ("annotator", "user") if isinstance(record.get(k), str) and record[k]),
        None,
    )
    raw = next((record[k] for k in ("label", "labels", "entities") if isinstance(record.get(k), list)),
               [])
    spans: list[Any] = []
    for item in raw:
        if isinstance(item, (list, tuple)) and len(item) >= 3:
            span: Any = {"start": item[0], "end": item[1], "label": item[2]}
        elif isinstance(item, dict):
            span = {
                "start": item.get("start_offset", item.get("start")),
                "end": item.get("end_offset", item.get("end")),
                "label": item.get("label"),
            }
        else:
            span = item  # parse_record refuses it with a message
        if isinstance(span, dict) and annotator:
            span["annotator"] = annotator
        spans.append(span)
    skip = {"text", "label", "labels", "entities", "relations", "id", "annotator", "user",
            "Comments", "comments"}
    meta = {k: v for k, v in record.items() if k not in skip}
    out: dict[str, Any] = {"text": record.get("text"), "spans": spans, "meta": meta}
    if isinstance(record.get("id"), (str, int)) and not isinstance(record.get("id"), bool):
        out["id"] = record["id"]
    return out


class LSNames:
    """Label Studio users -> annotator names.

    ``users`` (the ``--ls-users`` file: annotator -> :class:`~.label_studio.LSUser`) is read
    backwards: a Label Studio id or email it lists becomes that annotator. Otherwise an annotation
    keeps the name in ``created_username`` (tui-reader's own exports), else ``ls-user-<id>``,
    else its email: two Label Studio users never share a name."""

    def __init__(self, users: dict[str, LSUser] | None = None) -> None:
        self.by_id: dict[int, str] = {}
        self.by_email: dict[str, str] = {}
        for name, user in (users or {}).items():
            if user.id is not None:
                self.by_id[user.id] = name
            if user.email:
                self.by_email[user.email.lower()] = name

    def name(self, completed_by: Any, created_username: Any = None) -> str | None:
        user_id: int | None = None
        email: str | None = None
        plain: str | None = None
        if isinstance(completed_by, int) and not isinstance(completed_by, bool):
            user_id = completed_by
        elif isinstance(completed_by, dict):
            raw_id = completed_by.get("id")
            user_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
            email = next((completed_by[k] for k in ("email", "username")
                          if isinstance(completed_by.get(k), str) and completed_by[k]), None)
        elif isinstance(completed_by, str) and completed_by:
            if "@" in completed_by:
                email = completed_by
            else:
                plain = completed_by
        own: str | None = None
        if isinstance(created_username, str) and created_username:
            # Label Studio writes "email, id" (drafts, older exports); tui-reader the annotator.
            match = _LS_CREATED_USERNAME.match(created_username)
            if match:
                email = email or match.group(1) or None
                user_id = user_id if user_id is not None else int(match.group(2))
            else:
                own = created_username
        if user_id is not None and user_id in self.by_id:
            return self.by_id[user_id]
        if email and email.lower() in self.by_email:
            return self.by_email[email.lower()]
        if own:
            return own
        if user_id is not None:
            return f"ls-user-{user_id}"
        return email or plain


_LS_CREATED_USERNAME = re.compile(r"^(.*), (\d+)$")


def _distinct(name: str, taken: dict[str, Any], annotation_id: Any, index: int) -> str:
    """``name``, or ``name#<annotation id>`` when another annotation of the task has it already
    (Label Studio attributed both to one user): two annotations never merge into one layer."""
    key = annotation_id if annotation_id is not None else f"#{index}"
    if taken.setdefault(name, key) == key:
        return name
    distinct = f"{name}#{annotation_id if annotation_id is not None else index}"
    taken.setdefault(distinct, key)
    return distinct


def _ls_spans(results: Any, text: Any, name: str | None) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = []
    for result in results if isinstance(results, list) else []:
        if not isinstance(result, dict) or result.get("type") != "labels":
            continue
        value = result.get("value") if isinstance(result.get("value"), dict) else {}
        spans += _ls_value_spans(value, text, name, _ls_note(result))
    return spans


def _ls_value_spans(value: dict[str, Any], text: Any, name: str | None,
                    note: str = "") -> list[dict[str, Any]]:
    start, end = value.get("start"), value.get("end")
    if isinstance(text, str) and isinstance(start, int) and isinstance(end, int):
        start, end = code_points(text, start, end, value.get("text"))
    spans = []
    for label in value.get("labels") or []:
        span: dict[str, Any] = {"start": start, "end": end, "label": label}
        if name:
            span["annotator"] = name
        if note:
            span["note"] = note
        spans.append(span)
    return spans


def _doc_id(*candidates: Any) -> str | int | None:
    return next((c for c in candidates
                 if isinstance(c, (str, int)) and not isinstance(c, bool) and str(c) != ""), None)


def from_label_studio(task: dict[str, Any], names: LSNames | None = None) -> dict[str, Any]:
    """One task of Label Studio's JSON export (or of tui-reader's) in the native shape."""
    names = names or LSNames()
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    text = data.get("text")
    if not isinstance(text, str):
        strings = [v for v in data.values() if isinstance(v, str)]
        text = strings[0] if len(strings) == 1 else None
    spans: list[dict[str, Any]] = []
    done: list[str] = []
    cancelled: list[str] = []
    taken: dict[str, Any] = {}
    annotations = task.get("annotations")
    if annotations is None:
        annotations = task.get("completions")  # Label Studio before 1.0
    for index, annotation in enumerate(annotations if isinstance(annotations, list) else []):
        if not isinstance(annotation, dict):
            continue
        name = names.name(annotation.get("completed_by"), annotation.get("created_username"))
        if name:
            name = _distinct(name, taken, annotation.get("id"), index)
            (cancelled if annotation.get("was_cancelled") else done).append(name)
        spans += _ls_spans(annotation.get("result"), text, name)
    # A draft not attached to an annotation is work in progress: its spans, no status.
    for draft in task.get("drafts") if isinstance(task.get("drafts"), list) else []:
        if not isinstance(draft, dict) or draft.get("annotation") is not None:
            continue
        name = names.name(draft.get("user"), draft.get("created_username"))
        if name and name not in taken:
            spans += _ls_spans(draft.get("result"), text, name)
    meta = {k: v for k, v in data.items() if k not in ("text", DOC_ID, "id")}
    out: dict[str, Any] = {"text": text, "spans": spans, "meta": meta}
    doc_id = _doc_id(data.get(DOC_ID), data.get("id"), task.get("id"))
    if doc_id is not None:
        out["id"] = doc_id
    if done:
        out["done_by"] = list(dict.fromkeys(done))
    skipped = [n for n in dict.fromkeys(cancelled) if n not in done]
    if skipped:
        out["skipped_by"] = skipped
    return out


# Keys of a JSON-MIN record that are Label Studio's, not the task's data.
_MIN_KEYS = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time",
             "agreement", "history", "was_cancelled")


def is_json_min(record: Any) -> bool:
    """A record of Label Studio's JSON-MIN export: the task's data flattened, with ``annotator``
    and ``annotation_id`` beside it (and no ``data``)."""
    return (isinstance(record, dict) and "data" not in record
            and "annotation_id" in record and "annotator" in record)


def from_label_studio_min(record: dict[str, Any], names: LSNames | None = None,
                          taken: dict[Any, dict[str, Any]] | None = None) -> dict[str, Any]:
    """One record of Label Studio's JSON-MIN export (one annotation of one task).

    Regions are the lists of ``{"start", "end", "labels"}`` objects under their control's name.
    The document id is ``doc_id`` (tui-reader's exports), else Label Studio's task ``id``.
    ``taken`` (shared by the records of one file) keeps two annotations of one task by one user
    apart, as :func:`from_label_studio` does. JSON-MIN leaves cancelled annotations out."""
    names = names or LSNames()
    text = record.get("text")
    doc_id = _doc_id(record.get(DOC_ID), record.get("id"))
    annotation_id = record.get("annotation_id")
    name = names.name(record.get("annotator")) if annotation_id is not None else None
    if name:
        task_names = (taken if taken is not None else {}).setdefault(doc_id, {})
        name = _distinct(name, task_names, annotation_id, 0)
    spans: list[dict[str, Any]] = []
    region_keys = []
    for key, value in record.items():
        if (key not in _MIN_KEYS and isinstance(value, list) and value
                and all(isinstance(v, dict) and "start" in v and "labels" in v for v in value)):
            region_keys.append(key)
            for region in value:
                spans += _ls_value_spans(region, text, name)
    meta = {k: v for k, v in record.items()
            if k not in (*_MIN_KEYS, "text", DOC_ID) and k not in region_keys}
    out: dict[str, Any] = {"text": text, "spans": spans, "meta": meta}
    if doc_id is not None:
        out["id"] = doc_id
    if name:
        out["done_by"] = [name]
    return out


def _ls_note(result: dict[str, Any]) -> str:
    meta = result.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("text"), list):
        return " ".join(t for t in meta["text"] if isinstance(t, str))
    return ""


def code_points(text: str, start: int, end: int, shown: Any) -> tuple[int, int]:
    """Offsets as code points: kept when ``text[start:end]`` is the region's text, converted
    when they only fit as UTF-16 code units."""
    if not isinstance(shown, str) or text[start:end] == shown:
        return start, end
    units = text.encode("utf-16-le")
    try:
        piece = units[2 * start: 2 * end].decode("utf-16-le")
        before = units[: 2 * start].decode("utf-16-le")
    except UnicodeDecodeError:
        return start, end
    if piece == shown:
        return len(before), len(before) + len(piece)
    return start, end


CONVERTERS: dict[str, Callable[..., dict[str, Any]]] = {
    "native": lambda record: record,
    "prodigy": from_prodigy,
    "doccano": from_doccano,
    "label-studio": from_label_studio,
}


def to_native(record: Any, fmt: str | None = None, names: LSNames | None = None) -> Any:
    """One record of ``fmt`` (detected when None) in the native shape; non-objects pass through
    (``parse_record`` reports them). ``names``: Label Studio users to annotator names."""
    if not isinstance(record, dict):
        return record
    try:
        fmt = fmt or detect_format(record)
    except ValueError:
        return record
    if fmt == "label-studio-min":
        return from_label_studio_min(record, names)
    if fmt == "label-studio":
        return from_label_studio(record, names)
    return CONVERTERS[fmt](record)


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
    names = LSNames(ls_users)
    if content.lstrip("\ufeff \t\r\n").startswith("["):
        try:
            tasks = orjson.loads(content)
        except orjson.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None
        if on_progress:
            on_progress(len(content))
        if not fmt:
            fmt = detect_format(tasks) if tasks else "label-studio"
        taken: dict[Any, dict[str, Any]] = {}  # JSON-MIN: annotator names per task
        for n, task in enumerate(tasks, 1):
            if fmt == "label-studio-min" and isinstance(task, dict):
                yield f"{path}:task {n}", from_label_studio_min(task, names, taken)
            else:
                yield f"{path}:task {n}", to_native(task, fmt, names)
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
        yield f"{path}:{number}", to_native(record, fmt, names)
