"""doccano's "JSONL(Relation)" shape, for a doccano project with relations: ``entities`` with
ids, ``relations`` between them and article labels as ``cats`` (see doccano.py, which reads both
shapes back)."""

from __future__ import annotations

from .doccano import DoccanoWriter
from .registry import Format


class DoccanoRelationsWriter(DoccanoWriter):
    relations_shape = True


FORMAT = Format(
    name="doccano-rel", summary="doccano JSONL(Relation): entities, relations and cats",
    writer=DoccanoRelationsWriter, suffix=".jsonl",
    cannot_carry=("span notes", "span attributes", "more than one annotator's layer"),
)
