"""brat standoff: a folder with ``<name>.txt`` and ``<name>.ann`` per document.

- ``<name>.txt`` is the canonical text exactly (UTF-8, LF newlines, no BOM); ``.ann`` offsets
  are code points into it, end exclusive (brat's standoff convention).
- ``<name>``: the document id with every character other than letters, digits, ``. _ -`` made
  ``_`` (a ``.txt``/``.md``/``.markdown``/``.jsonl`` ending dropped); when two ids would share a
  name, the later gets ``-<8 hex of its id's SHA-1>``. ``ids.tsv`` maps names to document ids.
- ``annotation.conf`` declares the project's labels as entity types.
- A span is ``T<n>\\t<label> <start> <end>\\t<text>``. A ``.ann`` line cannot hold a line break,
  so a span across line breaks is written in brat's discontinuous form,
  ``T<n>\\t<label> <s1> <e1>;<s2> <e2>\\t<text1> <text2>``: one fragment per line, the line breaks
  themselves left out, the fragments' texts joined by a space, as brat writes them (counted as a
  notice). Read back from the first fragment's start to the last one's end, such a span is the
  original one, unless it began or ended with a line break: those ends are trimmed, counted as a
  loss; a span of line breaks only is dropped (a loss).
- A span note is ``#<n>\\tAnnotatorNotes T<k>\\t<note>`` (its line breaks made spaces).
- A relation is ``R<n>\\t<label> Arg1:T<head> Arg2:T<child>``; ``annotation.conf`` declares each
  relation type with the labels it links (``attributed_to Arg1:quote|claim, Arg2:source``).
- A choice attribute is ``A<n>\\t<name> T<k> <value>`` and a yes/no attribute that is yes
  ``A<n>\\t<name> T<k>``; ``annotation.conf`` lists them (``kind Arg:quote, Value:direct|indirect``).
  brat values are single words: a space in a value is written ``_`` (a notice). Text attributes
  and article labels have no place in brat: counted as losses.
- One set of spans per document.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..schema import Schema
from .base import Writer
from .dataset import ExportDoc, SpanRecord
from .registry import Format

# Everything str.splitlines() breaks on: none of these may appear inside a .ann line.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_BREAK_RUN = re.compile(f"[{LINE_BREAKS}]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_DROP_SUFFIX = re.compile(r"\.(txt|md|markdown|jsonl)$", re.IGNORECASE)


def safe_name(doc_id: str) -> str:
    name = _UNSAFE.sub("_", _DROP_SUFFIX.sub("", doc_id)).lstrip(".")
    if len(name) > 100:
        name = name[:100]
    return name or "doc"


def fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The pieces of ``text[start:end]`` between line breaks, as (start, end) offsets."""
    out = []
    position = start
    for match in _BREAK_RUN.finditer(text, start, end):
        if match.start() > position:
            out.append((position, match.start()))
        position = match.end()
    if position < end:
        out.append((position, end))
    return out


def annotation_conf(labels: list[str] | tuple[str, ...], schema: Schema | None = None) -> str:
    relations = "".join(
        f"{r.name}\tArg1:{'|'.join(r.heads)}, Arg2:{'|'.join(r.children)}\n"
        for r in (schema.relations if schema else ()))
    attributes = "".join(
        f"{a.name}\tArg:{'|'.join(a.labels)}"
        + (f", Value:{'|'.join(brat_value(v) for v in a.values)}" if a.kind == "choice" else "") + "\n"
        for a in (schema.attributes if schema else ()) if a.kind != "text")
    return ("[entities]\n" + "".join(f"{label}\n" for label in labels)
            + f"\n[relations]\n{relations}\n[events]\n\n[attributes]\n{attributes}")


def brat_value(value: str) -> str:
    """An attribute value as one brat word."""
    return re.sub(r"\s+", "_", value.strip())


