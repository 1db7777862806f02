"""GLiNER's training data: one JSON array, one object per document::

    [{"tokenized_text": ["The", "minister", "said", ...],
      "ner": [[start_token, end_token, "label"], ...]}]

``end_token`` is inclusive, as GLiNER's own loaders read it: ``tokenized_text[start:end + 1]`` are
the span's words. Tokens are the words of the tokenizer every token format shares (spaCy's blank
tokenizer for ``--lang``, whitespace left out). Overlapping and nested spans are kept (GLiNER
learns spans, not tags). A span whose ends are not token boundaries cannot be written ("spans not
aligned to tokens left out", counted; ``--strict`` stops). A document marked done without spans
is an object with an empty ``ner`` (a real negative). One set of spans per document.
"""

from __future__ import annotations

from typing import Any

import orjson

from .base import Writer
from .dataset import ExportDoc
from .registry import Format
from .tokens import tokenize, words


def token_spans(text: str, spans: list[dict[str, Any]], lang: str) -> tuple[list[str], list[list[Any]], int]:
    """(words, ``[first, last, label]`` per aligned span, spans not aligned)."""
    toks = words(tokenize(text, lang))
    starts = {t.start: i for i, t in enumerate(toks)}
    ends = {t.end: i for i, t in enumerate(toks)}
    ner: list[list[Any]] = []
    unaligned = 0
    for span in spans:
        first, last = starts.get(span["start"]), ends.get(span["end"])
        if first is None or last is None or last < first:
            unaligned += 1
        else:
            ner.append([first, last, span["label"]])
    return [t.text for t in toks], ner, unaligned


class GlinerWriter(Writer):
    def _begin(self) -> None:
        assert self.out is not None
        self.out.write(b"[")
        self._first = True

    def _write(self, doc: ExportDoc) -> None:
        assert self.out is not None
        spans = self.layer_spans(doc)
        tokens, ner, unaligned = token_spans(doc.text, spans, self.options.lang)
        self.lose("spans not aligned to tokens left out", doc, unaligned)
        self.lose_schema(doc, spans)
        self.out.write(b"\n" if self._first else b",\n")
        self._first = False
        self.out.write(orjson.dumps({"tokenized_text": tokens, "ner": ner}))
        self.count_spans(spans)
        self.count_layer(doc.annotators[0] if doc.annotators else None)

    def _finish(self) -> None:
        assert self.out is not None
        self.out.write(b"]\n" if self._first else b"\n]\n")


FORMAT = Format(
    name="gliner", summary="GLiNER's training data: tokenized_text and ner token spans",
    writer=GlinerWriter, suffix=".json", tokenized=True,
    cannot_carry=("spans off token boundaries", "span notes", "relations", "span attributes",
                  "article labels", "more than one annotator's layer"),
)
