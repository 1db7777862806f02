"""Learned suggestions: the model learns from labels, training data from a project, readiness."""

from __future__ import annotations

import random
import subprocess
import sys
import threading

import pytest

from tests.helpers import make_project
from tui_reader.core.segment import Segments
from tui_reader.core.suggest import learned
from tui_reader.core.suggest.learned import (
    MIN_LABELLED_SENTENCES,
    NONE,
    SentenceModel,
    merge,
    ready,
    sentence_labels,
    suggest,
    training_examples,
)
from tui_reader.core.suggest.rules import Suggestion

LABELS = ["claim", "quote", "opinion", "boilerplate", NONE]
needs_sklearn = pytest.mark.skipif(not learned.available(), reason="scikit-learn is not installed")


# ------------------------------------------------------------------------------------------------
# Synthetic sentences: each label has its own vocabulary, mixed into shared noise words


def _vocab(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(3))
            for _ in range(n)]


def synthetic(seed: int, n: int) -> list[tuple[str, str]]:
    """``n`` sentences, labels in turn; each has 3 of its label's 50 words among 8 noise words."""
    rng = random.Random(seed)
    words = {label: _vocab(i, 50) for i, label in enumerate(LABELS)}
    noise = _vocab(99, 300)
    out = []
    for i in range(n):
        label = LABELS[i % len(LABELS)]
        tokens = rng.sample(words[label], 3) + rng.sample(noise, 8)
        rng.shuffle(tokens)
        out.append((" ".join(tokens).capitalize() + ".", label))
    return out


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    scores = []
    for label in LABELS:
        tp = sum(t == p == label for t, p in zip(truth, predicted))
        fp = sum(p == label != t for t, p in zip(truth, predicted))
        fn = sum(t == label != p for t, p in zip(truth, predicted))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


@needs_sklearn
def test_the_model_gets_better_with_more_labels_and_is_far_above_chance():
    held_out = synthetic(1000, 300)
    truth = [label for _, label in held_out]
    f1 = {}
    for n in (20, 200):
        model = SentenceModel().fit(synthetic(1, n))
        f1[n] = macro_f1(truth, [label for label, _ in model.predict([t for t, _ in held_out])])
    assert f1[200] > f1[20] + 0.2, f1
    assert f1[200] > 0.75, f1  # chance (five balanced classes) is 0.2


@needs_sklearn
def test_predict_gives_a_label_and_a_probability_per_sentence():
    model = SentenceModel().fit(synthetic(2, 100))
    assert set(model.labels) == set(LABELS) and model.n_examples == 100
    out = model.predict([synthetic(3, 5)[0][0], "completely unseen words here"])
    assert len(out) == 2
    assert all(label in LABELS and 0.0 < p <= 1.0 for label, p in out)
    assert model.predict([]) == []


@needs_sklearn
def test_fit_needs_two_labels_and_predict_needs_fit():
    with pytest.raises(ValueError, match="at least two labels"):
        SentenceModel().fit([("a sentence", "claim"), ("another one", "claim")])
    with pytest.raises(ValueError, match="not trained"):
        SentenceModel().predict(["x"])


@needs_sklearn
def test_training_in_a_background_thread_gives_the_same_model():
    data = synthetic(4, 150)
    probe = [t for t, _ in synthetic(5, 40)]
    here = SentenceModel().fit(data).predict(probe)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("p", SentenceModel().fit(data).predict(probe)))
    thread.start()
    thread.join(60)
    assert result["p"] == here


@needs_sklearn
def test_suggest_one_suggestion_per_confident_sentence_of_the_allowed_labels():
    model = SentenceModel().fit(synthetic(6, 200))
    sentences = [t for t, label in synthetic(7, 10) if label in ("claim", "quote", NONE)]
    text = "\n".join(sentences)
    segments = Segments(text)
    found = suggest(model, text, segments, labels=["claim", "quote"], min_confidence=0.0)
    assert found and all(isinstance(s, Suggestion) for s in found)
    assert {(s.start, s.end) for s in found} <= set(segments.sentences())
    assert {s.label for s in found} <= {"claim", "quote"}
    assert all(s.source == "model:linear" and 0 <= s.confidence <= 1 for s in found)
    assert suggest(model, text, segments, labels=["claim", "quote"], min_confidence=1.01) == []


