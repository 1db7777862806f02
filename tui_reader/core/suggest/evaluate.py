"""How good the suggestions are against a hand-labelled gold set, and what they save in keys.

**Span matching** (:func:`score`), per label, a prediction and a gold span of the same label:

* ``exact``: same start and same end.
* ``overlap``: the prediction covers at least half of the gold span's characters
  (``|p ∩ g| >= 0.5 * |g|``).

Precision is the share of predictions that match some gold span, recall the share of gold spans
that some prediction matches, F1 their harmonic mean. Matching is not one-to-one: two
predictions each covering most of one gold span both count as right. The ``all`` row pools every
label (micro average).

**The model** is measured by leave-one-document-out cross-validation (:func:`model_predictions`):
for each gold document a model is trained on the sentences of the other documents (labelled by
:func:`~tui_reader.core.suggest.learned.sentence_labels`, every gold document being done) and
suggests on the held-out one, so it is never scored on text it was trained on.

**Keystrokes** (:func:`count_keys`): an annotator who labels exactly the gold spans of a document,
in order of their start, with the app's keys. The caret starts at offset 0. Moving costs the
fewest presses of ``h l w b ( ) { } g G`` that put the caret where it must be (a breadth-first
search over the same motions as the reading pane, :class:`Motions`; ``j k 0 $`` and pages depend
on the window and are left out):

* A gold span that is exactly one sentence: move the caret anywhere into that sentence, then one
  label key.
* Any other gold span (a quote inside a sentence, several sentences): move to where the selection
  starts, ``v`` (or ``s``, which selects the sentence at the caret), extend with the visual-mode
  motions until the selection (snapped to words, as the app does by default) is the span, then
  one label key.
* With suggestions, a suggestion with exactly the gold span's extent and label is accepted: move
  the caret into it, then ``a``.
* A wrong suggestion (no gold span has its extent and label) costs a move into it and ``r`` when
  the annotator has to clear it. Policy ``"overlap"`` (the default): only wrong suggestions that
  overlap a gold span the annotator labels are cleared, just before labelling it (they sit on the
  text being labelled); wrong suggestions on text the annotator leaves unlabelled are left alone,
  since a suggestion is not a label and is not exported. Policy ``"all"``: every wrong suggestion
  is cleared, in document order.
* ``a`` and ``r`` act on the shortest open suggestion at the caret, and on the first by label of
  several with one extent: the caret is put where the intended one is the shortest, and several
  suggestions of one extent are settled in label order.
* While suggestions are open, ``>`` and ``<`` (the app's next / previous suggestion: the caret to
  the start of the nearest one after / before it) are motions too; ``jump=False`` leaves them out.
  ``A`` (accept every suggestion of a label) is not used.

The key counts are per labelled (gold) span. :attr:`KeyCount.trace` holds the keys in order;
``tests/unit/test_suggest_evaluate.py`` presses them in the real app and gets the gold spans.
A model retrained while the annotator works (the app does, every few labels) is not simulated.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..segment import Segments
from .learned import SentenceModel, sentence_labels
from .learned import suggest as model_suggest
from .rules import Rule, Suggestion, apply_rules

__all__ = [
    "GoldDocument",
    "KeyCount",
    "LabelScore",
    "Motions",
    "as_predictions",
    "count_keys",
    "gold_predictions",
    "load_gold",
    "merge_by_key",
    "model_predictions",
    "overlaps_enough",
    "rule_predictions",
    "score",
    "sentence_examples",
]

SpanT = tuple[int, int, str]
Prediction = tuple[str, int, int, str]  # doc id, start, end, label


@dataclass(frozen=True)
class GoldDocument:
    id: str
    text: str
    spans: tuple[SpanT, ...]


def load_gold(path: str | Path) -> list[GoldDocument]:
    """Gold documents from a native JSONL file; every span must satisfy
    ``text[start:end] == span["text"]`` (an ``InputError`` names the line otherwise)."""
    docs: list[GoldDocument] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        text = record["text"]
        spans = []
        for span in record["spans"]:
            start, end = span["start"], span["end"]
            if "text" in span and text[start:end] != span["text"]:
                raise InputError(f"{path}:{number}: span {start}-{end} does not hold its text")
            spans.append((start, end, span["label"]))
        docs.append(GoldDocument(record["id"], text, tuple(sorted(spans))))
    return docs


# ------------------------------------------------------------------------------------------------
# Precision and recall


def overlaps_enough(pred: tuple[int, int], gold: tuple[int, int], min_fraction: float = 0.5) -> bool:
    """Whether ``pred`` covers at least ``min_fraction`` of ``gold``'s characters."""
    inter = min(pred[1], gold[1]) - max(pred[0], gold[0])
    return inter > 0 and inter >= min_fraction * (gold[1] - gold[0])


