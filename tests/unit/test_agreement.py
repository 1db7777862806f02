"""Agreement figures against values computed by hand and textbook examples."""

from __future__ import annotations

import math
import random

import pytest

from tests.helpers import make_project
from tui_reader.core.agreement import (
    AgreementDoc,
    cohen_kappa,
    compute_agreement,
    documents_for_agreement,
    exact_counts,
    f1_exact,
    f1_overlap,
    krippendorff_alpha_nominal,
    overlap_counts,
    simple_tokens,
    token_runs,
)


def test_cohen_kappa_textbook_example():
    # Wikipedia's example: 50 suggestions, yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> kappa 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_kappa_perfect_and_chance():
    assert cohen_kappa("aabb", "aabb") == pytest.approx(1.0)
    assert cohen_kappa("abab", "aabb") == pytest.approx(0.0)
    assert cohen_kappa("aaaa", "aaaa") is None  # one category: undefined


def test_krippendorff_alpha_textbook_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders, 12 units with
    # missing values, nominal alpha = 0.743.
    data = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    units = [[coder[i] for coder in data.values() if coder[i] is not None] for i in range(12)]
    assert krippendorff_alpha_nominal(units) == pytest.approx(0.743, abs=0.0005)


def test_alpha_two_coders_by_hand():
    # Two coders, 4 units: (a,a) (a,b) (b,b) (b,b). Coincidences: o_aa=2, o_ab=o_ba=1, o_bb=4;
    # n_a=3, n_b=5, n=8. alpha = 1 - 7 * 2 / (2 * 3 * 5) = 1 - 14/30.
    units = [["a", "a"], ["a", "b"], ["b", "b"], ["b", "b"]]
    assert krippendorff_alpha_nominal(units) == pytest.approx(1 - 14 / 30)


def test_span_f1_exact_and_overlap_by_hand():
    a = [(0, 10, "claim"), (20, 30, "quote"), (40, 50, "claim")]
    b = [(0, 10, "claim"), (22, 30, "quote"), (60, 70, "claim")]
    assert exact_counts(a, b) == (1, 3, 3)
    assert f1_exact(*exact_counts(a, b)) == pytest.approx(1 / 3)
    # Overlap: a finds (0,10) and (20,30) in b: 2 of 3; b finds (0,10), (22,30): 2 of 3.
    assert overlap_counts(a, b) == (2, 3, 2, 3)
    assert f1_overlap(*overlap_counts(a, b)) == pytest.approx(2 / 3)
    # A different label never matches, even on the same characters.
    assert exact_counts([(0, 5, "claim")], [(0, 5, "quote")])[0] == 0


def test_report_per_label_pairs_and_worst_documents_first():
    text = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota."
    docs = [
        AgreementDoc("agree", text, {"ana": [(0, 17, "claim")], "bo": [(0, 17, "claim")]}),
        AgreementDoc("differ", text, {"ana": [(0, 17, "claim")], "bo": [(18, 37, "quote")]}),
        AgreementDoc("alone", text, {"ana": [(0, 5, "claim")]}),  # one annotator: not pairable
    ]
    report = compute_agreement(docs, ["claim", "quote"])
    overall = next(p for p in report.pairs if p.label is None)
    assert (overall.a, overall.b, overall.documents) == ("ana", "bo", 2)
    assert overall.exact_f1 == pytest.approx(2 * 1 / 4)
    claim = next(p for p in report.pairs if p.label == "claim")
    assert claim.exact_f1 == pytest.approx(2 * 1 / 3)
    assert [d.id for d in report.documents] == ["differ", "agree"]
    assert report.documents[1].exact_f1 == 1.0 and report.documents[1].alpha == pytest.approx(1.0)
    assert report.alpha[None] is not None and report.alpha[None] < 1


def test_token_kappa_matches_a_hand_count():
    # 4 tokens; ana covers tokens 1-2 as claim, bo covers token 1 only.
    text = "one two three four"
    docs = [AgreementDoc("d", text, {"ana": [(0, 7, "claim")], "bo": [(0, 3, "claim")]})]
    report = compute_agreement(docs, ["claim"])
    claim = next(p for p in report.pairs if p.label == "claim")
    # Per token (claim?): ana T T F F, bo T F F F: po = 3/4, pe = (2*1 + 2*3)/16 = 1/2 -> 0.5.
    assert claim.kappa == pytest.approx(0.5)


def test_from_a_project_done_without_spans_counts_as_found_nothing(tmp_path):
    text = "A claim here. Another one there."
    project = make_project(tmp_path, {"d": text})
    project.add_span("d", 0, 13, "claim", "ana")
    project.set_status("d", "bo", "done")  # bo read it and labelled nothing
    project.add_span("d", 0, 13, "claim", "gold")  # the reviewed layer is not an annotator
    (doc,) = list(documents_for_agreement(project))
    assert doc.spans == {"ana": [(0, 13, "claim")], "bo": []}
    report = compute_agreement([doc], ["claim"])
    assert report.documents[0].exact_f1 == 0.0
    assert not math.isnan(report.pairs[0].kappa)


