"""Rule suggestions: each kind of rule, patterns files and their errors, the default news rules."""

from __future__ import annotations

import re
import time

import pytest

from tui_reader.core.segment import Segments
from tui_reader.core.suggest.rules import DEFAULT_RULES, Rule, Suggestion, apply_rules, load_patterns


def suggest(text: str, rules=DEFAULT_RULES, labels=None) -> list[tuple[str, str]]:
    """(label, suggested text) of every suggestion, in text order."""
    return [(s.label, text[s.start:s.end]) for s in apply_rules(text, Segments(text), rules, labels)]


def names(text: str) -> set[str]:
    return {s.source for s in apply_rules(text, Segments(text), DEFAULT_RULES)}


def write(tmp_path, *lines: str):
    path = tmp_path / "patterns.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------
# Scopes and patterns files


def test_scopes_match_sentence_and_line():
    text = "Alpha beta gamma. Delta KEY epsilon. Zeta eta.\nTheta KEY iota. Kappa."
    key = re.compile("KEY")
    assert suggest(text, [Rule("m", "claim", key, "match")]) == [("claim", "KEY"), ("claim", "KEY")]
    assert suggest(text, [Rule("s", "claim", key, "sentence")]) == [
        ("claim", "Delta KEY epsilon."), ("claim", "Theta KEY iota.")]
    assert suggest(text, [Rule("l", "claim", key, "line")]) == [
        ("claim", "Alpha beta gamma. Delta KEY epsilon. Zeta eta."), ("claim", "Theta KEY iota. Kappa.")]


def test_one_suggestion_per_extent_and_label_with_the_highest_confidence():
    text = "Share this article. It rained."
    rules = [Rule("low", "boilerplate", re.compile("Share"), confidence=0.5),
             Rule("high", "boilerplate", re.compile("article"), confidence=0.9)]
    (only,) = apply_rules(text, Segments(text), rules)
    assert only == Suggestion(0, 19, "boilerplate", "rule:high", 0.9)


def test_labels_filter_and_suggestions_never_start_or_end_in_whitespace():
    text = "Para one.\n\n   Share this article.   \n"
    assert suggest(text, labels=["quote"]) == []
    rule = Rule("m", "claim", re.compile(r"\s+Share this article\.\s+"), "match")
    assert suggest(text, [rule]) == [("claim", "Share this article.")]


def test_a_line_rule_starting_with_whitespace_suggests_the_line_it_matched_not_the_blank_one():
    # `^\s*` may start matching on the blank line above: the suggestion is still its line.
    text = "Some story text.\n\n\nPublished 2 November 2018\nOpinion\n"
    assert ("boilerplate", "Published 2 November 2018") in suggest(text)
    rule = Rule("l", "claim", re.compile(r"^\s*Opinion$", re.M), "line")
    assert suggest(text, [rule]) == [("claim", "Opinion")]


def test_unless_drops_a_suggestion_whose_extent_holds_a_match():
    text = "He said it was fine. She said, “We will see about that.”"
    rule = Rule("said", "quote", re.compile(r"\bsaid\b"), "sentence", unless=re.compile("“"))
    assert suggest(text, [rule]) == [("quote", "He said it was fine.")]


def test_patterns_file_phrase_regex_scope_name_confidence_unless(tmp_path):
    path = write(
        tmp_path,
        '{"label": "boilerplate", "pattern": "sign  up today"}',
        '',
        '{"label": "quote", "regex": "(?i)\\\\bsaid\\\\b", "scope": "match", "name": "said",'
        ' "confidence": 0.4}',
        '{"label": "claim", "regex": "GDP", "scope": "line", "unless": "forecast"}',
    )
    rules = load_patterns(path)
    assert [r.name for r in rules] == ["patterns:1", "said", "patterns:4"]
    assert rules[1].confidence == 0.4 and rules[1].scope == "match"
    text = "Please SIGN  UP\ttoday. Signup today is not it. He Said so.\nGDP grew.\nGDP forecast cut.\n"
    assert suggest(text, rules) == [
        ("boilerplate", "Please SIGN  UP\ttoday."),  # a phrase: any case, any spacing, whole words
        ("quote", "Said"),
        ("claim", "GDP grew."),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["label", "pattern"]', 'needs a "label"'),
        ('{"pattern": "share"}', 'needs a "label"'),
        ('{"label": "quote"}', 'needs a "pattern"'),
        ('{"label": "quote", "pattern": "   "}', 'needs a "pattern"'),
        ('{"label": "quote", "regex": ""}', 'needs a "pattern"'),
        ('{"label": "quote", "regex": "(unclosed"}', "bad regex"),
        ('{"label": "quote", "pattern": "x", "scope": "paragraph"}',
         "scope must be one of match, sentence, line"),
        ('{"label": "quote", "pattern": "x", "unless": "[z"}', "bad unless"),
        ('{"label": "quote", "pattern": "x", "unless": 3}', '"unless" must be a regex'),
        ('{"label": "quote", "pattern": "x", "confidence": "high"}', "confidence must be a number"),
        ('{"label": "quote", "pattern": "x", "confidence": 2}', "confidence must be a number"),
    ],
)
def test_patterns_file_errors_name_the_file_and_line(tmp_path, line, message):
    path = write(tmp_path, '{"label": "quote", "pattern": "fine"}', "", line)
    with pytest.raises(ValueError) as err:
        load_patterns(path)
    assert str(err.value).startswith(f"{path}:3: ")
    assert message in str(err.value)