@dataclass
class LabelScore:
    label: str
    gold: int = 0
    predicted: int = 0
    right_predictions: int = 0  # predictions that match a gold span
    found_gold: int = 0  # gold spans that a prediction matches

    @property
    def precision(self) -> float:
        return self.right_predictions / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.found_gold / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(gold: Iterable[Prediction], predicted: Iterable[Prediction], mode: str = "exact",
          labels: Sequence[str] | None = None) -> dict[str, LabelScore]:
    """Per-label scores (and ``"all"``, pooled) of ``predicted`` against ``gold``, both as
    ``(doc id, start, end, label)``; ``mode`` is ``"exact"`` or ``"overlap"``."""
    if mode not in ("exact", "overlap"):
        raise ValueError(f"mode must be 'exact' or 'overlap', not {mode!r}")
    gold, predicted = list(gold), list(predicted)
    names = list(labels) if labels is not None else sorted({g[3] for g in gold} | {p[3] for p in predicted})
    by_key: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for doc, start, end, label in gold:
        by_key.setdefault((doc, label), []).append((start, end))
    pred_key: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for doc, start, end, label in predicted:
        pred_key.setdefault((doc, label), []).append((start, end))

    def match(p: tuple[int, int], g: tuple[int, int]) -> bool:
        return p == g if mode == "exact" else overlaps_enough(p, g)

    scores = {name: LabelScore(name) for name in names}
    total = LabelScore("all")
    for (doc, label), golds in by_key.items():
        if label not in scores:
            continue
        preds = pred_key.get((doc, label), [])
        found = sum(any(match(p, g) for p in preds) for g in golds)
        scores[label].gold += len(golds)
        scores[label].found_gold += found
    for (doc, label), preds in pred_key.items():
        if label not in scores:
            continue
        golds = by_key.get((doc, label), [])
        right = sum(any(match(p, g) for g in golds) for p in preds)
        scores[label].predicted += len(preds)
        scores[label].right_predictions += right
    for s in scores.values():
        total.gold += s.gold
        total.predicted += s.predicted
        total.right_predictions += s.right_predictions
        total.found_gold += s.found_gold
    scores["all"] = total
    return scores


def gold_predictions(docs: Iterable[GoldDocument]) -> list[Prediction]:
    return [(d.id, s, e, label) for d in docs for s, e, label in d.spans]


def rule_predictions(docs: Iterable[GoldDocument], rules: Sequence[Rule],
                     labels: Iterable[str] | None = None) -> dict[str, list[Suggestion]]:
    """Rule suggestions for each gold document, by document id."""
    labels = list(labels) if labels is not None else None
    return {d.id: apply_rules(d.text, Segments(d.text), rules, labels) for d in docs}


def sentence_examples(doc: GoldDocument) -> list[tuple[str, str]]:
    """A gold document's sentences labelled as the app labels an annotator's done document."""
    segments = Segments(doc.text)
    return [(doc.text[s:e], label) for s, e, label in sentence_labels(segments, doc.spans, True)]


def model_predictions(docs: Sequence[GoldDocument], labels: Iterable[str] | None = None,
                      min_confidence: float = 0.6,
                      make_model: Callable[[], SentenceModel] = SentenceModel,
                      ) -> dict[str, list[Suggestion]]:
    """Model suggestions for each gold document from a model trained on the other documents
    (leave-one-document-out), by document id."""
    labels = list(labels) if labels is not None else None
    examples = {d.id: sentence_examples(d) for d in docs}
    out: dict[str, list[Suggestion]] = {}
    for held in docs:
        train = [ex for d in docs if d.id != held.id for ex in examples[d.id]]
        model = make_model().fit(train)
        out[held.id] = model_suggest(model, held.text, Segments(held.text), labels, min_confidence)
    return out