# ------------------------------------------------------- relations, attributes, article labels
Q1, S1, Q2, S2, Q2B = (0, 10, "quote"), (20, 25, "source"), (30, 40, "quote"), (50, 55, "source"), (
    30, 38, "quote")
Q3, Q4, Q5 = (60, 70, "quote"), (71, 80, "quote"), (81, 90, "quote")


def _schema_docs() -> list[AgreementDoc]:
    text = "x" * 100
    first = AgreementDoc(
        "d1", text,
        spans={"A": [Q1, S1, Q2, S2, Q3, Q4, Q5], "B": [Q1, S1, Q2B, S2, Q3, Q4, Q5]},
        relations={"A": [(Q1, S1, "attributed_to"), (Q2, S2, "attributed_to")],
                   "B": [(Q1, S1, "attributed_to"), (Q2B, S2, "attributed_to"),
                         (Q1, S2, "attributed_to")]},
        attributes={"A": {Q1: {"kind": "direct"}, Q3: {"kind": "direct"}, Q4: {"kind": "indirect"}},
                    "B": {Q1: {"kind": "direct"}, Q3: {"kind": "indirect"}, Q4: {"kind": "indirect"}}},
        article_labels={"A": {"genre": ("news report",)}, "B": {"genre": ("news report",)}},
    )
    others = [
        AgreementDoc("d2", text, {"A": [], "B": []},
                     article_labels={"A": {"genre": ("news report",)}, "B": {"genre": ("opinion piece",)}}),
        AgreementDoc("d3", text, {"A": [], "B": []},
                     article_labels={"A": {"genre": ("opinion piece",)}, "B": {"genre": ("opinion piece",)}}),
        AgreementDoc("d4", text, {"A": [], "B": []}),  # neither chose a genre: not an item
    ]
    return [first, *others]


def test_relation_f1_exact_and_overlap_by_hand():
    report = compute_agreement(_schema_docs(), ["quote", "source"])
    (overall,) = [r for r in report.relations if r.label is None]
    # exact: only (Q1, S1) matches; 2 matches / (2 + 3)
    assert overall.exact_f1 == pytest.approx(2 * 1 / (2 + 3))
    # overlap: A's two both found in B (Q2 touches Q2B); B's (Q1, S2) has no partner: P 2/3, R 1
    assert overall.overlap_f1 == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))
    assert [r.label for r in report.relations] == [None, "attributed_to"]


def test_attribute_kappa_over_identical_spans_by_hand():
    report = compute_agreement(_schema_docs(), ["quote", "source"])
    (kind,) = report.attributes
    # items: Q1, Q3, Q4, Q5 (Q2 and Q2B differ); A direct, direct, indirect, unset;
    # B direct, indirect, indirect, unset: p_o 3/4, p_e (2*1 + 1*2 + 1*1)/16
    assert kind.items == 4
    assert kind.kappa == pytest.approx((3 / 4 - 5 / 16) / (1 - 5 / 16))


def test_article_label_kappa_and_alpha_by_hand():
    report = compute_agreement(_schema_docs(), ["quote", "source"])
    (genre,) = report.article_labels
    # items d1-d3: A news, news, opinion; B news, opinion, opinion: p_o 2/3, p_e 4/9
    assert (genre.name, genre.items) == ("genre", 3)
    assert genre.kappa == pytest.approx((2 / 3 - 4 / 9) / (1 - 4 / 9))
    # coincidences: news-news 2, news-opinion 1 + 1, opinion-opinion 2; n = 6
    assert report.article_alpha["genre"] == pytest.approx(1 - 5 * 2 / 18)
    data = report.to_json()
    assert data["article_labels_alpha"] == {"genre": pytest.approx(4 / 9)}
    assert data["relations"][0]["exact_f1"] == pytest.approx(0.4)


def test_token_runs_give_each_token_the_labels_covering_it():
    """The runs, expanded, are the per-token labels a token-by-token reading gives (random
    documents: overlapping, empty, nested and touching spans of several annotators)."""
    rng = random.Random(7)
    for _ in range(300):
        text = " ".join(rng.choice(["a", "bb", "ccc.", "«d»", "😀"]) for _ in range(rng.randint(0, 25)))
        tokens = simple_tokens(text)
        spans = {name: [(s, rng.randint(s, len(text)), rng.choice(["claim", "quote"]))
                        for s in (rng.randrange(len(text) + 1) for _ in range(rng.randint(0, 4)))]
                 for name in rng.sample(["ana", "bo", "cy"], rng.randint(1, 3))}
        expanded = [covering for length, covering in token_runs(spans, tokens) for _ in range(length)]
        assert expanded == [
            {name: frozenset(label for s, e, label in own if s < te and ts < e)
             for name, own in spans.items()} for ts, te in tokens]
