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
from .base import Writer
from .dataset import GOLD, ExportDoc

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


def labeling_config(labels: list[str] | tuple[str, ...]) -> str:
    """The Label Studio labelling config the exported tasks fit."""
    items = "\n".join(f"    <Label value={quoteattr(name)}/>" for name in labels)
    return (
        '<View>\n  <Labels name="label" toName="text">\n'
        f"{items}\n  </Labels>\n"
        '  <Text name="text" value="$text"/>\n</View>\n'
    )


class LabelStudioWriter(Writer):
    name = "label-studio"
    suffix = ".json"
    single_layer = False

    def _begin(self) -> None:
        assert self.out is not None
        self.out.write(b"[")
        self._first = True
        raw = self.options.extra.get("completed_by") or {}
        self._users: dict[str, LSUser] = {name: ls_user(value) for name, value in raw.items()}

    def _annotation(self, doc: ExportDoc, name: str, spans: list[dict[str, Any]],
                    cancelled: bool) -> dict[str, Any]:
        result = []
        for span in spans:
            region: dict[str, Any] = {
                "id": region_id(doc.id, name, span),
                "from_name": "label", "to_name": "text", "type": "labels", "origin": "manual",
                "value": {"start": span["start"], "end": span["end"], "text": span["text"],
                          "labels": [span["label"]]},
            }
            if span.get("note"):
                region["meta"] = {"text": [span["note"]]}
            result.append(region)
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
