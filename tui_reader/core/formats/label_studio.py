"""Label Studio: one JSON array of tasks, ready for its import (``Labels`` + ``Text`` config).

::

    [{"data": {"text": ..., "doc_id": ..., "title": ..., "source": ...},
      "annotations": [{"result": [{"id", "from_name": "label", "to_name": "text", "type": "labels",
                                   "origin": "manual",
                                   "value": {"start", "end", "text", "labels": [label]}}],
                       "was_cancelled": false, "ground_truth": false,
                       "created_username": "alice", "completed_by": {"email": "alice@example.org"}}]}]

Matches this labelling config (:func:`labeling_config` writes it for the project's labels)::

    <View><Labels name="label" toName="text">...</Labels><Text name="text" value="$text"/></View>

- The document id is ``data.doc_id``: Label Studio keeps ``data`` as it is, and its JSON-MIN export
  overwrites a ``data.id`` with its own task id.
- One annotation per annotator (layer). Label Studio ignores ``created_username`` (written for
  readers other than Label Studio) and attributes an annotation to ``completed_by``, which its
  import accepts only as the integer id of a member of its organisation or as ``{"email": ...}``
  of one (a bare email string is refused with HTTP 400; an unknown user fails the whole import).
  ``WriterOptions.extra["completed_by"]`` maps annotator names to such users (:func:`load_ls_users`
  reads the ``--ls-users`` file); an annotation without one is attributed by Label Studio to the
  user who imports the file, which the export reports in one notice.
- Status: a layer marked done is a submitted annotation; a skipped one a cancelled annotation
  (``was_cancelled``, its spans kept); a layer in progress becomes a submitted annotation too
  (Label Studio imports no unfinished annotations by default: its drafts import is behind a
  feature flag), counted in a notice. The ``gold`` layer is marked ``ground_truth``.
- A layer marked done without spans is an annotation with an empty result (a real negative).
- Overlapping spans are separate regions (Label Studio allows them). A span note goes in the
  region's ``meta.text``.
- Offsets are code points, as Label Studio 1.23 counts them (checked in its UI on emoji, flags,
  ZWJ sequences and mathematical letters); the reader (``readers.py``) also accepts the UTF-16
  offsets of older versions, recognised from ``value.text``.
- A document with no layer (``--all``) is a task with no annotations.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import orjson

from ..errors import InputError
from ..model import GOLD
from ..schema import Schema
from .base import Writer, WriteReport
from .dataset import ExportDoc
from .registry import Format, ReadContext

RESERVED = ("text", "doc_id")
DOC_ID = "doc_id"  # the data key holding the tui-reader document id
IN_PROGRESS_NOTICE = ("layers in progress written as submitted annotations (Label Studio imports "
                      "no unfinished ones)")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class LSUser:
    """A Label Studio user: its integer id in one Label Studio instance, its email, or both."""

    id: int | None = None
    email: str | None = None

    def completed_by(self) -> int | dict[str, str]:
        """What Label Studio's import takes: ``{"email": ...}`` (the same user on every instance
        that has it), else the integer id."""
        if self.email:
            return {"email": self.email}
        assert self.id is not None
        return self.id

    def __str__(self) -> str:
        return self.email or f"id {self.id}"


def ls_user(value: Any) -> LSUser:
    """An integer id, an email, or an object with ``id`` and/or ``email``, as an :class:`LSUser`;
    InputError otherwise."""
    if isinstance(value, LSUser):
        return value
    if isinstance(value, bool):
        raise InputError(f"{value!r} is not a Label Studio user id or email")
    if isinstance(value, int):
        return LSUser(id=value)
    if isinstance(value, str):
        value = value.strip()
        if value.isdigit():
            return LSUser(id=int(value))
        if _EMAIL.match(value):
            return LSUser(email=value)
    if isinstance(value, dict) and (value.get("id") is not None or value.get("email")):
        user_id, email = value.get("id"), value.get("email")
        if user_id is not None and (isinstance(user_id, bool) or not isinstance(user_id, int)):
            raise InputError(f"Label Studio user id {user_id!r} is not a whole number")
        if email is not None and not (isinstance(email, str) and _EMAIL.match(email)):
            raise InputError(f"{email!r} is not an email")
        return LSUser(id=user_id, email=email)
    raise InputError(f"{value!r} is not a Label Studio user id or email")


def load_ls_users(path: str | os.PathLike[str]) -> dict[str, LSUser]:
    """Read a ``--ls-users`` file: which Label Studio user each annotator is.

    Either lines of ``annotator email id``, either of the two may be left out (``alice
    alice@example.org 2``; blank lines and ``#`` comments allowed), or a JSON object (``{"alice":
    {"email": "alice@example.org", "id": 2}, "bob": 3, "cy": "cy@example.org"}``). The export
    writes the email where there is one (the same user on any Label Studio that has it); reading
    Label Studio's exports back needs the id, as they name users by id alone. Raises InputError
    naming the file (and line) for anything else, and when two annotators name the same Label
    Studio user (it would merge their work)."""
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise InputError(f"{path}: cannot read the Label Studio users file ({err.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: the Label Studio users file is not UTF-8 text") from None
    users: dict[str, LSUser] = {}
    if content.lstrip().startswith("{"):
        try:
            data = orjson.loads(content)
        except orjson.JSONDecodeError as err:
            raise InputError(f"{path}: not valid JSON ({err})") from None
        for name, value in data.items():
            try:
                users[name] = ls_user(value)
            except InputError as err:
                raise InputError(f"{path}: annotator {name!r}: {err}") from None
    else:
        for number, line in enumerate(content.splitlines(), 1):
            line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
            if not line:
                continue
            parts = line.replace("=", " ").replace(",", " ").replace("\t", " ").split()
            if len(parts) not in (2, 3):
                raise InputError(f"{path}:{number}: write an annotator and their Label Studio email "
                                 "and/or id a line, e.g. 'alice alice@example.org 2'")
            try:
                found = [ls_user(part) for part in parts[1:]]
                user = LSUser(id=next((u.id for u in found if u.id is not None), None),
                              email=next((u.email for u in found if u.email), None))
                if len(found) == 2 and (user.id is None or user.email is None):
                    raise InputError("give one email and one id")
            except InputError as err:
                raise InputError(f"{path}:{number}: {err}") from None
            users[parts[0]] = user
    if not users:
        raise InputError(f"{path}: no annotator in the Label Studio users file")
    seen: dict[Any, str] = {}
    for name, user in users.items():
        for key in (("id", user.id), ("email", (user.email or "").lower())):
            if key[1] and key in seen:
                raise InputError(f"{path}: {seen[key]} and {name} are the same Label Studio user "
                                 f"({user}): Label Studio would merge their annotations")
            if key[1]:
                seen[key] = name
    return users


def region_id(doc_id: str, layer: str, span: dict[str, Any]) -> str:
    """A stable region id (Label Studio uses 10-character ids)."""
    key = f"{doc_id}\x00{layer}\x00{span['start']}\x00{span['end']}\x00{span['label']}"
    return hashlib.sha256(key.encode()).hexdigest()[:10]


def labeling_config(labels: list[str] | tuple[str, ...], schema: Schema | None = None) -> str:
    """The Label Studio labelling config the exported tasks fit: the span labels, and from the
    project's schema its relations, per-region controls for span attributes and document-level
    choices for article labels."""
    items = "\n".join(f"    <Label value={quoteattr(name)}/>" for name in labels)
    out = ['<View>\n  <Labels name="label" toName="text">\n' f"{items}\n  </Labels>\n",
           '  <Text name="text" value="$text"/>\n']
    schema = schema or Schema()
    if schema.relations:
        out.append("  <Relations>\n" + "".join(
            f"    <Relation value={quoteattr(r.name)}/>\n" for r in schema.relations) + "  </Relations>\n")
    for a in schema.attributes:
        shown = ('perRegion="true" visibleWhen="region-selected" '
                 f'whenLabelValue={quoteattr(",".join(a.labels))}')
        if a.kind == "text":
            out.append(f'  <TextArea name={quoteattr(a.name)} toName="text" {shown} '
                       'maxSubmissions="1"/>\n')
        else:
            values = a.values if a.kind == "choice" else ("yes", "no")
            out.append(f'  <Choices name={quoteattr(a.name)} toName="text" choice="single" {shown}>\n'
                       + "".join(f"    <Choice value={quoteattr(v)}/>\n" for v in values)
                       + "  </Choices>\n")
    for g in schema.article_labels:
        choice = "multiple" if g.multiple else "single"
        out.append(f'  <Choices name={quoteattr(g.group)} toName="text" choice="{choice}">\n'
                   + "".join(f"    <Choice value={quoteattr(v)}/>\n" for v in g.values)
                   + "  </Choices>\n")
    out.append("</View>\n")
    return "".join(out)


class LabelStudioWriter(Writer):
    def _begin(self) -> None:
        assert self.out is not None
        self.out.write(b"[")
        self._first = True
        raw = self.options.extra.get("completed_by") or {}
        self._users: dict[str, LSUser] = {name: ls_user(value) for name, value in raw.items()}

    def _annotation(self, doc: ExportDoc, name: str, spans: list[dict[str, Any]],
                    cancelled: bool) -> dict[str, Any]:
        result = []
        regions: dict[str, str] = {}  # span id -> region id
        for span in spans:
            rid = regions[span["id"]] = region_id(doc.id, name, span)
            where = {"start": span["start"], "end": span["end"]}
            region: dict[str, Any] = {
                "id": rid, "from_name": "label", "to_name": "text", "type": "labels",
                "origin": "manual", "value": {**where, "text": span["text"], "labels": [span["label"]]},
            }
            if span.get("note"):
                region["meta"] = {"text": [span["note"]]}
            result.append(region)
            for attribute, value in span.get("attributes", {}).items():
                kind = self.options.schema.attribute(attribute)
                if kind is not None and kind.kind == "text":
                    result.append({"id": rid, "from_name": attribute, "to_name": "text",
                                   "type": "textarea", "origin": "manual",
                                   "value": {**where, "text": [value]}})
                else:
                    shown = ("yes" if value else "no") if isinstance(value, bool) else value
                    result.append({"id": rid, "from_name": attribute, "to_name": "text",
                                   "type": "choices", "origin": "manual",
                                   "value": {**where, "choices": [shown]}})
        for relation in doc.relations_of(name):
            if relation["head"] in regions and relation["child"] in regions:
                result.append({"from_id": regions[relation["head"]], "to_id": regions[relation["child"]],
                               "type": "relation", "direction": "right",
                               "labels": [relation["label"]]})
        for group, values in doc.labels.get(name, {}).items():
            result.append({"id": f"doc-{group}"[:40], "from_name": group, "to_name": "text",
                           "type": "choices", "origin": "manual", "value": {"choices": list(values)}})
        annotation: dict[str, Any] = {
            "result": result, "was_cancelled": cancelled, "ground_truth": name == GOLD,
            "created_username": name,
        }
        user = self._users.get(name)
        if user is not None:
            annotation["completed_by"] = user.completed_by()
        else:
            self.notice(
                "annotations Label Studio will attribute to the user who imports the file "
                + ("(annotator not in --ls-users)" if self._users else "(no --ls-users file)")
            )
        return annotation

    def _write(self, doc: ExportDoc) -> None:
        assert self.out is not None
        data: dict[str, Any] = {"text": doc.text, DOC_ID: doc.id}
        for key, value in doc.meta.items():
            if key not in RESERVED:
                data[key] = value
        skipped_by = set(doc.skipped_by)
        layers = doc.layers()
        for name in sorted(skipped_by - set(layers)):
            layers[name] = []  # skipped without a span: a cancelled annotation
        annotations = []
        for name, spans in sorted(layers.items()):
            cancelled = name in skipped_by and name not in doc.done_by
            if doc.policy is None and not cancelled and name not in doc.done_by:
                self.notice(IN_PROGRESS_NOTICE)
            annotations.append(self._annotation(doc, name, spans, cancelled))
            self.count_spans(spans)
            self.count_layer(name)
        task = {"data": data, "annotations": annotations}
        self.out.write(b"\n" if self._first else b",\n")
        self._first = False
        self.out.write(orjson.dumps(task))

    def _finish(self) -> None:
        assert self.out is not None
        self.out.write(b"]\n" if self._first else b"\n]\n")

    def close(self) -> WriteReport:
        """Put the tasks in place, and beside them the labelling config they fit
        (``<name>.label_config.xml``: paste it into the Label Studio project's settings)."""
        report = super().close()
        if str(self.target) != "-":
            config = self.target.with_name(self.target.stem + ".label_config.xml")
            config.write_text(labeling_config(self.options.labels, self.options.schema),
                              encoding="utf-8")
            report.files.append(config)
        return report


# ------------------------------------------------------------------------------ reading
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


def _ls_spans(results: Any, text: Any, name: str | None, into: dict[str, Any] | None = None,
              ) -> list[dict[str, Any]]:
    """The spans of an annotation's results; with ``into`` (the native record being built) also
    its relations (``relation`` results), span attributes (per-region ``choices`` and
    ``textarea``) and article labels (``choices`` without a region)."""
    spans: list[dict[str, Any]] = []
    by_region: dict[str, list[dict[str, Any]]] = {}
    rest: list[dict[str, Any]] = []
    for result in results if isinstance(results, list) else []:
        if not isinstance(result, dict):
            continue
        if result.get("type") != "labels":
            rest.append(result)
            continue
        value = result.get("value") if isinstance(result.get("value"), dict) else {}
        found = _ls_value_spans(value, text, name, _ls_note(result))
        rid = result.get("id")
        for n, span in enumerate(found):
            if isinstance(rid, str):
                span["id"] = f"{name}:{rid}" if n == 0 else f"{name}:{rid}:{n}"
        if isinstance(rid, str):
            by_region.setdefault(rid, []).extend(found)
        spans += found
    if into is None:
        return spans
    for result in rest:
        value = result.get("value") if isinstance(result.get("value"), dict) else {}
        kind, rid, control = result.get("type"), result.get("id"), result.get("from_name")
        if kind == "relation":
            heads, children = by_region.get(result.get("from_id"), []), by_region.get(result.get("to_id"), [])
            for label in result.get("labels") or []:
                if heads and children:
                    into.setdefault("relations", []).append(
                        {"head": heads[0]["id"], "child": children[0]["id"], "label": label,
                         **({"annotator": name} if name else {})})
        elif kind in ("choices", "textarea") and isinstance(control, str):
            chosen = value.get("choices") if kind == "choices" else value.get("text")
            if not isinstance(chosen, list) or not chosen:
                continue
            if isinstance(rid, str) and rid in by_region and "start" in value:
                for span in by_region[rid]:
                    span.setdefault("attributes", {})[control] = chosen[0]
            elif "start" not in value and kind == "choices" and name:
                into.setdefault("labels", {}).setdefault(name, {})[control] = list(chosen)
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
    out: dict[str, Any] = {}
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
        spans += _ls_spans(annotation.get("result"), text, name, out)
    # A draft not attached to an annotation is work in progress: its spans, no status.
    for draft in task.get("drafts") if isinstance(task.get("drafts"), list) else []:
        if not isinstance(draft, dict) or draft.get("annotation") is not None:
            continue
        name = names.name(draft.get("user"), draft.get("created_username"))
        if name and name not in taken:
            spans += _ls_spans(draft.get("result"), text, name)
    meta = {k: v for k, v in data.items() if k not in ("text", DOC_ID, "id")}
    out.update({"text": text, "spans": spans, "meta": meta})
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


def is_label_studio(record: dict[str, Any]) -> bool:
    """A task of Label Studio's JSON export (or tui-reader's), or a record of its JSON-MIN."""
    return is_json_min(record) or (isinstance(record.get("data"), dict) and (
        "annotations" in record or "predictions" in record or "completions" in record
        or isinstance(record["data"].get("text"), str)))


def read_label_studio(record: dict[str, Any], context: ReadContext) -> dict[str, Any]:
    """Either shape of Label Studio's exports, its users named by ``context.ls_users``."""
    names = context.state.get("ls-names")
    if names is None:
        names = context.state["ls-names"] = LSNames(context.ls_users)
    if is_json_min(record):
        return from_label_studio_min(record, names, context.state.setdefault("ls-min-taken", {}))
    return from_label_studio(record, names)


FORMAT = Format(
    name="label-studio", summary="a JSON array of Label Studio tasks, one annotation per annotator",
    writer=LabelStudioWriter, suffix=".json", every_layer=True,
    detect=is_label_studio, read=read_label_studio,
)
