"""Read Prodigy, doccano and Label Studio files back as native records, and tell formats apart.

Every reader yields ``(where, record)`` pairs, ``where`` being ``file:line`` (or ``file:task N``)
for messages and ``record`` the native shape that :func:`importer.parse_record` reads::

    {"id", "text", "spans": [{"start", "end", "label", "annotator", "note"?}], "meta", "done_by"?}

Offsets stay those of the source text (code points); ``parse_record`` moves them with the text
when it turns CRLF into LF, and refuses (one message each) spans out of range or with an unknown
label, never snapping them.

- Prodigy: records pass as they are (``parse_record`` reads Prodigy tasks): ``_annotator_id`` is
  the annotator, ``answer`` reject/ignore keeps the text without spans. An accepted task with no
  span marks the document done by its annotator (a real negative).
- doccano: ``label`` or ``labels`` lists of ``[start, end, label]`` (or objects with
  ``start_offset``/``end_offset``/``label``, as in ``entities``); other keys become metadata.
- Label Studio: a JSON array of tasks (or one task per JSONL line); each annotation's results of
  type ``labels`` become spans of its annotator (``created_username``, else ``completed_by``: a
  name, an email or username object, or ``ls-user-<id>``); a result with several labels makes one
  span per label; cancelled annotations and predictions are ignored; a submitted annotation with
  no result marks the document done. When ``value.text`` shows that the offsets count UTF-16 code
  units (as some Label Studio versions do after an emoji), they are converted to code points.

:func:`importer.import_records` stores such records in a project.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from ..errors import InputError
from ..text import decode
from .registry import get_format, readable_formats


# ------------------------------------------------------------------------------ detection
def detect_format(sample: bytes | str | dict[str, Any] | list[Any]) -> str:
    """The registry name of the format (``jsonl`` for native records, ``prodigy``, ``doccano``,
    ``label-studio``) of a file's first bytes or of its first record. InputError when it is none
    of them."""
    if isinstance(sample, (bytes, str)):
        text = sample.decode("utf-8", "replace") if isinstance(sample, bytes) else sample
        text = text.lstrip("\ufeff \t\r\n")
        if text.startswith("["):
            return "label-studio"
        first = text.split("\n", 1)[0]
        try:
            record = orjson.loads(first)
        except orjson.JSONDecodeError:
            raise InputError("not JSON Lines nor a JSON array of tasks") from None
        return detect_format(record)
    if isinstance(sample, list):
        if all(isinstance(t, dict) and isinstance(t.get("data"), dict) for t in sample[:5]):
            return "label-studio"
        raise InputError("a JSON array whose items are not Label Studio tasks")
    if not isinstance(sample, dict):
        raise InputError("a record must be a JSON object")
    for fmt in readable_formats():
        assert fmt.detect is not None
        if fmt.detect(sample):
            return fmt.name
    raise InputError("no \"text\" field: not a native, Prodigy, doccano or Label Studio record")


def is_label_studio(record: dict[str, Any]) -> bool:
    return isinstance(record.get("data"), dict) and (
        "annotations" in record or "predictions" in record or "completions" in record
        or isinstance(record["data"].get("text"), str)
    )


def is_prodigy(record: dict[str, Any]) -> bool:
    if is_label_studio(record):
        return False
    if any(k in record for k in ("_input_hash", "_task_hash", "_annotator_id", "_session_id",
                                 "_view_id", "answer")):
        return True
    spans = record.get("spans")
    return isinstance(record.get("text"), str) and isinstance(spans, list) and any(
        isinstance(s, dict) and "token_start" in s for s in spans)


def is_doccano(record: dict[str, Any]) -> bool:
    return (not is_label_studio(record) and not is_prodigy(record)
            and any(isinstance(record.get(k), list) for k in ("label", "labels", "entities")))


def is_native(record: dict[str, Any]) -> bool:
    return isinstance(record.get("text"), str)


def from_native(record: dict[str, Any]) -> dict[str, Any]:
    return record


# ------------------------------------------------------------------------------ one record
def from_prodigy(record: dict[str, Any]) -> dict[str, Any]:
    """A Prodigy task as a native record: its spans (with ids for its ``rel.manual`` relations,
    whose ends are matched by character offsets and label), and its accepted ``group:value``
    options as article labels."""
    out = dict(record)
    annotator = record.get("_annotator_id") or record.get("annotator")
    if record.get("answer") == "accept" and not record.get("spans") and isinstance(annotator, str):
        out["done_by"] = [annotator]
    spans = [dict(s) for s in record.get("spans") or [] if isinstance(s, dict)] \
        if isinstance(record.get("spans"), list) else record.get("spans")
    relations = record.get("relations")
    if isinstance(spans, list) and isinstance(relations, list):
        ids: dict[tuple[Any, Any, Any], str] = {}
        for n, span in enumerate(spans):
            span.setdefault("id", f"p{n}")
            ids[(span.get("start"), span.get("end"), span.get("label"))] = str(span["id"])
        out["relations"] = []
        for relation in relations:
            if not isinstance(relation, dict):
                continue
            ends = []
            for side in ("head_span", "child_span"):
                part = relation.get(side) if isinstance(relation.get(side), dict) else {}
                key = (part.get("start"), part.get("end"), part.get("label"))
                if key not in ids:  # an end that is not among the task's spans: add it
                    ids[key] = f"p{len(spans)}"
                    spans.append({"id": ids[key], "start": key[0], "end": key[1], "label": key[2]})
                ends.append(ids[key])
            out["relations"].append({"head": ends[0], "child": ends[1], "label": relation.get("label")})
        out["spans"] = spans
    accepted = record.get("accept")
    if isinstance(accepted, list) and isinstance(record.get("options"), list):
        labels: dict[str, list[str]] = {}
        for option in accepted:
            if isinstance(option, str) and ":" in option:
                group, value = option.split(":", 1)
                labels.setdefault(group, []).append(value)
        if labels:
            out["labels"] = labels
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


def from_label_studio(task: dict[str, Any]) -> dict[str, Any]:
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    text = data.get("text")
    if not isinstance(text, str):
        strings = [v for v in data.values() if isinstance(v, str)]
        text = strings[0] if len(strings) == 1 else None
    spans: list[dict[str, Any]] = []
    done_by: list[str] = []
    annotations = task.get("annotations")
    if annotations is None:
        annotations = task.get("completions")  # Label Studio before 1.0
    for annotation in annotations if isinstance(annotations, list) else []:
        if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
            continue
        name = _ls_annotator(annotation)
        results = annotation.get("result") if isinstance(annotation.get("result"), list) else []
        found = 0
        for result in results:
            if not isinstance(result, dict) or result.get("type") != "labels":
                continue
            value = result.get("value") if isinstance(result.get("value"), dict) else {}
            start, end = value.get("start"), value.get("end")
            if isinstance(text, str) and isinstance(start, int) and isinstance(end, int):
                start, end = _code_points(text, start, end, value.get("text"))
            note = _ls_note(result)
            for label in value.get("labels") or []:
                span = {"start": start, "end": end, "label": label}
                if name:
                    span["annotator"] = name
                if note:
                    span["note"] = note
                spans.append(span)
                found += 1
        if not found and name and not results:
            done_by.append(name)
    meta = {k: v for k, v in data.items() if k not in ("text", "id")}
    out: dict[str, Any] = {"text": text, "spans": spans, "meta": meta}
    doc_id = data.get("id", task.get("id"))
    if isinstance(doc_id, (str, int)) and not isinstance(doc_id, bool):
        out["id"] = doc_id
    if done_by:
        out["done_by"] = done_by
    return out


def _ls_annotator(annotation: dict[str, Any]) -> str | None:
    name = annotation.get("created_username")
    if isinstance(name, str) and name:
        return name
    who = annotation.get("completed_by")
    if isinstance(who, str) and who:
        return who
    if isinstance(who, dict):
        for key in ("email", "username"):
            if isinstance(who.get(key), str) and who[key]:
                return who[key]
        who = who.get("id")
    if isinstance(who, int) and not isinstance(who, bool):
        return f"ls-user-{who}"
    return None


def _ls_note(result: dict[str, Any]) -> str:
    meta = result.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("text"), list):
        return " ".join(t for t in meta["text"] if isinstance(t, str))
    return ""


def _code_points(text: str, start: int, end: int, shown: Any) -> tuple[int, int]:
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


def to_native(record: Any, fmt: str | None = None) -> Any:
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
    return read(record)


# ------------------------------------------------------------------------------ files
def read_path(path: str | os.PathLike[str], fmt: str | None = None,
              problems: list[str] | None = None) -> Iterator[tuple[str, Any]]:
    """``(where, native record)`` for each record of a file (see :func:`records_of`)."""
    path = Path(path)
    yield from records_of(path, decode(path.read_bytes()), fmt, problems)


def records_of(path: Path, content: str, fmt: str | None = None, problems: list[str] | None = None,
               on_progress: Callable[[int], None] | None = None) -> Iterator[tuple[str, Any]]:
    """A JSON array is Label Studio tasks; JSON Lines records are converted from ``fmt``, or from
    the format detected record by record when None. Lines that are not JSON are reported in
    ``problems`` and skipped."""
    if content.lstrip("\ufeff \t\r\n").startswith("["):
        try:
            tasks = orjson.loads(content)
        except orjson.JSONDecodeError as err:
            raise InputError(f"{path}: not valid JSON ({err})") from None
        if on_progress:
            on_progress(len(content))
        for n, task in enumerate(tasks, 1):
            yield f"{path}:task {n}", to_native(task, fmt or "label-studio")
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
        yield f"{path}:{number}", to_native(record, fmt)
