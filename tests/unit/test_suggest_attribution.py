"""The attribution rule: a named source for a statement, in the ways news names speakers."""

from __future__ import annotations

import json

import pytest

from tui_reader.core.segment import Segments
from tui_reader.core.suggest.attribution import attribution_suggestions
from tui_reader.core.suggest.evaluate import load_attribution_gold, score_attribution
from tui_reader.core.suggest.suggestion import RelationSuggestion, Suggestion


def sources(text: str, head: str | None) -> list[str]:
    start = text.index(head) if head else 0
    end = start + len(head) if head else len(text)
    found = attribution_suggestions(text, Segments(text), [(start, end, "quote")], "attributed_to")
    relations = [r for r in found if isinstance(r, RelationSuggestion)]
    assert all(r.head == (start, end, "quote") and r.label == "attributed_to" for r in relations)
    assert [r.child for r in relations] == [s.key for s in found if isinstance(s, Suggestion)]
    return [text[r.child[0]:r.child[1]] for r in relations]


@pytest.mark.parametrize(("text", "head", "expected"), [
    ('"We will win this war," said Ana Ruiz on Monday.', '"We will win this war,"', ["Ana Ruiz"]),
    ("“The plan is dead,” Prime Minister Jan van der Berg told reporters.", "“The plan is dead,”",
     ["Jan van der Berg"]),
    ("“Long live Cuba!” Díaz-Canel later tweeted.", "“Long live Cuba!”", ["Díaz-Canel"]),
    ("Cuban President Miguel Díaz-Canel said that the blockade must end.", None,
     ["Miguel Díaz-Canel"]),
    ("At the same time, AMLO demanded that the US lift the blockade.", None, ["AMLO"]),
    ('Ana Ruiz said: "We are ready for anything now."', '"We are ready for anything now."',
     ["Ana Ruiz"]),
    ("Prices rose by 3%, according to the Central Bank of Chile.", None, ["Central Bank of Chile"]),
])
def test_a_named_source_is_found(text, head, expected):
    assert sources(text, head) == expected


@pytest.mark.parametrize(("text", "head"), [
    ('"It is over," he said.', '"It is over,"'),  # a pronoun names nobody
    ('The minister said: "We are ready for anything now."', '"We are ready for anything now."'),
    ("The blockade must end, and soon.", None),  # nobody said it
])
def test_no_name_no_suggestion(text, head):
    assert sources(text, head) == []


def test_score_attribution_by_hand(tmp_path):
    text = '"We will win," said Ana Ruiz. "It is over," he said. "Never," Bo Li added.'
    quotes = ['"We will win,"', '"It is over,"', '"Never,"']
    spans = [{"id": f"q{i}", "start": text.index(q), "end": text.index(q) + len(q), "label": "quote",
              "text": q} for i, q in enumerate(quotes)]
    ana, he = text.index("Ana Ruiz"), text.index("he said")
    spans += [{"id": "s1", "start": ana, "end": ana + 8, "label": "source", "text": "Ana Ruiz"},
              {"id": "s2", "start": he, "end": he + 2, "label": "source", "text": "he"}]
    relations = [{"head": "q0", "child": "s1"}, {"head": "q1", "child": "s2"}]
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({"id": "d", "text": text, "spans": spans, "relations": relations}))
    scores = score_attribution(load_attribution_gold(path), lambda d: d.statements)
    # suggested: Ana Ruiz (right) and Bo Li (not in the gold); missed: "he"
    assert (scores["relations"].gold, scores["relations"].predicted, scores["relations"].correct) == (
        2, 2, 1)
    assert scores["relations"].precision == 0.5 and scores["relations"].recall == 0.5
    assert (scores["sources"].gold, scores["sources"].predicted, scores["sources"].correct) == (2, 2, 1)
