"""CoNLL-style token-per-line file with one BIO column per label::

    # columns = token claim quote opinion boilerplate
    # id = 03-us-must-hold-mexico-responsible-gonzalez.txt
    Senators<TAB>O<TAB>O<TAB>O<TAB>O
    said<TAB>O<TAB>O<TAB>O<TAB>O
    "<TAB>O<TAB>B-quote<TAB>O<TAB>O
    ...
    <blank line between documents>

The first line names the columns: the token, then one column per project label (config order)
holding ``B-<label>``, ``I-<label>`` or ``O``, so overlapping spans of different labels both
survive. Tokens are the words of :func:`tokens.tokenize` (whitespace tokens left out; a token
never holds a tab or a space). Each document starts with a ``# id = ...`` comment line; every
token line has tabs, comment lines have none. What a BIO column cannot hold is lost and counted:
spans not on token boundaries, and spans overlapping an earlier span of the same label (the
earliest, then longest, wins). One set of spans per document.
"""

from __future__ import annotations

from .base import Writer
from .dataset import ExportDoc
from .hf import bio_layers
from .registry import Format


class ConllWriter(Writer):
    def _begin(self) -> None:
        assert self.out is not None
        if not self.options.labels:
            raise ValueError("the conll format needs the project's label names (WriterOptions.labels)")
        self.out.write(f"# columns = token {' '.join(self.options.labels)}\n".encode())

    def _write(self, doc: ExportDoc) -> None:
        assert self.out is not None
        spans = self.layer_spans(doc)
        toks, columns, kept, unaligned, overlapping = bio_layers(
            doc, spans, self.options.labels, self.options.lang
        )
        self.lose("spans not aligned to tokens dropped", doc, unaligned)
        self.lose("overlapping spans of the same label dropped", doc, overlapping)
        self.lose_schema(doc, spans)
        doc_id = " ".join(doc.id.split())
        lines = [f"# id = {doc_id}\n"]
        for i, token in enumerate(toks):
            tags = [
                tag if tag == "O" else f"{tag}-{label}"
                for label in self.options.labels
                for tag in (columns[label][i],)
            ]
            lines.append(token.text + "\t" + "\t".join(tags) + "\n")
        lines.append("\n")
        self.out.write("".join(lines).encode("utf-8"))
        self.count_spans(kept)
        self.count_layer(doc.annotators[0] if doc.annotators else None)


FORMAT = Format(
    name="conll", summary="token per line with a BIO column per label", writer=ConllWriter,
    suffix=".conll", tokenized=True,
    cannot_carry=("spans off token boundaries", "overlaps of one label", "span notes",
                  "relations", "span attributes", "article labels", "more than one annotator's layer"),
)
