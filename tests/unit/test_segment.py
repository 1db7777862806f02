"""Tests for tui_reader.core.segment: graphemes, words, sentences, paragraphs, selections."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_reader.core.segment import Segments

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧, 5 code points
THUMB = "\U0001f44d\U0001f3fd"  # 👍🏽
FLAG_MX = "\U0001f1f2\U0001f1fd"  # 🇲🇽
E_ACUTE = "e\u0301"  # e + combining acute


def texts(seg: Segments, spans: list[tuple[int, int]]) -> list[str]:
    return [seg.text[s:e] for s, e in spans]


def walk(step, start: int, limit: int = 1000) -> list[int]:
    """Apply a motion until it stops moving; return the visited offsets."""
    out, cur = [], start
    for _ in range(limit):
        nxt = step(cur)
        if nxt == cur:
            break
        out.append(nxt)
        cur = nxt
    return out


# ------------------------------------------------------------------------------------------------
# Graphemes


def test_zwj_family_is_one_grapheme() -> None:
    seg = Segments("a" + FAMILY + "b")
    assert len(FAMILY) == 5
    assert seg.next_grapheme(0) == 1
    assert seg.next_grapheme(1) == 6
    assert seg.next_grapheme(6) == 7
    assert seg.prev_grapheme(6) == 1
    assert seg.prev_grapheme(7) == 6
    assert [seg.is_grapheme_boundary(i) for i in range(8)] == [
        True,
        True,
        False,
        False,
        False,
        False,
        True,
        True,
    ]
    # from inside the cluster, both directions leave it
    assert seg.next_grapheme(3) == 6
    assert seg.prev_grapheme(3) == 1


@pytest.mark.parametrize("cluster", [THUMB, E_ACUTE, FLAG_MX, FAMILY])
def test_multi_codepoint_clusters_are_one_step(cluster: str) -> None:
    text = "x" + cluster + "y"
    seg = Segments(text)
    assert walk(seg.next_grapheme, 0) == [1, 1 + len(cluster), len(text)]
    assert walk(seg.prev_grapheme, len(text)) == [1 + len(cluster), 1, 0]


def test_cjk_one_char_per_step_and_ends() -> None:
    seg = Segments("日本語")
    assert walk(seg.next_grapheme, 0) == [1, 2, 3]
    assert seg.next_grapheme(3) == 3
    assert seg.prev_grapheme(0) == 0
    assert seg.is_grapheme_boundary(0) and seg.is_grapheme_boundary(3)
    assert not seg.is_grapheme_boundary(4) and not seg.is_grapheme_boundary(-1)


def test_snap_out_inside_zwj_family() -> None:
    text = "hi " + FAMILY + " there"
    seg = Segments(text)
    assert seg.snap_out(4, 6) == (3, 8)
    assert seg.snap_out(6, 4) == (3, 8)  # ordered
    assert seg.snap_out(0, 2) == (0, 2)  # already on boundaries
    assert seg.snap_out(-5, 99) == (0, len(text))  # clamped


def test_empty_text() -> None:
    seg = Segments("")
    assert seg.next_grapheme(0) == 0 and seg.prev_grapheme(0) == 0
    assert seg.words() == [] and seg.sentences() == [] and seg.paragraphs() == []
    assert seg.sentence_at(0) is None and seg.word_at(0) is None
    assert seg.next_sentence_start(0) == 0 and seg.prev_sentence_start(0) == 0
    assert seg.snap_selection(0, 0) is None


# ------------------------------------------------------------------------------------------------
# Words

WORD_TEXT = 'Díaz-Canel said: "don\'t" 日本語 ok'
#            0         1         2         3
#            0123456789012345678901234567890


def test_words_exact() -> None:
    seg = Segments(WORD_TEXT)
    assert seg.words() == [(0, 10), (11, 15), (18, 23), (25, 26), (26, 27), (27, 28), (29, 31)]
    assert texts(seg, seg.words()) == ["Díaz-Canel", "said", "don't", "日", "本", "語", "ok"]


def test_w_motion_skips_punctuation() -> None:
    seg = Segments(WORD_TEXT)
    assert walk(seg.next_word_start, 0) == [11, 18, 25, 26, 27, 29, 31]
    assert seg.next_word_start(15) == 18  # from the colon, over `: "`
    assert seg.next_word_start(31) == 31


def test_b_motion() -> None:
    seg = Segments(WORD_TEXT)
    assert walk(seg.prev_word_start, 31) == [29, 27, 26, 25, 18, 11, 0]
    assert seg.prev_word_start(13) == 11  # inside "said": its own start
    assert seg.prev_word_start(11) == 0  # at its start: the previous word
    assert seg.prev_word_start(17) == 11  # from the opening quote
    assert seg.prev_word_start(0) == 0


def test_word_at() -> None:
    seg = Segments(WORD_TEXT)
    assert seg.word_at(4) == (0, 10)  # the hyphen inside Díaz-Canel
    assert seg.word_at(21) == (18, 23)  # the apostrophe inside don't
    assert seg.word_at(15) is None  # colon
    assert seg.word_at(16) is None  # space
    assert seg.word_at(26) == (26, 27)
    assert seg.word_at(31) is None


def test_words_emoji_and_marks_and_edges() -> None:
    text = f"ok{THUMB}go {FAMILY} caf{E_ACUTE} 'quoted' state-run -x- {FLAG_MX}"
    seg = Segments(text)
    assert texts(seg, seg.words()) == [
        "ok",
        THUMB,
        "go",
        FAMILY,
        "caf" + E_ACUTE,
        "quoted",
        "state-run",
        "x",
        FLAG_MX,
    ]
    for s, e in seg.words():
        assert seg.is_grapheme_boundary(s) and seg.is_grapheme_boundary(e)


def test_words_rtl() -> None:
    text = "שלום עולם. مرحبا بالعالم"
    seg = Segments(text)
    assert texts(seg, seg.words()) == ["שלום", "עולם", "مرحبا", "بالعالم"]


# ------------------------------------------------------------------------------------------------
# Sentences


def sents(text: str) -> list[str]:
    seg = Segments(text)
    return texts(seg, seg.sentences())


def test_sentences_news_paragraph_with_abbreviations() -> None:
    text = (
        "Mr. López told reporters the U.S. economy grew 3.5 percent last year. "
        "The report was written by J. K. Rowling and Dr. Smith of the U.N. agency. "
        "Critics, e.g. unions, disagreed. Sales rose at 9 a.m. on Monday. It ended."
    )
    assert sents(text) == [
        "Mr. López told reporters the U.S. economy grew 3.5 percent last year.",
        "The report was written by J. K. Rowling and Dr. Smith of the U.N. agency.",
        "Critics, e.g. unions, disagreed.",
        "Sales rose at 9 a.m. on Monday.",
        "It ended.",
    ]


def test_sentences_initial_in_name_and_title_abbrevs() -> None:
    text = "President Andrés M. López Obrador spoke. Sen. Marco Rubio and Rep. Maria Salazar wrote."
    assert sents(text) == [
        "President Andrés M. López Obrador spoke.",
        "Sen. Marco Rubio and Rep. Maria Salazar wrote.",
    ]


def test_no_abbreviation_is_case_sensitive() -> None:
    assert sents("He said no. Then he left. See No. 5 here.") == [
        "He said no.",
        "Then he left.",
        "See No. 5 here.",
    ]


def test_sentences_headline_byline_paragraph() -> None:
    text = (
        "Mexico imports 700 Cuban doctors\n"
        "By Jane Doe, Staff Writer\n"
        "\n"
        "MEXICO CITY — The president spoke on Tuesday. He thanked Cuba.\n"
        "Share this article\n"
    )
    assert sents(text) == [
        "Mexico imports 700 Cuban doctors",
        "By Jane Doe, Staff Writer",
        "MEXICO CITY — The president spoke on Tuesday.",
        "He thanked Cuba.",
        "Share this article",
    ]


def test_line_break_always_ends_sentence() -> None:
    # even after an abbreviation or mid-phrase: lines are never joined
    assert sents("Meeting with Mr.\nSmith today\nand tomorrow") == [
        "Meeting with Mr.",
        "Smith today",
        "and tomorrow",
    ]


def test_sentences_closing_quotes() -> None:
    assert sents('He said "no." Then left.') == ['He said "no."', "Then left."]
    assert sents("She wrote “it is over.” Nobody replied.") == [
        "She wrote “it is over.”",
        "Nobody replied.",
    ]
    assert sents("(This was expected.) Markets fell.") == ["(This was expected.)", "Markets fell."]


def test_question_followed_by_lowercase_does_not_split() -> None:
    assert sents('"Why?" he asked. Nobody knew.') == ['"Why?" he asked.', "Nobody knew."]


def test_sentences_runs_of_enders() -> None:
    assert sents("Really?! Yes... Wait… what? No!!") == [
        "Really?!",
        "Yes...",
        "Wait… what?",
        "No!!",
    ]


def test_sentences_cjk() -> None:
    assert sents("日本語です。次の文！最後？") == ["日本語です。", "次の文！", "最後？"]
    assert sents("彼は「行く。」と言った。") == ["彼は「行く。」", "と言った。"]


def test_sentences_leading_and_trailing_blank_lines() -> None:
    text = "\n\n   \n  First one.  Second one.\t\n\n \n"
    seg = Segments(text)
    assert texts(seg, seg.sentences()) == ["First one.", "Second one."]
    s0, e0 = seg.sentences()[0]
    assert text[s0] == "F" and text[e0 - 1] == "."


def test_whitespace_only_text_has_no_sentences() -> None:
    seg = Segments(" \n\t\n  ")
    assert seg.sentences() == [] and seg.paragraphs() == []
    assert seg.sentence_at(2) is None


SENT_TEXT = "First one here. Second one? Third!\nFourth line"


def test_sentence_motions() -> None:
    seg = Segments(SENT_TEXT)
    starts = [s for s, _ in seg.sentences()]
    assert texts(seg, seg.sentences()) == [
        "First one here.",
        "Second one?",
        "Third!",
        "Fourth line",
    ]
    assert starts == [0, 16, 28, 35]
    # `)` from inside sentence 1 lands on the first char of sentence 2, never on whitespace
    assert seg.next_sentence_start(5) == 16
    assert SENT_TEXT[seg.next_sentence_start(5)] == "S"
    assert seg.next_sentence_start(15) == 16  # from the space between them
    # repeated `)` visits every sentence, then stops
    assert walk(seg.next_sentence_start, 0) == [16, 28, 35]
    assert seg.next_sentence_start(40) == 40
    # `(` walks back
    assert walk(seg.prev_sentence_start, len(SENT_TEXT)) == [35, 28, 16, 0]
    assert seg.prev_sentence_start(20) == 16  # inside: start of the current sentence
    assert seg.prev_sentence_start(16) == 0  # at a start: the previous sentence
    assert seg.prev_sentence_start(0) == 0


def test_sentence_at() -> None:
    seg = Segments(SENT_TEXT)
    assert seg.sentence_at(0) == (0, 15)
    assert seg.sentence_at(14) == (0, 15)
    assert seg.sentence_at(15) == (16, 27)  # whitespace: the next sentence
    assert seg.sentence_at(34) == (35, 46)  # the newline
    assert seg.sentence_at(len(SENT_TEXT)) == (35, 46)  # at the end: the previous one
    padded = Segments("  One. Two.  ")
    assert padded.sentence_at(0) == (2, 6)
    assert padded.sentence_at(12) == (7, 11)


def test_real_excerpt() -> None:
    # From a seed article (Fox News, 2023), lightly shortened.
    text = (
        "Rep. Vicente Gonzalez, D-Texas, gives his take on tackling the border crisis after the "
        'expiration of Title 42 on "Your World."\n'
        "\n"
        "Cuban President Miguel Diaz-Canel, right, and his Mexican counterpart raise their hands "
        "at the Revolution Palace in Havana on May 8, 2022. (Yamil Lage/AFP via Getty Images)\n"
        "\n"
        "Recently, Sen. Marco Rubio, R-Fla., and Rep. Maria Elvira Salazar, R-Fla., sent a letter. "
        "I think this is something that is of most concern for U.S. national security. The "
        "Mexican president noted that “there is a shortage of specialists. … We thank the "
        "people,” he said on Oct. 17, 2019.\n"
    )
    assert sents(text) == [
        "Rep. Vicente Gonzalez, D-Texas, gives his take on tackling the border crisis after the "
        'expiration of Title 42 on "Your World."',
        "Cuban President Miguel Diaz-Canel, right, and his Mexican counterpart raise their hands "
        "at the Revolution Palace in Havana on May 8, 2022.",
        "(Yamil Lage/AFP via Getty Images)",
        "Recently, Sen. Marco Rubio, R-Fla., and Rep. Maria Elvira Salazar, R-Fla., sent a letter.",
        "I think this is something that is of most concern for U.S. national security.",
        "The Mexican president noted that “there is a shortage of specialists. …",
        "We thank the people,” he said on Oct. 17, 2019.",
    ]


# ------------------------------------------------------------------------------------------------
# Paragraphs

PARA_TEXT = "\n  Title line\n\nFirst para line one.\nLine two.\n \t\n\nSecond para.\n\n"


def test_paragraphs() -> None:
    seg = Segments(PARA_TEXT)
    assert texts(seg, seg.paragraphs()) == [
        "Title line",
        "First para line one.\nLine two.",
        "Second para.",
    ]


def test_paragraph_motions() -> None:
    seg = Segments(PARA_TEXT)
    starts = [s for s, _ in seg.paragraphs()]
    assert starts == [3, 15, 50]
    assert walk(seg.next_paragraph_start, 0) == [3, 15, 50]
    assert seg.next_paragraph_start(20) == 50
    assert seg.next_paragraph_start(50) == 50  # none after: unchanged
    assert walk(seg.prev_paragraph_start, len(PARA_TEXT)) == [50, 15, 3]
    assert seg.prev_paragraph_start(20) == 15
    assert seg.prev_paragraph_start(15) == 3
    assert seg.prev_paragraph_start(2) == 2  # none before: unchanged
    assert seg.paragraph_at(40) == (15, 45)


# ------------------------------------------------------------------------------------------------
# Selection snapping

SEL_TEXT = "The quick brown fox. " + FAMILY + " jumps"
#           0         1         2


def test_snap_selection_expands_mid_word() -> None:
    seg = Segments(SEL_TEXT)
    assert seg.snap_selection(5, 12) == (4, 15)  # "uick br" -> "quick brown"
    assert seg.snap_selection(12, 5) == (4, 15)  # reversed
    assert seg.snap_selection(4, 10) == (4, 9)  # "quick " -> trailing space trimmed


def test_snap_selection_trims_and_rejects_whitespace() -> None:
    seg = Segments(SEL_TEXT)
    assert seg.snap_selection(3, 11) == (4, 15)  # " quick b" -> "quick brown"
    assert seg.snap_selection(9, 10) is None  # a single space
    assert seg.snap_selection(19, 21) == (19, 20)  # ". " -> the period
    assert seg.snap_selection(20, 21) is None
    assert seg.snap_selection(7, 7) is None  # empty


def test_snap_selection_without_words() -> None:
    seg = Segments(SEL_TEXT)
    assert seg.snap_selection(5, 12, to_words=False) == (5, 12)  # mid-word kept
    assert seg.snap_selection(3, 10, to_words=False) == (4, 9)  # whitespace trimmed
    # still snaps out of the ZWJ family (offsets 21..26)
    assert seg.snap_selection(23, 25, to_words=False) == (21, 26)
    assert seg.snap_selection(22, 29, to_words=False) == (21, 29)
    assert seg.snap_selection(-3, 500, to_words=False) == (0, len(SEL_TEXT))


def test_snap_selection_emoji_word() -> None:
    seg = Segments(SEL_TEXT)
    assert seg.snap_selection(23, 25) == (21, 26)
    assert seg.snap_selection(24, 29) == (21, 32)  # family + "jumps"


# ------------------------------------------------------------------------------------------------
# Properties

PIECES = (
    list("abZx7'-\"”),")
    + ["Mr", "U.S", "e.g"]
    + list("   \n\n\t..!?…")
    + [FAMILY, THUMB, FLAG_MX, "\u200d", "\u0301", E_ACUTE, "\U0001f1f2"]
    + list("日本。！」שم")
)


def _check_spans(seg: Segments, spans: list[tuple[int, int]]) -> None:
    text = seg.text
    prev_end = 0
    for s, e in spans:
        assert 0 <= prev_end <= s < e <= len(text)
        assert seg.is_grapheme_boundary(s) and seg.is_grapheme_boundary(e)
        assert not text[s : seg.next_grapheme(s)].isspace()
        assert not text[seg.prev_grapheme(e) : e].isspace()
        prev_end = e


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=60), st.data())
def test_properties(pieces: list[str], data: st.DataObject) -> None:
    text = "".join(pieces)
    seg = Segments(text)
    n = len(text)

    sentences = seg.sentences()
    _check_spans(seg, sentences)
    _check_spans(seg, seg.paragraphs())
    _check_spans(seg, seg.words())

    # every non-whitespace character is in exactly one sentence; no sentence crosses a line
    covered = [0] * n
    for s, e in sentences:
        assert "\n" not in text[s:e]
        for i in range(s, e):
            covered[i] += 1
    for i, ch in enumerate(text):
        assert covered[i] <= 1
        if not ch.isspace():
            assert covered[i] == 1, (i, ch)

    # `)` and `(` step exactly through the sentence starts
    starts = [s for s, _ in sentences]
    for a, b in zip(starts, starts[1:], strict=False):
        assert seg.next_sentence_start(a) == b
        assert seg.prev_sentence_start(b) == a

    # motions land on grapheme boundaries
    off = data.draw(st.integers(0, n))
    for motion in (seg.next_grapheme, seg.prev_grapheme, seg.next_word_start, seg.prev_word_start):
        assert seg.is_grapheme_boundary(motion(off))

    # selections
    a = data.draw(st.integers(-2, n + 2))
    b = data.draw(st.integers(-2, n + 2))
    plain = seg.snap_selection(a, b, to_words=False)
    worded = seg.snap_selection(a, b, to_words=True)
    lo, hi = sorted((max(0, min(a, n)), max(0, min(b, n))))
    if plain is None:
        snapped = seg.snap_out(lo, hi)
        assert lo == hi or text[snapped[0] : snapped[1]].isspace()
    else:
        assert worded is not None
        assert worded[0] <= plain[0] and plain[1] <= worded[1]
    for snapped in (plain, worded):
        if snapped is None:
            continue
        s, e = snapped
        assert 0 <= s < e <= n
        assert seg.is_grapheme_boundary(s) and seg.is_grapheme_boundary(e)
        assert not text[s : seg.next_grapheme(s)].isspace()
        assert not text[seg.prev_grapheme(e) : e].isspace()


# ------------------------------------------------------------------------------------------------
# Speed sanity (no timing assertion: queries must stay O(log n))


def test_speed_sanity_50k() -> None:
    para = (
        "Mr. López said the U.S. economy grew 3.5 percent. "
        f"Critics {THUMB} disagreed! Díaz-Canel’s 日本語です。 {FAMILY} caf{E_ACUTE} ok?\n"
    )
    text = ((para + "\n") * (50_000 // (len(para) + 1) + 1))[:50_000]
    seg = Segments(text)
    n = len(text)
    assert len(seg.sentences()) > 1000
    for i in range(1000):
        off = (i * 7919) % (n + 1)
        seg.is_grapheme_boundary(off)
        seg.next_grapheme(off)
        seg.prev_grapheme(off)
        seg.snap_out(off, off + 13)
        seg.next_word_start(off)
        seg.prev_word_start(off)
        seg.word_at(off)
        seg.sentence_at(off)
        seg.next_sentence_start(off)
        seg.prev_sentence_start(off)
        seg.next_paragraph_start(off)
        seg.prev_paragraph_start(off)
        seg.snap_selection(off, off + 40)
        seg.snap_selection(off, off + 40, to_words=False)