def merge_by_key(*groups: Iterable[Suggestion]) -> list[Suggestion]:
    """One suggestion per (start, end, label), the most confident: how the app adds the model's
    suggestions to the rules' (:func:`~tui_reader.core.suggest.learned.merge` is the other way)."""
    best: dict[tuple[int, int, str], Suggestion] = {}
    for group in groups:
        for s in group:
            old = best.get(s.key)
            if old is None or s.confidence > old.confidence:
                best[s.key] = s
    return sorted(best.values(), key=lambda s: (s.start, s.end, s.label))


def as_predictions(by_doc: dict[str, list[Suggestion]]) -> list[Prediction]:
    return [(doc, s.start, s.end, s.label) for doc, items in by_doc.items() for s in items]


# ------------------------------------------------------------------------------------------------
# Keystrokes


class Motions:
    """The reading pane's caret motions over one text as lookup tables (see ``ReadingPane``):
    normal-mode targets and, for a selection extending forward, the visual-mode targets."""

    NORMAL = ("l", "h", "w", "b", ")", "(", "}", "{", "g", "G")

    def __init__(self, text: str, segments: Segments | None = None) -> None:
        self.text = text
        self.segments = seg = segments or Segments(text)
        self.last = last = max(len(text) - 1, 0)

        def clamp(x: int) -> int:
            return max(0, min(x, last))

        offsets = range(last + 1)
        self.normal: dict[str, list[int]] = {
            "l": [clamp(seg.next_grapheme(i)) for i in offsets],
            "h": [clamp(seg.prev_grapheme(i)) for i in offsets],
            "w": [clamp(seg.next_word_start(i)) for i in offsets],
            "b": [clamp(seg.prev_word_start(i)) for i in offsets],
            ")": [clamp(seg.next_sentence_start(i)) for i in offsets],
            "(": [clamp(seg.prev_sentence_start(i)) for i in offsets],
            "}": [clamp(seg.next_paragraph_start(i)) for i in offsets],
            "{": [clamp(seg.prev_paragraph_start(i)) for i in offsets],
            "g": [0] * len(offsets),
            "G": [last] * len(offsets),
        }

        def extend(unit: str, i: int) -> int:
            end = seg.next_end(unit, i)
            return i if end is None else clamp(seg.prev_grapheme(end))

        # Extending forward stops on the last character of the next word/sentence/paragraph.
        self.forward = {key: [extend(unit, i) for i in offsets]
                        for key, unit in (("w", "word"), (")", "sentence"), ("}", "paragraph"))}
        self.sentence_of = [seg.sentence_at(i) for i in offsets]

    def neighbours(self, caret: int, anchor: int | None = None) -> Iterable[tuple[str, int]]:
        """(key, where it takes the caret) for each motion key (in a selection from ``anchor``)."""
        for key in self.NORMAL:
            if anchor is not None and caret >= anchor and key in self.forward:
                yield key, self.forward[key][caret]
            else:
                yield key, self.normal[key][caret]

    def path(self, start: int, goal: Callable[[int], bool], anchor: int | None = None,
             extra: Callable[[int], Iterable[tuple[str, int]]] | None = None
             ) -> tuple[list[str], int] | None:
        """The fewest keys that take the caret from ``start`` to an offset where ``goal`` holds,
        and that offset (breadth-first search). ``extra`` gives more (key, target) pairs from an
        offset (``>`` and ``<``). None if no offset can be reached."""
        if goal(start):
            return [], start
        parent: dict[int, tuple[int, str]] = {start: (-1, "")}
        queue = deque([start])
        while queue:
            pos = queue.popleft()
            moves = list(self.neighbours(pos, anchor))
            if extra is not None:
                moves.extend(extra(pos))
            for key, nxt in moves:
                if nxt in parent:
                    continue
                parent[nxt] = (pos, key)
                if goal(nxt):
                    end, keys = nxt, []
                    while nxt != start:
                        nxt, key = parent[nxt]
                        keys.append(key)
                    return keys[::-1], end
                queue.append(nxt)
        return None

    def selection(self, anchor: int, caret: int) -> tuple[int, int] | None:
        """What a label key labels with this selection (snapped to words, as by default)."""
        low, high = sorted((anchor, caret))
        return self.segments.snap_selection(low, self.segments.next_grapheme(high), to_words=True)