class BratWriter(Writer):
    def _begin(self) -> None:
        self._names: set[str] = set()
        self._ids: list[tuple[str, str]] = []
        if self.options.labels:
            (self.path / "annotation.conf").write_text(
                annotation_conf(self.options.labels, self.options.schema), encoding="utf-8",
                newline="\n",
            )

    def _name_for(self, doc_id: str) -> str:
        name = safe_name(doc_id)
        if name.lower() in self._names or name.lower() in ("annotation", "ids", "readme"):
            name = f"{name}-{hashlib.sha1(doc_id.encode()).hexdigest()[:8]}"
        self._names.add(name.lower())
        return name

    def _write(self, doc: ExportDoc) -> None:
        spans = self.layer_spans(doc)
        name = self._name_for(doc.id)
        self._ids.append((name, doc.id))
        lines: list[str] = []
        written: list[SpanRecord] = []
        numbers: dict[str, int] = {}  # span id -> its T number
        attribute_lines: list[str] = []
        for span in spans:
            pieces = fragments(doc.text, span["start"], span["end"])
            if not pieces:
                self.lose("spans of line breaks only dropped", doc)
                continue
            if pieces[0][0] != span["start"] or pieces[-1][1] != span["end"]:
                self.lose("spans with a line break at an edge trimmed", doc)
            if len(pieces) > 1:
                self.notice("spans across line breaks written as discontinuous fragments")
            n = len(written) + 1
            where = ";".join(f"{s} {e}" for s, e in pieces)
            shown = " ".join(doc.text[s:e] for s, e in pieces)
            lines.append(f"T{n}\t{span['label']} {where}\t{shown}\n")
            if span.get("note"):
                note = _BREAK_RUN.sub(" ", span["note"])
                lines.append(f"#{n}\tAnnotatorNotes T{n}\t{note}\n")
            for attribute, value in span.get("attributes", {}).items():
                if isinstance(value, bool):
                    if value:
                        attribute_lines.append(f"{attribute} T{n}")
                    continue
                kind = self.options.schema.attribute(attribute)
                if kind is not None and kind.kind == "text":
                    self.lose("text attributes dropped", doc)
                    continue
                word = brat_value(value)
                if word != value:
                    self.notice("attribute values with spaces written with _")
                attribute_lines.append(f"{attribute} T{n} {word}")
            numbers[span["id"]] = n
            written.append(span)
        lines += [f"A{i}\t{line}\n" for i, line in enumerate(attribute_lines, 1)]
        relations = [r for r in doc.relations if r["head"] in numbers and r["child"] in numbers]
        self.lose("relations dropped with a span", doc, len(doc.relations) - len(relations))
        lines += [f"R{i}\t{r['label']} Arg1:T{numbers[r['head']]} Arg2:T{numbers[r['child']]}\n"
                  for i, r in enumerate(relations, 1)]
        self.lose_schema(doc, spans, relations=False, attributes=False)
        (self.path / f"{name}.txt").write_text(doc.text, encoding="utf-8", newline="\n")
        (self.path / f"{name}.ann").write_text("".join(lines), encoding="utf-8", newline="\n")
        self.count_spans(written)
        self.count_layer(doc.annotators[0] if doc.annotators else None)

    def _finish(self) -> None:
        rows = "".join(f"{name}\t{_BREAK_RUN.sub(' ', doc_id)}\n" for name, doc_id in self._ids)
        (self.path / "ids.tsv").write_text("name\tid\n" + rows, encoding="utf-8", newline="\n")


# ------------------------------------------------------------------------------ reading
def read_brat_folder(folder: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """A brat folder (this format's export, or brat's own data) as native records: ``<name>.txt``
    with its ``.ann``: T lines as spans (a discontinuous span from its first fragment's start to
    its last one's end), R lines as relations (``Arg1`` the head), A lines as attributes (a
    value-less one is yes), ``AnnotatorNotes`` as notes. ``ids.tsv``, when there, gives each name
    its document id back. Lines this reader does not know (events, normalisations) are passed
    over; a broken line is kept out of its record and named in the record's ``problems``."""
    ids: dict[str, str] = {}
    ids_file = folder / "ids.tsv"
    if ids_file.exists():
        for line in ids_file.read_text(encoding="utf-8").splitlines()[1:]:
            name, _, doc_id = line.partition("\t")
            if name and doc_id:
                ids[name] = doc_id
    for ann in sorted(folder.glob("*.ann")):
        txt = ann.with_suffix(".txt")
        if not txt.exists():
            continue
        yield str(ann), _brat_record(ids.get(ann.stem, ann.stem), txt.read_text(encoding="utf-8"),
                                     ann.read_text(encoding="utf-8"))


def _brat_record(doc_id: str, text: str, ann: str) -> dict[str, Any]:
    spans: dict[str, dict[str, Any]] = {}
    relations: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in enumerate(ann.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        kind = fields[0][:1]
        try:
            if kind == "T":
                label, _, where = fields[1].partition(" ")
                pieces = [tuple(int(x) for x in piece.split()) for piece in where.split(";")]
                spans[fields[0]] = {"id": fields[0], "start": pieces[0][0], "end": pieces[-1][1],
                                    "label": label}
            elif kind == "R":
                label, arg1, arg2 = fields[1].split()
                relations.append({"head": arg1.split(":", 1)[1], "child": arg2.split(":", 1)[1],
                                  "label": label})
            elif kind == "A":
                parts = fields[1].split()
                value: str | bool = parts[2] if len(parts) > 2 else True
                spans[parts[1]].setdefault("attributes", {})[parts[0]] = value
            elif kind == "#" and fields[1].startswith("AnnotatorNotes "):
                spans[fields[1].split()[1]]["note"] = fields[2]
        except (IndexError, KeyError, ValueError):
            problems.append(f"line {number} not read: {line[:60]!r}")
    record: dict[str, Any] = {"id": doc_id, "text": text, "spans": list(spans.values())}
    if relations:
        record["relations"] = relations
    if problems:
        record["problems"] = problems
    return record


FORMAT = Format(
    name="brat", summary="brat standoff: a .txt and .ann pair per document", writer=BratWriter,
    writes_folder=True, always_folder=True,
    cannot_carry=("line breaks at a span's edge (trimmed)", "text attributes", "article labels",
                  "more than one annotator's layer"),
    read_folder=read_brat_folder, folder_marker="annotation.conf",
)