def test_patterns_file_that_cannot_be_read_is_named(tmp_path):
    with pytest.raises(ValueError, match=f"^{re.escape(str(tmp_path / 'missing.jsonl'))}: cannot read"):
        load_patterns(tmp_path / "missing.jsonl")
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes(b'{"label": "quote", "pattern": "caf\xe9"}\n')
    with pytest.raises(ValueError, match="cannot read patterns"):
        load_patterns(bad)


# ------------------------------------------------------------------------------------------------
# The default rules on news snippets


@pytest.mark.parametrize(
    ("text", "boilerplate"),
    [
        ("The mayor resigned.\nShare this article on Facebook\n", "Share this article on Facebook"),
        ("The mayor resigned. Click here to share.\n", "Click here to share."),
        ("Sign up for our daily newsletter to get the news first.\n",
         "Sign up for our daily newsletter to get the news first."),
        ("The mayor resigned.\n© 2024 Example Media. All rights reserved.\n",
         "© 2024 Example Media."),
        ("Copyright Example Media 2023\n", "Copyright Example Media 2023"),
        ("The mayor resigned. (Photo by Jane Roe/AFP via Getty Images)\n",
         "(Photo by Jane Roe/AFP via Getty Images)"),
        ("Protesters gather in the square. | Photo: Reuters\n", "| Photo: Reuters"),
        ("  • facebook\n  • twitter\nStory.\n", "• facebook"),
        ("By Jane Roe\n\nThe mayor resigned.\n", "By Jane Roe"),
        ("Example Times, March 3, 2024\n\nThe mayor resigned.\n", "Example Times, March 3, 2024"),
        ("Story ends.\n\nRELATED:\nMayor's deputy steps in\n", "Mayor's deputy steps in"),
        ("Story ends.\n\nLeave a Reply\n\nYour email address will not be published.\n",
         "Your email address will not be published."),
        ("Disclaimer: the views expressed are the author's own.\n",
         "Disclaimer: the views expressed are the author's own."),
    ],
)
def test_default_boilerplate(text, boilerplate):
    assert ("boilerplate", boilerplate) in suggest(text)


def test_caption_before_a_credit_and_a_dateline_are_boilerplate_not_the_story():
    text = ("LONDON — The mayor resigned on Monday.\n\n"
            "The mayor leaves city hall, in London. (John Doe/AP)\n")
    found = suggest(text)
    assert ("boilerplate", "LONDON —") in found
    assert ("boilerplate", "The mayor leaves city hall, in London.") in found
    assert ("boilerplate", "(John Doe/AP)") in found
    assert not any(t.startswith("The mayor resigned") for _, t in found)


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        ('He said, "We will not back down from this fight."', '"We will not back down from this fight."'),
        ("“We will not back down,” she said.", "“We will not back down,”"),
        ("Le ministre a dit : « Nous ne reculerons pas » hier.", "« Nous ne reculerons pas »"),
        ("Sie sagte: „Wir geben nicht auf“ und ging.", "„Wir geben nicht auf“"),
    ],
)
def test_default_quotation_marks_straight_typographic_and_guillemets(text, quote):
    assert ("quote", quote) in suggest(text)


def test_a_multi_sentence_quote_is_one_suggestion_even_across_broken_lines():
    text = ("“Prices went up. Wages did not. Families\n\nfeel it every week,” the minister said. "
            "Then she left.")
    assert suggest(text) == [
        ("quote", "“Prices went up. Wages did not. Families\n\nfeel it every week,”")]


def test_scare_quotes_titles_and_terms_are_not_quotes():
    text = ("The so-called “reform” passed. He won the “Order of the Aztec Eagle” award. "
            "The deal was labelled as “trafficking in persons” by critics. "
            "He called it “reform” again.")
    assert [q for q in suggest(text) if q[0] == "quote"] == []


def test_straight_quotes_never_pair_across_two_quotations():
    text = 'It was "a deal" and the critics, the "no" camp, were wrong about it.'
    assert suggest(text) == []


def test_reported_speech_and_attribution_suggest_the_sentence():
    text = ("The minister said that the plan would cut costs. "
            "According to the report, costs rose by 3%. "
            "Critics say the figures are wrong. "
            "The weather was fine.")
    found = suggest(text)
    assert ("quote", "The minister said that the plan would cut costs.") in found
    assert ("quote", "According to the report, costs rose by 3%.") in found
    assert ("quote", "Critics say the figures are wrong.") in found
    assert not any("weather" in t for _, t in found)


def test_attribution_of_a_quotation_suggests_the_quotation_not_its_tag():
    text = "“The plan will cut costs for everyone,” the minister said on Monday."
    assert suggest(text) == [("quote", "“The plan will cut costs for everyone,”")]


def test_a_quotation_built_into_its_sentence_suggests_the_sentence():
    text = "The minister expressed her “deep gratitude to the people of this city” on Monday."
    assert suggest(text) == [("quote", text)]


def test_rules_stay_fast_on_long_paragraphs_with_unclosed_quotation_marks():
    text = ("He said, “" + "word " * 20000 + "end. ") + ("a “b c d " * 5000) + ("\n \n" * 20000)
    started = time.perf_counter()
    apply_rules(text, Segments(text), DEFAULT_RULES)
    assert time.perf_counter() - started < 5  # quadratic backtracking would take minutes