@dataclass
class KeyCount:
    spans: int = 0
    keys: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)  # moves, label, select, accept, reject
    trace: list[str] = field(default_factory=list)  # every key, in order ("1".."4" for labels)

    def add(self, other: KeyCount) -> None:
        self.spans += other.spans
        self.keys += other.keys
        self.by_kind.update(other.by_kind)
        self.trace.extend(other.trace)

    @property
    def per_span(self) -> float:
        return self.keys / self.spans if self.spans else 0.0


def count_keys(text: str, gold: Sequence[SpanT], suggestions: Sequence[Suggestion] = (),
               policy: str = "overlap", jump: bool = True, motions: Motions | None = None,
               label_keys: dict[str, str] | None = None) -> KeyCount:
    """Keys an annotator presses to label exactly ``gold`` in ``text`` (see the module
    docstring). ``label_keys`` maps labels to their keys in the trace (default: the four default
    labels' ``1``-``4``)."""
    if policy not in ("overlap", "all"):
        raise ValueError(f"policy must be 'overlap' or 'all', not {policy!r}")
    keys_of = label_keys or {"claim": "1", "quote": "2", "opinion": "3", "boilerplate": "4"}
    m = motions or Motions(text)
    tally = KeyCount(spans=len(gold))
    gold_keys = {(s, e, label) for s, e, label in gold}
    # Wrong suggestions with a gold span's very extent are settled with that span (below).
    gold_extents = {(s, e) for s, e, _ in gold}
    pending = sorted({(s.start, s.end, s.label) for s in suggestions})
    caret = 0

    def press(kind: str, keys: Sequence[str]) -> None:
        tally.keys += len(keys)
        tally.by_kind[kind] += len(keys)
        tally.trace.extend(keys)

    def jumps(pos: int) -> list[tuple[str, int]]:  # the app's > and <
        later = [s for s, _, _ in pending if s > pos]
        earlier = [s for s, _, _ in pending if s < pos]
        return ([(">", min(later))] if later else []) + ([("<", max(earlier))] if earlier else [])

    extra = jumps if jump else None

    def inside(item: SpanT) -> Callable[[int], bool]:
        start, end, _ = item
        # a and r act on the shortest open suggestion at the caret.
        shorter = [(s, e) for s, e, _ in pending if e - s < end - start and s < end and e > start]
        return lambda p: start <= p < end and not any(s <= p < e for s, e in shorter)

    def visit(item: SpanT, kind: str, key: str) -> None:
        nonlocal caret
        found = m.path(caret, inside(item), extra=extra)
        assert found is not None, item
        press("moves", found[0])
        caret = found[1]
        press(kind, [key])
        pending.remove(item)

    def label_by_hand(start: int, end: int, label: str) -> None:
        nonlocal caret
        key = keys_of.get(label, label)
        if m.segments.sentence_at(start) == (start, end):  # the sentence at the caret
            found = m.path(caret, lambda p: m.sentence_of[p] == (start, end), extra=extra)
            assert found is not None
            press("moves", found[0])
            caret = found[1]
            press("label", [key])
            return
        options: list[tuple[list[str], str, list[str], int]] = []  # moves, v/s, extension, caret
        # v: from an anchor where the selection starts at `start` (snapped to words).
        lo = start
        while lo > 0 and text[lo - 1].isspace():
            lo -= 1
        word = m.segments.word_at(start)
        hi = word[1] if word is not None and word[0] == start else start + 1
        for anchor in range(lo, min(hi, m.last + 1)):
            sel = m.selection(anchor, anchor)
            if sel is None or sel[0] != start:
                continue
            got = m.path(caret, lambda p, a=anchor: p == a, extra=extra)
            ext = m.path(anchor, lambda p, a=anchor: p >= a and m.selection(a, p) == (start, end),
                         anchor=anchor)
            if got is not None and ext is not None:
                options.append((got[0], "v", ext[0], ext[1]))
        # s: select the sentence that starts at `start`, then extend.
        sentence = m.segments.sentence_at(start)
        if sentence is not None and sentence[0] == start:
            got = m.path(caret, lambda p: m.sentence_of[p] == sentence, extra=extra)
            tail = m.segments.prev_grapheme(sentence[1])
            ext = m.path(tail, lambda p: m.selection(start, p) == (start, end), anchor=start)
            if got is not None and ext is not None:
                options.append((got[0], "s", ext[0], ext[1]))
        assert options, (start, end)
        moves, select, extension, caret = min(options, key=lambda o: len(o[0]) + len(o[2]))
        press("moves", moves)
        press("select", [select])
        press("moves", extension)
        press("label", [key])

    events: list[tuple[int, int, int, SpanT]] = [(s, e, 1, (s, e, label)) for s, e, label in gold]
    if policy == "all":
        events += [(item[0], item[1], 0, item) for item in pending
                   if item not in gold_keys and item[:2] not in gold_extents]
    for start, end, is_gold, item in sorted(events):
        if not is_gold:
            if item in pending:
                visit(item, "reject", "r")
            continue
        for wrong in [p for p in pending if p not in gold_keys and p[0] < end and p[1] > start
                      and p[:2] not in gold_extents]:
            visit(wrong, "reject", "r")
        suggested = item in pending
        # Suggestions of this very extent: a and r act on the first by label, so in that order.
        for other in [p for p in pending if p[:2] == (start, end) and (p == item or p not in gold_keys)]:
            visit(other, "accept" if other == item else "reject", "a" if other == item else "r")
        if not suggested:
            label_by_hand(start, end, item[2])
    return tally


