"""spaCy ``.spacy`` DocBin: what ``spacy train`` reads, with the spans in ``doc.spans["sc"]``.

Each document is tokenized with ``spacy.blank(lang)`` (no model, nothing downloaded); its spans go
into the span group ``"sc"`` (the span categorizer's default key), where overlapping and nested
spans are allowed. ``doc.user_data`` holds ``{"id": document id, "annotator": layer}`` and, where
there are any, ``"relations"``: ``[[head, child, label], ...]`` with ``head`` and ``child`` indices
into ``doc.spans["sc"]``, and ``"span_attributes"``: ``[[index, {name: value}], ...]``. Article
labels are ``doc.cats`` as a text classifier reads them: one category ``"group:value"`` per value
of every group of the project, 1.0 when chosen and 0.0 otherwise (a document nobody labelled in
a group has none of that group's categories).

A span whose offsets do not fall on token boundaries has no ``doc.char_span(...,
alignment_mode="strict")``: it is dropped and counted ("spans not aligned to tokens dropped"),
never snapped to other boundaries. One set of spans per document: several annotators need a gold
policy (or ``--annotator``). The DocBin is built in memory (compact arrays, about the size of the
output file) and written when the writer is closed. Needs spaCy: ``pip install 'tui-reader[formats]'``.
"""

from __future__ import annotations

from typing import Any

from ..errors import PackageMissingError
from .base import Writer
from .dataset import ExportDoc
from .registry import Format


def require_spacy() -> Any:
    try:
        import spacy
    except ImportError:
        raise PackageMissingError(
            "the spacy format needs spaCy: pip install 'tui-reader[formats]' (or spacy>=3.7)"
        ) from None
    return spacy


class SpacyWriter(Writer):
    def _begin(self) -> None:
        spacy = require_spacy()
        from spacy.tokens import DocBin

        self.nlp = spacy.blank(self.options.lang)
        self.docbin = DocBin(store_user_data=True)

    def _write(self, doc: ExportDoc) -> None:
        spans = self.layer_spans(doc)
        sdoc = self.nlp.make_doc(doc.text)
        kept = []
        written = []
        unaligned = 0
        index: dict[str, int] = {}
        attributes: list[list[Any]] = []
        for span in spans:
            sp = sdoc.char_span(span["start"], span["end"], label=span["label"],
                                alignment_mode="strict")
            if sp is None:
                unaligned += 1
            else:
                index[span["id"]] = len(kept)
                if span.get("attributes"):
                    attributes.append([len(kept), dict(span["attributes"])])
                kept.append(sp)
                written.append(span)
        self.lose("spans not aligned to tokens dropped", doc, unaligned)
        sdoc.spans["sc"] = kept
        sdoc.user_data["id"] = doc.id
        relations = [[index[r["head"]], index[r["child"]], r["label"]] for r in doc.relations
                     if r["head"] in index and r["child"] in index]
        self.lose("relations dropped with a span", doc, len(doc.relations) - len(relations))
        if relations:
            sdoc.user_data["relations"] = relations
        if attributes:
            sdoc.user_data["span_attributes"] = attributes
        chosen = doc.single_labels()
        for group in self.options.schema.article_labels:
            if group.group in chosen:
                for value in group.values:
                    sdoc.cats[f"{group.group}:{value}"] = 1.0 if value in chosen[group.group] else 0.0
        if doc.annotators:
            sdoc.user_data["annotator"] = doc.annotators[0]
        self.docbin.add(sdoc)
        self.count_spans(written)
        self.count_layer(doc.annotators[0] if doc.annotators else None)

    def _finish(self) -> None:
        assert self.out is not None
        self.out.write(self.docbin.to_bytes())


FORMAT = Format(
    name="spacy", summary="a spaCy DocBin, spans in doc.spans['sc']", writer=SpacyWriter,
    suffix=".spacy", tokenized=True, binary=True,
    cannot_carry=("spans off token boundaries", "span notes", "more than one annotator's layer"),
)
