"""The one tokenizer: spaCy's blank tokenizer, and the built-in port that must agree with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_reader.core.formats import tokens as tokmod
from tui_reader.core.formats.tokens import Token, builtin_tokenize, spacy_tokens, tokenize, words
from tui_reader.core.text import canonical

spacy = pytest.importorskip("spacy")
NLP = spacy.blank("en")
CORPUS = Path(__file__).resolve().parents[2] / "sample_corpus"

SENTENCES = [
    'Finance Minister Ana Ruiz said the reform "will halve inflation by 2026". Critics called '
    "the plan reckless.",
    "I don't know, she said; it's the U.S. and Mr. Smith's well-known e-mail at 5 p.m. on Jan. 3.",
    "Prices rose 3.5% to $5,000 (about £4,100) in 1990-2000, can't you see? Yes... and no!",
    "See https://example.org/news/2024?id=7, or www.example.com/a.html.",
    "Sen. Marco Rubio, R-Fla., and Rep. Maria Elvira Salazar, R-Fla., sent a letter.",
    "“Quoted,” he said — ‘single’ ones too; Cuba’s and AMLO's plans.\n\nNew  paragraph\there.",
]


def as_tuples(toks: list[Token]) -> list[tuple[str, int, int, bool]]:
    return [(t.text, t.start, t.end, t.ws) for t in toks]


def spacy_reference(text: str) -> list[tuple[str, int, int, bool]]:
    return as_tuples(spacy_tokens(NLP(text)))


def corpus_texts() -> list[tuple[str, str]]:
    out = []
    for path in sorted(CORPUS.iterdir()):
        kind = {".md": "md", ".markdown": "md", ".txt": "txt"}.get(path.suffix)
        if kind:
            out.append((path.name, canonical(path.read_bytes(), kind)[0]))
    return out


def test_builtin_agrees_with_spacy_on_the_sample_corpus(record_property):
    texts = corpus_texts()
    assert len(texts) == 5
    same = total = 0
    for name, text in texts:
        ours, theirs = set(as_tuples(builtin_tokenize(text))), spacy_reference(text)
        same += sum(1 for t in theirs if t in ours)
        total += len(theirs)
        assert len(ours) >= 0.98 * len(theirs), name
    agreement = same / total
    record_property("builtin_vs_spacy_token_agreement", f"{agreement:.4%} of {total} tokens")
    print(f"built-in tokenizer vs spaCy on sample_corpus: {agreement:.4%} of {total} tokens identical")
    assert agreement >= 0.98


@pytest.mark.parametrize("text", SENTENCES)
def test_builtin_equals_spacy_on_ordinary_sentences(text):
    assert as_tuples(builtin_tokenize(text)) == spacy_reference(text)


def test_builtin_splits_the_documented_cases():
    got = [t.text for t in builtin_tokenize("I don't think it's 3.14, see https://a.org/x?y=1. Well-known!")]
    assert got == ["I", "do", "n't", "think", "it", "'s", "3.14", ",", "see", "https://a.org/x?y=1",
                   ".", "Well", "-", "known", "!"]


def test_builtin_special_cases_are_spacys():
    rules = NLP.tokenizer.rules
    assert set(tokmod._SPECIALS) == set(rules)
    assert all(tokmod._SPECIALS[k] == tuple(t[65] for t in rules[k]) for k in rules)  # 65: ORTH


@pytest.mark.parametrize("text", [
    "", " ", "  lead and trail  ", "a\n\nb \n c\t\td", "The 👨\u200d👩\u200d👧 family 🇲🇽 👍🏽.",
    "日本語の記事です。中文新闻报道。", "قال الرئيس إن الخطة ستنجح، according to AP.",
])
def test_offsets_are_code_points_and_cover_the_text(text):
    for toks in (builtin_tokenize(text), tokenize(text)):
        rebuilt = "".join(t.text + (" " if t.ws else "") for t in toks)
        assert rebuilt == text
        assert all(text[t.start:t.end] == t.text for t in toks)
    assert as_tuples(builtin_tokenize(text)) == spacy_reference(text)


def test_tokenize_uses_spacy_when_installed_and_the_builtin_otherwise(monkeypatch):
    text = "Hello:) world"  # spaCy re-merges the emoticon; the built-in does too
    assert as_tuples(tokenize(text)) == spacy_reference(text)
    assert "spaCy" in tokmod.tokenizer_name()
    monkeypatch.setattr(tokmod, "_spacy_blank", lambda lang: None)
    assert as_tuples(tokenize(text)) == as_tuples(builtin_tokenize(text))
    assert "built-in" in tokmod.tokenizer_name()


def test_words_leave_out_whitespace_tokens():
    toks = tokenize("a\n\nb  c")
    assert [t.text for t in toks] == ["a", "\n\n", "b", " ", "c"]
    assert [t.text for t in words(toks)] == ["a", "b", "c"]