# ------------------------------------------------------------------------------ attribution
@dataclass(frozen=True)
class AttributionGold:
    """One gold document of tests/gold/sample_gold_attribution.jsonl: its statements (the
    quote, claim and opinion spans), its source spans and the relations between them."""

    id: str
    text: str
    statements: tuple[tuple[int, int, str], ...]
    sources: frozenset[tuple[int, int, str]]
    relations: frozenset[tuple[tuple[int, int, str], tuple[int, int, str]]]


def load_attribution_gold(path: str | Path) -> list[AttributionGold]:
    docs = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        text = record["text"]
        keys = {}
        for span in record["spans"]:
            if text[span["start"]:span["end"]] != span["text"]:
                raise InputError(f"{path}:{number}: span {span['start']}-{span['end']} does not "
                                 "hold its text")
            keys[span["id"]] = (span["start"], span["end"], span["label"])
        docs.append(AttributionGold(
            record["id"], text,
            tuple(sorted(k for k in keys.values() if k[2] in ("quote", "claim", "opinion"))),
            frozenset(k for k in keys.values() if k[2] == "source"),
            frozenset((keys[r["head"]], keys[r["child"]]) for r in record.get("relations", [])),
        ))
    return docs


@dataclass(frozen=True)
class AttributionScore:
    gold: int
    predicted: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_attribution(docs: Sequence[AttributionGold],
                      heads: Callable[[AttributionGold], Iterable[tuple[int, int, str]]],
                      ) -> dict[str, AttributionScore]:
    """Relations and source spans the attribution rule suggests for the statements ``heads``
    gives each document (the gold statements, or the rules' quote suggestions), against the gold:
    ``relations`` (exact: head and source both exactly the gold's), ``relations-overlap`` (the
    head exact, the source sharing a character with the gold's), ``sources`` (exact spans)."""
    from .attribution import attribution_suggestions
    from .suggestion import RelationSuggestion

    counts = {name: [0, 0, 0] for name in ("relations", "relations-overlap", "sources")}
    for doc in docs:
        found = attribution_suggestions(doc.text, Segments(doc.text), list(heads(doc)),
                                        "attributed_to")
        relations = {(r.head, r.child) for r in found if isinstance(r, RelationSuggestion)}
        sources = {s.key for s in found if isinstance(s, Suggestion)}
        for name, gold, predicted, hit in (
            ("relations", doc.relations, relations, lambda p, g: p == g),
            ("relations-overlap", doc.relations, relations,
             lambda p, g: p[0] == g[0] and p[1][0] < g[1][1] and g[1][0] < p[1][1]),
            ("sources", doc.sources, sources, lambda p, g: p == g),
        ):
            counts[name][0] += len(gold)
            counts[name][1] += len(predicted)
            counts[name][2] += sum(1 for p in predicted if any(hit(p, g) for g in gold))
    return {name: AttributionScore(*c) for name, c in counts.items()}
