"""tui_reader.core.text: decoding, newlines, Markdown to plain text, display safety."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_reader.core.text import (
    STYLE_KINDS,
    DecodeError,
    StyleRange,
    canonical,
    decode,
    display_safe,
    markdown_to_text,
    normalize_newlines,
    text_sha256,
)

SEED = (Path(__file__).resolve().parents[2] / "sample_corpus"
        / "01-mexican-president-amlo-to-lead-international-campaign-against-us-blockade-of-cuba.md")
HEADLINE = "Mexican President AMLO to Lead International Campaign Against US Blockade of Cuba"


def styled(text: str, ranges: list[StyleRange]) -> list[tuple[str, str, str]]:
    """(kind, covered text, value) for each range, in order."""
    return [(r.kind, text[r.start : r.end], r.value) for r in ranges]


def check_ranges(text: str, ranges: list[StyleRange]) -> None:
    for r in ranges:
        assert 0 <= r.start < r.end <= len(text), r
        assert r.kind in STYLE_KINDS


def md(source: str) -> tuple[str, list[StyleRange]]:
    text, ranges = markdown_to_text(source)
    check_ranges(text, ranges)
    assert text == text.strip()
    return text, ranges


# ---------------------------------------------------------------------------------------------
# decode


def test_decode_utf8() -> None:
    assert decode("Grüße, 世界 🎉".encode()) == "Grüße, 世界 🎉"


def test_decode_utf8_bom_removed() -> None:
    assert decode(b"\xef\xbb\xbfhello \xc3\xa9") == "hello é"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_decode_utf16_with_bom(codec: str) -> None:
    bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    text = "Olá 世界 🎉\nline two"
    assert decode(bom + text.encode(codec)) == text


def test_decode_latin1_names_byte_and_position() -> None:
    data = "café au lait".encode("latin-1")
    with pytest.raises(DecodeError) as info:
        decode(data)
    assert str(info.value) == "not UTF-8 (invalid byte 0xe9 at position 3)"


def test_decode_position_after_bom_counts_bom() -> None:
    with pytest.raises(DecodeError, match="0xff at position 5"):
        decode(b"\xef\xbb\xbfab\xff")


def test_decode_nul_bytes_is_binary() -> None:
    with pytest.raises(DecodeError, match=r"^binary file \(NUL bytes\)$"):
        decode(b"hello\x00world")


def test_decode_png_header_is_binary() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06"
    with pytest.raises(DecodeError, match="binary"):
        decode(png)


def test_decode_many_control_chars_is_binary() -> None:
    with pytest.raises(DecodeError, match="binary"):
        decode(b"ab\x01\x02\x03\x04cd\x05\x06\x07\x08" * 10)


def test_decode_few_control_chars_allowed() -> None:
    text = "a normal line with an escape \x1b[1m here\n" * 20
    assert decode(text.encode()) == text
    assert decode(b"col1\tcol2\r\npage\x0cbreak") == "col1\tcol2\r\npage\x0cbreak"


def test_decode_utf16_nul_is_binary() -> None:
    with pytest.raises(DecodeError, match="binary"):
        decode(b"\xff\xfe" + "a\x00b".encode("utf-16-le"))


def test_decode_empty() -> None:
    with pytest.raises(DecodeError, match=r"^empty file$"):
        decode(b"")
    with pytest.raises(DecodeError, match=r"^empty file$"):
        decode(b"\xef\xbb\xbf")


def test_decode_whitespace_only() -> None:
    with pytest.raises(DecodeError, match=r"^whitespace-only file$"):
        decode(b" \n\t\r\n  ")


def test_decode_error_is_value_error() -> None:
    assert issubclass(DecodeError, ValueError)


def test_decode_20mb() -> None:
    line = "Ünïcödé line with 世界 and 🎉 emoji, number {}\n"
    text = "".join(line.format(i) for i in range(350_000))
    data = text.encode()
    assert len(data) > 20_000_000
    assert decode(data) == text
    out, styles = canonical(data.replace(b"\n", b"\r\n"), "txt")
    assert out == text and styles == []


# ---------------------------------------------------------------------------------------------
# newlines, canonical txt, sha


def test_normalize_newlines() -> None:
    assert normalize_newlines("a\r\nb\rc\nd\r\r\ne") == "a\nb\nc\nd\n\ne"
    assert normalize_newlines("  keep\u00a0é\u0301 \n") == "  keep\u00a0é\u0301 \n"


def test_canonical_txt_newlines() -> None:
    text, styles = canonical(b"one\r\ntwo\rthree\n", "txt")
    assert text == "one\ntwo\nthree\n"
    assert styles == []


def test_canonical_txt_preserves_unicode_exactly() -> None:
    # emoji with ZWJ and skin tone, decomposed é (e + combining acute), CJK, Hebrew, Arabic.
    s = "👩🏽‍💻 cafe\u0301 漢字かな 한국어 שלום עולם مرحبا\n**not markdown** # no"
    text, styles = canonical(s.encode(), "txt")
    assert text == s
    assert styles == []
    assert canonical(s, "txt") == (s, [])


def test_canonical_errors() -> None:
    with pytest.raises(DecodeError, match="empty"):
        canonical(b"", "txt")
    with pytest.raises(DecodeError, match="whitespace-only"):
        canonical("   \n", "txt")
    with pytest.raises(DecodeError, match="empty"):
        canonical(b"---\n\n***\n", "md")  # only rules: renders to nothing
    with pytest.raises(ValueError, match="unknown"):
        canonical(b"x", "pdf")


def test_text_sha256() -> None:
    assert text_sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert text_sha256("é") != text_sha256("e\u0301")


# ---------------------------------------------------------------------------------------------
# StyleRange


def test_style_range_json_roundtrip() -> None:
    r = StyleRange(3, 9, "link", "http://x")
    assert r.to_json() == [3, 9, "link", "http://x"]
    assert StyleRange.from_json(r.to_json()) == r
    assert StyleRange.from_json([0, 2, "strong"]) == StyleRange(0, 2, "strong", "")
    with pytest.raises(ValueError):
        StyleRange.from_json(["0", 2, "strong", ""])
    with pytest.raises(AttributeError):
        r.start = 4  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Markdown


def test_md_example_from_spec() -> None:
    text, ranges = md("# Title\n\nSome **bold** and [link](http://x) text\nsecond line")
    assert text == "Title\n\nSome bold and link text second line"
    assert ranges == [
        StyleRange(0, 5, "heading", "1"),
        StyleRange(12, 16, "strong", ""),
        StyleRange(21, 25, "link", "http://x"),
    ]


def test_md_heading_levels_and_setext() -> None:
    text, ranges = md("## Two\n\n###### Six\n\nSetext\n======\n\nSub\n---")
    assert text == "Two\n\nSix\n\nSetext\n\nSub"
    assert styled(text, ranges) == [
        ("heading", "Two", "2"),
        ("heading", "Six", "6"),
        ("heading", "Setext", "1"),
        ("heading", "Sub", "2"),
    ]


def test_md_emphasis_strong_strike_nested() -> None:
    text, ranges = md("a *em* __strong__ ~~gone~~ ***both***")
    assert text == "a em strong gone both"
    assert ("emphasis", "em", "") in styled(text, ranges)
    assert ("strong", "strong", "") in styled(text, ranges)
    assert ("strike", "gone", "") in styled(text, ranges)
    kinds_on_both = {k for k, s, _ in styled(text, ranges) if s == "both"}
    assert kinds_on_both == {"emphasis", "strong"}


def test_md_inline_code() -> None:
    text, ranges = md("run `ls -l **x**` now")
    assert text == "run ls -l **x** now"
    assert styled(text, ranges) == [("code", "ls -l **x**", "")]


def test_md_code_block_and_fence_verbatim() -> None:
    source = (
        "Intro\n\n    indented *code*\n      more\n\n"
        "```python\ndef f(x):\n    return x  # ok\n```\n\nEnd"
    )
    text, ranges = md(source)
    assert text == "Intro\n\nindented *code*\n  more\n\ndef f(x):\n    return x  # ok\n\nEnd"
    assert styled(text, ranges) == [
        ("code", "indented *code*\n  more", ""),
        ("code", "def f(x):\n    return x  # ok", ""),
    ]


def test_md_raw_html_stays_literal() -> None:
    text, ranges = md("<div class='x'>\n<b>raw</b>\n</div>\n\nSome <em>inline</em> &lt;tag&gt;")
    assert text == "<div class='x'>\n<b>raw</b>\n</div>\n\nSome <em>inline</em> <tag>"
    assert ranges == []


def test_md_backslash_escapes_and_entities() -> None:
    text, ranges = md(r"\*not em\* \# \[x\](y) a\_b &amp; &copy; &#35;")
    assert text == "*not em* # [x](y) a_b & © #"
    assert ranges == []


def test_md_soft_and_hard_breaks() -> None:
    text, _ = md("soft\nbreak\n\ntwo spaces  \nnext\\\nbackslash")
    assert text == "soft break\n\ntwo spaces\nnext\nbackslash"


def test_md_bullet_list() -> None:
    text, _ = md("Before\n\n- one\n- two\n* other list\n\nAfter")
    assert text == "Before\n\n• one\n• two\n\n• other list\n\nAfter"


def test_md_loose_list_is_rendered_tight() -> None:
    text, _ = md("- one\n\n- two\n\n- three")
    assert text == "• one\n• two\n• three"


def test_md_ordered_list_start() -> None:
    text, _ = md("3. three\n4. four\n9. five, not nine")
    assert text == "3. three\n4. four\n5. five, not nine"


def test_md_nested_list() -> None:
    text, ranges = md("- top **b**\n  - nested\n    1. deep\n    2. deeper\n- back")
    assert text == "• top b\n  • nested\n    1. deep\n    2. deeper\n• back"
    assert styled(text, ranges) == [("strong", "b", "")]


def test_md_list_item_continuation_paragraph() -> None:
    text, _ = md("1. first\n\n   still first\n2. second")
    assert text == "1. first\n  still first\n2. second"


def test_md_table() -> None:
    source = "| Name | Role |\n|------|:----:|\n| **Ann** | lead |\n| Bob |  |\n\nAfter"
    text, ranges = md(source)
    assert text == "Name\tRole\nAnn\tlead\nBob\t\n\nAfter"
    assert "|" not in text and "---" not in text
    assert styled(text, ranges) == [("strong", "Ann", "")]


def test_md_blockquote() -> None:
    text, ranges = md("Said:\n\n> to be *or*\n> not\n\n> second\n\nDone")
    assert text == "Said:\n\nto be or not\n\nsecond\n\nDone"
    assert styled(text, ranges) == [
        ("quote", "to be or not", ""),
        ("emphasis", "or", ""),
        ("quote", "second", ""),
    ]


def test_md_blockquote_multi_paragraph_one_range() -> None:
    text, ranges = md("> one\n>\n> two")
    assert text == "one\n\ntwo"
    assert styled(text, ranges) == [("quote", "one\n\ntwo", "")]


def test_md_quote_in_list_excludes_marker() -> None:
    text, ranges = md("- > quoted\n- plain")
    assert text == "• quoted\n• plain"
    assert styled(text, ranges) == [("quote", "quoted", "")]


def test_md_heading_in_list_excludes_marker() -> None:
    text, ranges = md("1. # Big\n2. small")
    assert text == "1. Big\n2. small"
    assert styled(text, ranges) == [("heading", "Big", "1")]


def test_md_image_alt_text() -> None:
    text, ranges = md('See ![a *cat* photo](cat.png "t") here')
    assert text == "See a cat photo here"
    assert all(r.kind != "link" for r in ranges)


def test_md_autolink_and_link_href() -> None:
    text, ranges = md('Go <https://example.org/a> or [site](https://x.y/p?q=1 "title").')
    assert text == "Go https://example.org/a or site."
    assert styled(text, ranges) == [
        ("link", "https://example.org/a", "https://example.org/a"),
        ("link", "site", "https://x.y/p?q=1"),
    ]


def test_md_hr_produces_no_text() -> None:
    text, ranges = md("above\n\n---\n\nbelow\n\n***\n\n___")
    assert text == "above\n\nbelow"
    assert ranges == []


def test_md_no_leading_or_trailing_whitespace() -> None:
    text, ranges = md("\n\n      indented code first\n\nlast  \n\n")
    assert text == "indented code first\n\nlast"
    assert styled(text, ranges) == [("code", "indented code first", "")]


def test_md_empty_constructs_leave_no_ranges() -> None:
    text, ranges = md("#\n\n[](http://x) **x**\n\n``` \n```\n\nend")
    assert text == "x\n\nend"
    assert styled(text, ranges) == [("strong", "x", "")]


def test_canonical_md_crlf() -> None:
    text, ranges = canonical(b"\xef\xbb\xbf# Hi\r\n\r\nline one\r\nline two\r\n", "md")
    assert text == "Hi\n\nline one line two"
    assert ranges == [StyleRange(0, 2, "heading", "1")]


def test_md_real_seed_article() -> None:
    text, ranges = canonical(SEED.read_bytes(), "md")
    check_ranges(text, ranges)
    assert "](" not in text
    assert not any(line.startswith("#") for line in text.split("\n"))
    # The only "**" left is the reader-visible "***" that the source writes escaped (\*\*\*).
    assert [line for line in text.split("\n") if "**" in line] == ["***"]
    assert "Disclaimer:" in text and "**Disclaimer" not in text
    assert text.split("\n")[0] == HEADLINE
    headings = [r for r in ranges if r.kind == "heading"]
    assert headings[0].start == 0
    assert text[headings[0].start : headings[0].end] == HEADLINE
    assert headings[0].value == "1"
    assert ("heading", "Mexico demands lifting of the US embargo against Cuba", "2") in styled(
        text, ranges
    )
    links = [r for r in ranges if r.kind == "link"]
    assert ("link", "Peoples Dispatch", "#") in styled(text, links)


# ---------------------------------------------------------------------------------------------
# display_safe

HOSTILE = (
    "[bold red]x[/] \x1b[2J \x1b]8;;http://evil\x07z\x1b]8;;\x07 \x1b]0;PWNED\x07 \x9b31m \u202e"
)


def assert_terminal_safe(out: str) -> None:
    for ch in out:
        cp = ord(ch)
        assert cp >= 0x20 or ch in "\t\n", repr(ch)
        assert not 0x7F <= cp <= 0x9F, repr(ch)
        assert not 0xD800 <= cp <= 0xDFFF
        assert ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
        assert ch not in "\u2028\u2029\ufeff"


def test_display_safe_hostile_payload() -> None:
    out = display_safe(HOSTILE)
    assert len(out) == len(HOSTILE)
    assert_terminal_safe(out)
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\u202e" not in out
    assert out.startswith("[bold red]x[/] ␛[2J ␛]8;;http://evil␇z")
    assert out.endswith(" \ufffd31m \ufffd")


def test_display_safe_every_bad_code_point() -> None:
    bad = "".join(chr(c) for c in range(0x00, 0xA0)) + "\u2028\u2029\u202a\u202e\u2066\u2069"
    bad += "\u200e\u200f\u061c\ud800\udfff\ufeff"
    out = display_safe(bad)
    assert len(out) == len(bad)
    assert_terminal_safe(out)
    assert out[0x1B] == "␛" and out[0x0D] == "␍" and out[0x00] == "␀" and out[0x7F] == "␡"
    assert out[0x09] == "\t" and out[0x0A] == "\n"
    assert out[0xA0:0xA2] == "␤␤"


def test_display_safe_shows_invisible_characters_as_one_cell_stand_ins() -> None:
    """Zero-width characters are drawn 0 or 1 cells wide depending on the terminal (Rich joins
    "a\u200db" into one cell): each becomes ␣, one cell everywhere, so the layout cannot shift."""
    import unicodedata

    from rich.cells import cell_len

    hostile = "A\u200bB C\u200dD E\u2060F G\u200cH 👨\u200d👩\u200d👧 tag\U000e0067 fill\u3164"
    out = display_safe(hostile)
    assert len(out) == len(hostile)
    assert out == "A␣B C␣D E␣F G␣H 👨␣👩␣👧 tag␣ fill␣"
    assert cell_len(out) == len(out) + 3  # three wide emoji, every other code point one cell
    every_format = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"
                    and c != 0xAD]
    assert all(display_safe(c) in ("␣", "\ufffd") for c in every_format)


def test_display_safe_leaves_normal_text_alone() -> None:
    s = "Plain ASCII\twith tab\nnewline, é, 漢字, שלום, 👩🏽, e\u0301, nbsp\u00a0, soft\u00adhyphen"
    assert display_safe(s) == s
    assert display_safe("") == ""