def test_the_module_imports_and_says_clearly_when_scikit_learn_is_missing():
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "from tui_reader.core.suggest import learned, evaluate\n"
        "assert learned.available() is False\n"
        "try:\n"
        "    learned.SentenceModel().fit([('a', 'claim'), ('b', 'none')])\n"
        "except learned.ModelUnavailable as err:\n"
        "    print(err)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pip install 'tui-reader[suggest]'" in done.stdout


# ------------------------------------------------------------------------------------------------
# Which sentences teach the model

TEXT = "One is a claim. Two is said. Three is plain. Four is long and has a short bit. Five. Six."


def test_sentence_labels_majority_cover_partial_skip_and_none_before_the_last_span():
    seg = Segments(TEXT)
    s = {TEXT[a:b]: (a, b) for a, b in seg.sentences()}
    four = s["Four is long and has a short bit."]
    spans = [(*s["One is a claim."], "claim"),
             (s["Two is said."][0], s["Two is said."][1] - 3, "quote"),  # most of the sentence
             (four[1] - 10, four[1], "quote")]  # a short bit of a long sentence
    got = {TEXT[a:b]: label for a, b, label in sentence_labels(seg, spans, complete=False)}
    # Three was read past (it ends before the last span starts) and left unlabelled: none.
    # Four is only partly covered: left out. Five and Six come after the last span: unread.
    assert got == {"One is a claim.": "claim", "Two is said.": "quote", "Three is plain.": NONE}
    done = {TEXT[a:b]: label for a, b, label in sentence_labels(seg, spans, complete=True)}
    assert done["Five."] == NONE and done["Six."] == NONE and "Four is long and has a short bit." not in done


def test_sentence_labels_two_labels_covering_equally_is_left_out():
    seg = Segments("Tied here. Next.")
    got = sentence_labels(seg, [(0, 10, "claim"), (0, 10, "opinion")], complete=True)
    assert got == [(11, 16, NONE)]


def test_training_examples_and_ready_from_a_project(tmp_path):
    project = make_project(tmp_path, {
        "a": "Alpha one. Alpha two. Alpha three. Alpha four.",
        "b": "Beta one. Beta two.",
        "c": "Gamma one. Gamma two.",
        "d": "Delta never touched.",
    })
    text_a = project.document("a").text
    project.add_span("a", 0, text_a.index(" Alpha two"), "claim", "ann")
    project.add_span("a", text_a.index("Alpha three"), text_a.index(" Alpha four"), "quote", "ann")
    project.set_status("b", "ann", "done")  # done with nothing labelled: real negatives
    project.add_span("c", 0, 10, "opinion", "bob")
    examples = training_examples(project, "ann")
    assert sorted(examples) == sorted([
        ("Alpha one.", "claim"), ("Alpha two.", NONE), ("Alpha three.", "quote"),
        ("Beta one.", NONE), ("Beta two.", NONE),
    ])
    everyone = training_examples(project)
    assert ("Gamma one.", "opinion") in everyone and len(everyone) == len(examples) + 1
    assert training_examples(project, "nobody") == []

    assert ready(project, "ann", threshold=2) is True  # 2 labelled sentences, and "none"
    assert ready(project, "ann", threshold=3) is False
    assert ready(project, "bob", threshold=1) is False  # one label only: nothing to tell apart
    assert ready(project, "ann") is False and MIN_LABELLED_SENTENCES == 50


@needs_sklearn
def test_train_from_a_project(tmp_path):
    data = synthetic(8, 60)
    project = make_project(tmp_path, {"doc": "\n".join(t for t, _ in data)})
    offset = 0
    for text, label in data:
        if label != NONE:
            project.add_span("doc", offset, offset + len(text), label, "ann")
        offset += len(text) + 1
    project.set_status("doc", "ann", "done")
    assert ready(project, "ann", threshold=48) and not ready(project, "ann", threshold=49)
    model = learned.train(project, "ann")
    assert model.n_examples == 60 and set(model.labels) == set(LABELS)


def test_merge_keeps_every_rule_suggestion_and_the_model_s_elsewhere():
    rules = [Suggestion(0, 10, "boilerplate", "rule:x", 0.9)]
    model = [Suggestion(0, 10, "claim", "model:linear", 0.95), Suggestion(5, 20, "quote", "model:linear"),
             Suggestion(20, 30, "opinion", "model:linear", 0.7)]
    assert merge(rules, model) == [rules[0], model[2]]
