"""Measuring suggestions: span matching, the gold set, and the keystroke model (checked against
the real app: the keys it counts, pressed in the app, make exactly the gold spans)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tui_reader.core.segment import Segments
from tui_reader.core.store import Project
from tui_reader.core.suggest.evaluate import (
    count_keys,
    load_gold,
    model_predictions,
    overlaps_enough,
    rule_predictions,
    score,
)
from tui_reader.core.suggest.learned import available
from tui_reader.core.suggest.rules import DEFAULT_RULES, Rule, Suggestion, apply_rules
from tui_reader.core.text import canonical

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT / "tests" / "gold" / "sample_gold.jsonl"
LABELS = ["claim", "quote", "opinion", "boilerplate"]


def test_overlap_is_at_least_half_of_the_gold_span():
    assert overlaps_enough((25, 30), (20, 30))  # exactly half
    assert not overlaps_enough((26, 30), (20, 30))
    assert overlaps_enough((0, 100), (20, 30))  # a longer prediction covers all of it
    assert not overlaps_enough((30, 40), (20, 30))  # touching is not overlapping


def test_score_exact_and_overlap_on_a_hand_computed_case():
    gold = [("d", 0, 10, "claim"), ("d", 20, 30, "quote"), ("d", 40, 50, "quote")]
    predicted = [
        ("d", 0, 10, "claim"),  # exact
        ("d", 60, 70, "claim"),  # nothing there
        ("d", 0, 10, "quote"),  # right extent, wrong label
        ("d", 20, 26, "quote"),  # 6 of 10 characters of (20, 30)
        ("d", 40, 44, "quote"),  # 4 of 10 characters of (40, 50)
        ("e", 20, 30, "quote"),  # another document
    ]
    exact = score(gold, predicted, "exact", LABELS)
    claim = exact["claim"]
    assert (claim.predicted, claim.right_predictions, claim.found_gold) == (2, 1, 1)
    assert (exact["claim"].precision, exact["claim"].recall) == (0.5, 1.0)
    assert (exact["quote"].gold, exact["quote"].predicted, exact["quote"].precision, exact["quote"].recall) \
        == (2, 4, 0.0, 0.0)
    assert exact["opinion"].f1 == 0.0 and exact["opinion"].gold == 0
    pooled = exact["all"]
    assert (pooled.gold, pooled.predicted, pooled.right_predictions, pooled.found_gold) == (3, 6, 1, 1)
    assert pooled.f1 == pytest.approx(2 * (1 / 6) * (1 / 3) / (1 / 6 + 1 / 3))

    overlap = score(gold, predicted, "overlap", LABELS)
    assert (overlap["quote"].right_predictions, overlap["quote"].found_gold) == (1, 1)
    assert (overlap["quote"].precision, overlap["quote"].recall) == (0.25, 0.5)
    assert (overlap["all"].precision, overlap["all"].recall) == (2 / 6, 2 / 3)
    with pytest.raises(ValueError):
        score(gold, predicted, "fuzzy")


def test_the_gold_set_is_the_canonical_text_of_sample_corpus():
    docs = load_gold(GOLD)
    assert sorted(d.id for d in docs) == sorted(p.name for p in (ROOT / "sample_corpus").iterdir()
                                                if p.suffix in (".md", ".txt"))
    for doc in docs:
        path = ROOT / "sample_corpus" / doc.id
        assert doc.text == canonical(path.read_bytes(), "md" if path.suffix == ".md" else "txt")[0]
        for start, end, label in doc.spans:
            assert label in LABELS
            assert doc.text[start:end] == doc.text[start:end].strip() != ""
    records = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines()]
    assert all(s["annotator"] == "gold" for r in records for s in r["spans"])
    assert sum(len(d.spans) for d in docs) >= 150
    assert {label for d in docs for _, _, label in d.spans} == set(LABELS)


def test_load_gold_refuses_a_span_that_does_not_hold_its_text(tmp_path):
    bad = tmp_path / "bad.jsonl"
    record = {"id": "x", "text": "Hello world.", "meta": {},
              "spans": [{"start": 0, "end": 5, "label": "claim", "text": "world"}]}
    bad.write_text("\n" + json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:2: span 0-5"):
        load_gold(bad)


# ------------------------------------------------------------------------------------------------
# Keystrokes

TEXT = "One two. Three four. Five six."
S2 = (9, 20)  # "Three four."
FOUR = (15, 19)


def test_keys_without_suggestions_hand_computed():
    # ) to the second sentence, 1 labels it; w to "four", v selects it (snapped to the word), 2.
    tally = count_keys(TEXT, [(*S2, "claim"), (*FOUR, "quote")])
    assert tally.trace == [")", "1", "w", "v", "2"]
    assert (tally.spans, tally.keys, tally.per_span) == (2, 5, 2.5)
    assert tally.by_kind == {"moves": 2, "label": 2, "select": 1}


def test_keys_with_suggestions_accept_and_reject_policies():
    gold = [(*S2, "claim"), (*FOUR, "quote")]
    right = [Suggestion(*S2, "claim", "rule:x"), Suggestion(*FOUR, "quote", "rule:y")]
    elsewhere = Suggestion(21, 30, "opinion", "model:linear")  # no gold span there
    tally = count_keys(TEXT, gold, [*right, elsewhere])
    assert tally.trace == [")", "a", "w", "a"]  # the wrong one is on unlabelled text: left alone
    assert count_keys(TEXT, gold, [*right, elsewhere], policy="all").trace == [")", "a", "w", "a", "w", "r"]
    # A wrong suggestion on the text being labelled is rejected first.
    on_it = Suggestion(0, 20, "opinion", "model:linear")
    assert count_keys(TEXT, gold, [*right, on_it]).trace == ["r", ")", "a", "w", "a"]
    # Same extent, two labels: a and r act on the first by label, so they come in that order.
    twin = Suggestion(*S2, "boilerplate", "rule:z")
    assert count_keys(TEXT, gold, [*right, twin]).trace == [")", "r", "a", "w", "a"]
    # Without the > and < jumps, as with them here: ")" is as short as ">".
    assert count_keys(TEXT, gold, right, jump=False).keys == 4
    with pytest.raises(ValueError):
        count_keys(TEXT, gold, right, policy="some")


def test_suggestions_are_scored_per_document():
    docs = load_gold(GOLD)
    rules = rule_predictions(docs, DEFAULT_RULES, LABELS)
    assert set(rules) == {d.id for d in docs}
    assert all(isinstance(s, Suggestion) for items in rules.values() for s in items)


@pytest.mark.skipif(not available(), reason="scikit-learn is not installed")
def test_model_predictions_never_see_the_document_they_suggest_on():
    docs = load_gold(GOLD)[:3]
    seen: list[set[str]] = []

    class Spy:
        def __init__(self):
            from tui_reader.core.suggest.learned import SentenceModel
            self.inner = SentenceModel()

        def fit(self, examples):
            seen.append({text for text, _ in examples})
            self.inner.fit(examples)
            return self

        def predict(self, sentences):
            return self.inner.predict(sentences)

    out = model_predictions(docs, LABELS, 0.0, make_model=Spy)
    assert set(out) == {d.id for d in docs} and len(seen) == 3
    for doc, trained_on in zip(docs, seen):
        own = {doc.text[s:e] for s, e in Segments(doc.text).sentences()}
        others = {d.text[s:e] for d in docs if d is not doc for s, e in Segments(d.text).sentences()}
        assert not (own - others) & trained_on


_APP_KEYS = {")": "right_parenthesis", "(": "left_parenthesis", "}": "right_curly_bracket",
             "{": "left_curly_bracket", ">": "greater_than_sign", "<": "less_than_sign"}


# A short article with what the sample corpus has: navigation, a sentence broken over lines around
# a link, a quotation with its tag, reported speech, a share prompt, a caption and its credit.
ARTICLE = (
    "• Live\n"
    "News > World\n\n"
    "The mayor of\n\nSpringfield\n\nresigned on Monday. "
    "\u201cWe did what we could for this city,\u201d she said. Critics say the plan failed. "
    "It was a disaster for families.\n\n"
    "Share this article\n\n"
    "The mayor leaves city hall. (Photo by Jane Roe/AFP)\n"
)


def _gold_of_article() -> list[tuple[int, int, str]]:
    def at(first: str, last: str, label: str) -> tuple[int, int, str]:
        start = ARTICLE.index(first)
        return start, ARTICLE.index(last, start) + len(last), label

    return [at("• Live", "Live", "boilerplate"), at("News", "World", "boilerplate"),
            at("The mayor of", "Monday.", "claim"), at("\u201cWe", "city,\u201d", "quote"),
            at("Critics", "failed.", "quote"), at("It was", "families.", "opinion"),
            at("Share", "article", "boilerplate"), at("The mayor leaves", "hall.", "boilerplate"),
            at("(Photo", "AFP)", "boilerplate")]


@pytest.mark.parametrize("with_rules", [False, True], ids=["plain", "rule-suggestions"])
async def test_the_counted_keys_pressed_in_the_app_make_exactly_the_gold_spans(tmp_path, with_rules):
    from tui_reader.core.importer import import_paths
    from tui_reader.ui.app import AnnotatorApp

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text(ARTICLE, encoding="utf-8")
    import_paths(Project.open(tmp_path / "db", create=True), [tmp_path / "corpus"], "importer")
    gold = _gold_of_article()
    extra = [Rule("mayor", "opinion", re.compile("mayor"))]  # wrong twice: to be rejected
    rules = [*DEFAULT_RULES, *extra]
    suggestions = apply_rules(ARTICLE, Segments(ARTICLE), rules, LABELS) if with_rules else []
    tally = count_keys(ARTICLE, gold, suggestions, policy="all")
    assert "s" in tally.trace  # the broken sentence takes a selection
    assert not with_rules or {"a", "r"} <= set(tally.trace)

    app = AnnotatorApp(Project.open(tmp_path / "db"), "ann", suggest=with_rules, rules=extra)
    app.train_model = lambda: None  # a model retrained mid-run would change the suggestions
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.pane.caret == 0
        await pilot.press(*[_APP_KEYS.get(key, key) for key in tally.trace])
        await pilot.pause()
        assert app.session.suggestions == []  # every suggestion accepted or rejected
    got = sorted((s.start, s.end, s.label) for s in Project.open(tmp_path / "db").spans("a.txt", "ann"))
    assert got == sorted(gold)
