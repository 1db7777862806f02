"""Grapheme, word, sentence and paragraph boundaries of one text.

Offsets are Python ``str`` code-point indices into the canonical text (newlines are ``"\\n"``),
ends exclusive.  :class:`Segments` computes every boundary once, in one linear pass per kind,
and answers each caret query by bisection, so the UI can call it on every keypress.

Rules, briefly:

* Graphemes are extended grapheme clusters (``regex``'s ``\\X``): an emoji ZWJ family, a skin-tone
  emoji, a flag or a letter plus combining marks is one step.
* A word is a run of word characters (letters, digits, marks, underscore) that may contain single
  apostrophes or hyphens between word characters (``don't``, ``Díaz-Canel``); each CJK ideograph,
  kana or hangul syllable is a word of its own; an emoji grapheme is a word; punctuation is not.
* Every line break ends a sentence.  Inside a line a sentence ends after ``. ! ? …`` (or a run
  such as ``?!`` / ``...``) plus closing quotes/brackets, when followed by whitespace or the end of
  the text, and after ``。！？`` (plus closers) with no whitespace needed.  A period does not end a
  sentence after a known abbreviation (``Mr.``, ``U.S.``, ``e.g.`` ...), after a single capital
  initial (``J. K. Rowling``) or a dotted acronym, or when the next word starts with a lowercase
  letter or a digit.  ``?``/``!``/``…`` followed by a lowercase word (``"Why?" he asked``) do not
  end a sentence either, and no terminator ends one when the next thing on the line is another
  terminator (``specialists. … We`` splits after the ``…`` only).
* Paragraphs are runs of non-blank lines separated by blank (empty or whitespace-only) lines.
* Sentences and paragraphs are trimmed of whitespace, at grapheme granularity: a grapheme made
  only of whitespace is trimmed.  (A space followed by a combining mark is one grapheme that is
  not whitespace, so it is kept.)
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import accumulate

import regex

__all__ = ["ABBREVIATIONS", "Segments"]

# --------------------------------------------------------------------------------------------
# Character classes

_GRAPHEME_RE = regex.compile(r"\X")

_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\u30fc\u3005\u3006\u303b"
_EMOJI = r"\p{Extended_Pictographic}\p{Regional_Indicator}"
_JOINERS = "'\u2019\\-\u2010\u2011"  # ' ’ - ‐ ‑ inside a word
_W = rf"[^\W{_CJK}{_EMOJI}]"  # a word character that is not CJK or emoji
# Matches may start or end inside a grapheme (a mark after a space, say); they are snapped out.
_WORD_RE = regex.compile(
    rf"[{_CJK}]"  # one ideograph/kana/hangul syllable per word
    rf"|(?=[{_EMOJI}])\X"  # one emoji grapheme
    rf"|{_W}+(?:[{_JOINERS}]{_W}+)*"
)

_CLOSERS = "\"'\u201d\u2019)\\]\u00bb\u300d\u300f\u203a}"  # " ' ” ’ ) ] » 」 』 › }
_CJK_CLOSERS = "\u300d\u300f\u201d\u2019\uff09)\\]\u3011\u3015\u300b\u3009"
_OPENERS = "\"'\u201c\u2018([{\u00ab\u00bf\u00a1\u2039\u300c\u300e"
_TERMINATORS = ".!?\u2026\u203c\u2047\u2048\u2049\u203d"  # . ! ? … ‼ ⁇ ⁈ ⁉ ‽
# Stdlib ``re`` on purpose: its ``\s`` agrees with ``str.isspace``.
_SENT_END_RE = re.compile(
    rf"(?P<cjk>[\u3002\uff01\uff1f\uff61]+[{_CJK_CLOSERS}]*)"
    rf"|(?P<run>[{_TERMINATORS}]+)(?P<close>[{_CLOSERS}]*)(?=\s|\Z)"
)
_TOKEN_BEFORE_RE = re.compile(r"[\w.]+\Z")
_DOTTED_ACRONYM_RE = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]\Z")
_TOKEN_WINDOW = 40

#: Abbreviations (without the final period) after which a period does not end a sentence.
#: An entry starting with an uppercase letter only matches a token starting with one ("No." but
#: not "no."); lowercase entries match in any case.
ABBREVIATIONS: frozenset[str] = frozenset(
    """
    Mr Mrs Ms Dr Prof Sr Jr St Rep Sen Gov Gen Col Lt Sgt Capt Pres Rev Hon vs etc e.g i.e
    approx No Inc Ltd Co Corp U.S U.K U.N a.m p.m Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov
    Dec
    """.split()
)
_ABBREV_LOWER: dict[str, bool] = {a.lower(): a[0].isupper() for a in ABBREVIATIONS}

Span = tuple[int, int]


def _is_abbreviation(token: str) -> bool:
    """Whether ``token`` (the text before a final period, without it) is a non-ending one."""
    token = token.lstrip(".")
    if not token:
        return False
    needs_upper = _ABBREV_LOWER.get(token.lower())
    if needs_upper is not None:
        return not needs_upper or token[0].isupper()
    if len(token) == 1:  # single initial: "J. K. Rowling", "Andrés M. López"
        return token.isupper()
    return _DOTTED_ACRONYM_RE.match(token) is not None  # "U.S.A", "J.K"


class Segments:
    """Boundaries of one text, computed once (O(n)); every query is O(log n) by bisect."""

    text: str

    def __init__(self, text: str) -> None:
        self.text = text
        n = len(text)
        # Graphemes -------------------------------------------------------------------------
        gb = [0]
        gb.extend(accumulate(map(len, _GRAPHEME_RE.findall(text))))
        self._gb: list[int] = gb
        flags = bytearray(n + 1)
        for b in gb:
            flags[b] = 1
        self._gflags = flags
        # Words, sentences, paragraphs -------------------------------------------------------
        self._words = self._compute_words()
        self._word_starts = [s for s, _ in self._words]
        self._word_ends = [e for _, e in self._words]
        self._sentences = self._compute_sentences()
        self._sent_starts = [s for s, _ in self._sentences]
        self._sent_ends = [e for _, e in self._sentences]
        self._paragraphs = self._compute_paragraphs()
        self._para_starts = [s for s, _ in self._paragraphs]
        self._para_ends = [e for _, e in self._paragraphs]

    # ------------------------------------------------------------------------------------------
    # Graphemes

    def is_grapheme_boundary(self, offset: int) -> bool:
        """True for 0, len(text) and every offset between two grapheme clusters."""
        return 0 <= offset <= len(self.text) and bool(self._gflags[offset])

    def next_grapheme(self, offset: int) -> int:
        """The first grapheme boundary > offset (len(text) at the end)."""
        i = bisect_right(self._gb, offset)
        return self._gb[i] if i < len(self._gb) else len(self.text)

    def prev_grapheme(self, offset: int) -> int:
        """The last grapheme boundary < offset (0 at the start)."""
        i = bisect_left(self._gb, offset) - 1
        return self._gb[i] if i >= 0 else 0

    def _floor(self, offset: int) -> int:
        """Largest boundary <= offset (offset clamped into the text)."""
        offset = min(max(offset, 0), len(self.text))
        return offset if self._gflags[offset] else self.prev_grapheme(offset)

    def _ceil(self, offset: int) -> int:
        """Smallest boundary >= offset (offset clamped into the text)."""
        offset = min(max(offset, 0), len(self.text))
        return offset if self._gflags[offset] else self.next_grapheme(offset)

    def snap_out(self, start: int, end: int) -> tuple[int, int]:
        """Order and clamp the range, then move start down and end up to grapheme boundaries."""
        if end < start:
            start, end = end, start
        return self._floor(start), self._ceil(end)

    def _trim(self, start: int, end: int) -> tuple[int, int]:
        """Drop whitespace-only graphemes from both ends of a boundary-aligned range."""
        text = self.text
        while start < end and text[start].isspace():
            nxt = self.next_grapheme(start)
            if not text[start:nxt].isspace():
                break
            start = nxt
        while end > start and text[end - 1].isspace():
            prv = self.prev_grapheme(end)
            if not text[prv:end].isspace():
                break
            end = prv
        return start, end

    # ------------------------------------------------------------------------------------------
    # Words

    def _compute_words(self) -> list[Span]:
        flags = self._gflags
        words: list[Span] = []
        for m in _WORD_RE.finditer(self.text):
            s, e = m.span()
            if not flags[s]:
                s = self.prev_grapheme(s)
            if not flags[e]:
                e = self.next_grapheme(e)
            if words and s < words[-1][1]:  # snapped into the previous word: merge
                s = words.pop()[0]
            words.append((s, e))
        return words

    def words(self) -> list[tuple[int, int]]:
        """All words as sorted, non-overlapping (start, end) spans (a copy)."""
        return list(self._words)

    def next_word_start(self, offset: int) -> int:
        """Vim ``w``: start of the first word starting after offset (len(text) if none)."""
        i = bisect_right(self._word_starts, offset)
        return self._word_starts[i] if i < len(self._word_starts) else len(self.text)

    def prev_word_start(self, offset: int) -> int:
        """Vim ``b``: the last word start before offset (0 if none).

        That is the start of the word containing offset when offset is inside it but not at its
        start, else the start of the previous word.
        """
        i = bisect_left(self._word_starts, offset) - 1
        return self._word_starts[i] if i >= 0 else 0

    def word_at(self, offset: int) -> tuple[int, int] | None:
        """The word with start <= offset < end, or None (whitespace, punctuation, out of range)."""
        i = bisect_right(self._word_starts, offset) - 1
        if i >= 0 and offset < self._word_ends[i]:
            return self._words[i]
        return None

    def is_word_boundary(self, offset: int) -> bool:
        """Whether ``offset`` is between two graphemes and not inside a word (a word's start or
        end, or outside every word)."""
        if not self.is_grapheme_boundary(offset):
            return False
        word = self.word_at(offset)
        return word is None or word[0] == offset

    def occurrences(self, needle: str) -> list[tuple[int, int]]:
        """Every place ``needle`` occurs exactly (same code points, same case) with both ends on
        word boundaries (see :meth:`is_word_boundary`): ``Reuters`` in ``(Reuters)`` but not in
        ``Reutersberg``, ``北京`` in ``我爱北京`` (each ideograph is a word). Non-overlapping, in
        order; an empty needle has none."""
        if not needle:
            return []
        found: list[tuple[int, int]] = []
        text = self.text
        i = text.find(needle)
        while i != -1:
            end = i + len(needle)
            if self.is_word_boundary(i) and self.is_word_boundary(end):
                found.append((i, end))
                i = text.find(needle, end)
            else:
                i = text.find(needle, i + 1)
        return found

    # ------------------------------------------------------------------------------------------
    # Sentences

    def _ends_sentence(self, m: re.Match[str]) -> bool:
        """Whether a latin terminator match really ends a sentence (see module docstring)."""
        text = self.text
        # The next "word": skip horizontal whitespace and opening quotes/brackets on this line.
        j, n = m.end(), len(text)
        while j < n and text[j] != "\n" and text[j].isspace():
            j += 1
        while j < n and text[j] in _OPENERS:
            j += 1
        nxt = text[j] if j < n else ""
        # `"Why?" he asked`, `specialists. … We thank`: not an end
        if nxt.islower() or (nxt != "" and nxt in _TERMINATORS):
            return False
        run = m.group("run")
        if run != ".":
            return True
        if nxt.isdigit():  # "No. 5", "in 2020. 2021 was"
            return False
        if m.group("close"):  # `the U.S." Then` : a closer after the period means a real end
            return True
        s = m.start()
        lo = max(0, s - _TOKEN_WINDOW)
        tok = _TOKEN_BEFORE_RE.search(text, lo, s)
        if tok is None or (tok.start() == lo and lo > 0):
            return True
        return not _is_abbreviation(tok.group())

    def _compute_sentences(self) -> list[Span]:
        text = self.text
        n = len(text)
        cuts = {0, n}
        i = text.find("\n")
        while i != -1:
            cuts.add(i)
            i = text.find("\n", i + 1)
        for m in _SENT_END_RE.finditer(text):
            if m.lastgroup == "cjk" or self._ends_sentence(m):
                cuts.add(self._ceil(m.end()))
        ordered = sorted(cuts)
        sentences: list[Span] = []
        for a, b in zip(ordered, ordered[1:], strict=False):
            s, e = self._trim(a, b)
            if s < e:
                sentences.append((s, e))
        return sentences

    def sentences(self) -> list[tuple[int, int]]:
        """All sentences: sorted, non-overlapping, trimmed, never empty (a copy)."""
        return list(self._sentences)

    def sentence_at(self, offset: int) -> tuple[int, int] | None:
        """The sentence containing offset; in whitespace, the next one (the last at the end)."""
        return _span_at(self._sentences, self._sent_starts, self._sent_ends, offset)

    def next_sentence_start(self, offset: int) -> int:
        """Vim ``)``: the first sentence start after offset; offset unchanged if none."""
        return _next_start(self._sent_starts, offset)

    def prev_sentence_start(self, offset: int) -> int:
        """Vim ``(``: the last sentence start before offset; offset unchanged if none."""
        return _prev_start(self._sent_starts, offset)

    # ------------------------------------------------------------------------------------------
    # Paragraphs

    def _compute_paragraphs(self) -> list[Span]:
        text = self.text
        n = len(text)
        paragraphs: list[Span] = []
        para_start: int | None = None
        para_end = 0
        pos = 0
        while pos <= n:
            nl = text.find("\n", pos)
            line_end = n if nl == -1 else nl
            if text[pos:line_end].strip():
                if para_start is None:
                    para_start = pos
                para_end = line_end
            elif para_start is not None:
                paragraphs.append((para_start, para_end))
                para_start = None
            if nl == -1:
                break
            pos = nl + 1
        if para_start is not None:
            paragraphs.append((para_start, para_end))
        out: list[Span] = []
        for a, b in paragraphs:
            s, e = self._trim(a, b)
            if s < e:
                out.append((s, e))
        return out

    def paragraphs(self) -> list[tuple[int, int]]:
        """All paragraphs (runs of non-blank lines), trimmed (a copy)."""
        return list(self._paragraphs)

    def paragraph_at(self, offset: int) -> tuple[int, int] | None:
        """The paragraph containing offset; between paragraphs, the next (the last at the end)."""
        return _span_at(self._paragraphs, self._para_starts, self._para_ends, offset)

    def next_paragraph_start(self, offset: int) -> int:
        """``}``: the first paragraph start after offset; offset unchanged if none."""
        return _next_start(self._para_starts, offset)

    def prev_paragraph_start(self, offset: int) -> int:
        """``{``: the last paragraph start before offset; offset unchanged if none."""
        return _prev_start(self._para_starts, offset)

    def next_end(self, unit: str, offset: int) -> int | None:
        """End (exclusive) of the first word, sentence or paragraph that ends after the grapheme
        at ``offset``: where a selection extended by one unit stops. None if there is none."""
        ends = {"word": self._word_ends, "sentence": self._sent_ends,
                "paragraph": self._para_ends}[unit]
        i = bisect_right(ends, self.next_grapheme(offset))
        return ends[i] if i < len(ends) else None

    # ------------------------------------------------------------------------------------------
    # Selections

    def snap_selection(self, start: int, end: int, to_words: bool = True) -> tuple[int, int] | None:
        """Normalise a selection for labelling, or None if it holds nothing but whitespace.

        Orders and clamps the ends, snaps them out to grapheme boundaries, with ``to_words``
        widens a start/end that falls inside a word to that word's start/end, then trims
        whitespace.  An empty selection (start == end) is None.
        """
        if end < start:
            start, end = end, start
        n = len(self.text)
        start, end = min(max(start, 0), n), min(max(end, 0), n)
        if start == end:
            return None
        start, end = self._floor(start), self._ceil(end)
        if to_words:
            w = self.word_at(start)
            if w is not None:
                start = w[0]
            w = self.word_at(end - 1)
            if w is not None and end < w[1]:
                end = w[1]
        start, end = self._trim(start, end)
        return (start, end) if start < end else None


# ------------------------------------------------------------------------------------------------
# Bisection helpers shared by sentences and paragraphs


def _span_at(spans: list[Span], starts: list[int], ends: list[int], offset: int) -> Span | None:
    if not spans:
        return None
    i = bisect_right(starts, offset) - 1
    if i >= 0 and offset < ends[i]:
        return spans[i]
    return spans[i + 1] if i + 1 < len(spans) else spans[-1]


def _next_start(starts: list[int], offset: int) -> int:
    i = bisect_right(starts, offset)
    return starts[i] if i < len(starts) else offset


def _prev_start(starts: list[int], offset: int) -> int:
    i = bisect_left(starts, offset) - 1
    return starts[i] if i >= 0 else offset
