"""Bytes to canonical text: decoding, newlines, Markdown to plain text with style ranges.

The canonical text of a document is what a reader sees; every span offset is a code-point index
into it (end exclusive). ``display_safe`` maps that text to something safe to paint in a terminal
without changing its length, so screen positions still map one-to-one to offsets.

No Textual or Rich import here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

__all__ = [
    "STYLE_KINDS",
    "DecodeError",
    "StyleRange",
    "canonical",
    "decode",
    "display_safe",
    "markdown_to_text",
    "normalize_newlines",
    "text_sha256",
]

STYLE_KINDS = ("heading", "emphasis", "strong", "code", "quote", "link", "strike")


class DecodeError(InputError):
    """The input cannot become a document; ``str(err)`` is a short reason."""


# --------------------------------------------------------------------------------------------
# Decoding

_BOM_UTF8 = b"\xef\xbb\xbf"
_BOM_UTF16_LE = b"\xff\xfe"
_BOM_UTF16_BE = b"\xfe\xff"

_SNIFF_CHARS = 8192
_CONTROL_RATIO = 0.10
# C0 controls other than tab, newline, carriage return and form feed (NUL is caught earlier).
_SUSPECT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def _decode_with(data: bytes, offset: int, codec: str, label: str) -> str:
    try:
        return data[offset:].decode(codec)
    except UnicodeDecodeError as err:
        bad = err.object[err.start]
        raise DecodeError(
            f"not {label} (invalid byte 0x{bad:02x} at position {offset + err.start})"
        ) from None


def decode(data: bytes) -> str:
    """Decode file bytes to text.

    A UTF-8 BOM selects UTF-8 (BOM dropped); a UTF-16 LE/BE BOM selects UTF-16 (BOM dropped);
    anything else must be strict UTF-8. Raises :class:`DecodeError` for empty, whitespace-only,
    binary-looking (NUL bytes, many control characters) or undecodable input.
    """
    if not data:
        raise DecodeError("empty file")
    if data.startswith(_BOM_UTF8):
        text = _decode_with(data, 3, "utf-8", "UTF-8")
    elif data.startswith(_BOM_UTF16_LE):
        text = _decode_with(data, 2, "utf-16-le", "UTF-16")
    elif data.startswith(_BOM_UTF16_BE):
        text = _decode_with(data, 2, "utf-16-be", "UTF-16")
    else:
        if b"\x00" in data:
            raise DecodeError("binary file (NUL bytes)")
        text = _decode_with(data, 0, "utf-8", "UTF-8")
    if not text:
        raise DecodeError("empty file")
    if "\x00" in text:  # UTF-16 input holding U+0000
        raise DecodeError("binary file (NUL bytes)")
    if text.isspace():
        raise DecodeError("whitespace-only file")
    sample = text[:_SNIFF_CHARS]
    controls = len(_SUSPECT_CONTROL.findall(sample))
    if controls > _CONTROL_RATIO * len(sample):
        raise DecodeError("binary file (control characters)")
    return text


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n``; nothing else changes."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def text_sha256(text: str) -> str:
    """Hex SHA-256 of the UTF-8 encoding of ``text``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Style ranges


@dataclass(frozen=True, slots=True)
class StyleRange:
    """A display style over ``text[start:end]`` of the canonical text (code points)."""

    start: int
    end: int
    kind: str  # one of STYLE_KINDS
    value: str = ""  # heading: "1".."6"; link: the href; otherwise ""

    def to_json(self) -> list[Any]:
        return [self.start, self.end, self.kind, self.value]

    @classmethod
    def from_json(cls, item: list[Any] | tuple[Any, ...]) -> StyleRange:
        if not isinstance(item, list | tuple) or len(item) not in (3, 4):
            raise InputError(f"style range must be [start, end, kind, value], got {item!r}")
        start, end, kind = item[0], item[1], item[2]
        value = item[3] if len(item) == 4 else ""
        if (
            not isinstance(start, int)
            or not isinstance(end, int)
            or isinstance(start, bool)
            or isinstance(end, bool)
            or not isinstance(kind, str)
            or not isinstance(value, str)
        ):
            raise InputError(f"malformed style range {item!r}")
        return cls(start, end, kind, value)


# --------------------------------------------------------------------------------------------
# Markdown

@cache
def _markdown_parser() -> MarkdownIt:
    """Built on first use: markdown-it costs ~30 ms to import, and the app rarely needs it."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

_INLINE_STYLE = {
    "em_open": "emphasis",
    "strong_open": "strong",
    "s_open": "strike",
}
_INLINE_CLOSE = {"em_close", "strong_close", "s_close", "link_close"}


class _Open:
    """A style range whose end is not known yet; ``start`` is None until text arrives."""

    __slots__ = ("start", "kind", "value", "with_prefix")

    def __init__(self, start: int | None, kind: str, value: str) -> None:
        self.start = start
        self.kind = kind
        self.value = value
        # True when a list marker is set after this range opened: the marker is inside it.
        self.with_prefix = False


class _Renderer:
    """Walks markdown-it tokens and writes plain text plus style ranges.

    Block separators and list markers are written lazily, just before the first text of a block,
    so empty blocks leave no trace and nothing trails the last block.
    """

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.ranges: list[StyleRange] = []
        self.stack: list[_Open] = []
        self.block_start = True  # the next text begins a new block
        self.last_in_list = False  # the last written block sat inside a list
        self.prefix = ""  # pending list marker ("• ", "3. ", indented)
        self.lists: list[list[int]] = []  # per open list: [ordered (0/1), next number]
        self.table_row = 0
        self.table_cell = 0

    # -- writing ------------------------------------------------------------------------------

    def _write(self, s: str) -> None:
        self.parts.append(s)
        self.pos += len(s)

    def _resolve(self, with_prefix: bool) -> None:
        for item in self.stack:
            if item.start is None and item.with_prefix == with_prefix:
                item.start = self.pos

    def emit(self, s: str) -> None:
        if not s:
            return
        if self.block_start:
            depth = len(self.lists)
            if self.pos:
                self._write("\n" if depth and self.last_in_list else "\n\n")
            self._resolve(with_prefix=True)
            if self.prefix:
                self._write(self.prefix)
                self.prefix = ""
            elif depth:  # a further block inside a list item: indent under the item
                self._write("  " * depth)
            self._resolve(with_prefix=False)
            self.block_start = False
            self.last_in_list = depth > 0
        self._write(s)

    def open(self, kind: str, value: str = "") -> None:
        self.stack.append(_Open(None if self.block_start else self.pos, kind, value))

    def close(self) -> None:
        item = self.stack.pop()
        if item.start is not None and self.pos > item.start:
            self.ranges.append(StyleRange(item.start, self.pos, item.kind, item.value))

    def new_block(self) -> None:
        self.block_start = True

    # -- blocks -------------------------------------------------------------------------------

    def render(self, tokens: list[Token]) -> None:
        for tok in tokens:
            self.block(tok)

    def block(self, tok: Token) -> None:
        t = tok.type
        if t == "inline":
            self.inline(tok.children or [])
        elif t in ("paragraph_open", "paragraph_close"):
            self.new_block()
        elif t == "heading_open":
            self.new_block()
            self.open("heading", tok.tag[1:])
        elif t == "heading_close":
            self.close()
            self.new_block()
        elif t == "blockquote_open":
            self.new_block()
            self.open("quote")
        elif t == "blockquote_close":
            self.close()
            self.new_block()
        elif t in ("fence", "code_block"):
            self.new_block()
            self.open("code")
            self.emit(tok.content.removesuffix("\n"))
            self.close()
            self.new_block()
        elif t == "html_block":
            self.new_block()
            self.emit(tok.content.removesuffix("\n"))
            self.new_block()
        elif t == "hr":
            self.new_block()
        elif t in ("bullet_list_open", "ordered_list_open"):
            self.new_block()
            ordered = t == "ordered_list_open"
            start = tok.attrGet("start") if ordered else None
            self.lists.append([int(ordered), int(start) if start is not None else 1])
        elif t in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
            self.new_block()
            if not self.lists:
                self.last_in_list = False
        elif t == "list_item_open":
            self.new_block()
            info = self.lists[-1]
            if info[0]:
                marker = f"{info[1]}. "
                info[1] += 1
            else:
                marker = "• "
            self.prefix = "  " * (len(self.lists) - 1) + marker
            for item in self.stack:
                if item.start is None:
                    item.with_prefix = True
        elif t == "list_item_close":
            self.prefix = ""
            self.new_block()
        elif t == "table_open":
            self.new_block()
            self.table_row = 0
        elif t == "table_close":
            self.new_block()
        elif t == "tr_open":
            if self.table_row:
                self.emit("\n")
            self.table_row += 1
            self.table_cell = 0
        elif t in ("th_open", "td_open"):
            if self.table_cell:
                self.emit("\t")
            self.table_cell += 1
        # thead/tbody/tr/th/td closes and anything unknown: nothing to write

    # -- inline -------------------------------------------------------------------------------

    def inline(self, children: list[Token]) -> None:
        for tok in children:
            t = tok.type
            if t in ("text", "text_special", "html_inline"):
                self.emit(tok.content)
            elif t == "code_inline":
                self.open("code")
                self.emit(tok.content)
                self.close()
            elif t == "softbreak":
                self.emit(" ")
            elif t == "hardbreak":
                self.emit("\n")
            elif t in _INLINE_STYLE:
                self.open(_INLINE_STYLE[t])
            elif t == "link_open":
                self.open("link", str(tok.attrGet("href") or ""))
            elif t in _INLINE_CLOSE:
                self.close()
            elif t == "image":
                self.emit(_plain(tok.children or []))
            # anything else (unknown plugins): no text

    # -- result -------------------------------------------------------------------------------

    def result(self) -> tuple[str, list[StyleRange]]:
        raw = "".join(self.parts)
        text = raw.strip()
        shift = len(raw) - len(raw.lstrip())
        n = len(text)
        ranges: list[StyleRange] = []
        for r in self.ranges:
            start = min(max(r.start - shift, 0), n)
            end = min(max(r.end - shift, 0), n)
            if start < end:
                ranges.append(StyleRange(start, end, r.kind, r.value) if shift or r.end > n else r)
        ranges.sort(key=lambda r: (r.start, -r.end))
        return text, ranges


def _plain(children: list[Token]) -> str:
    """Inline tokens as plain text (image alt text), no styles."""
    out: list[str] = []
    for tok in children:
        if tok.type in ("text", "text_special", "code_inline", "html_inline"):
            out.append(tok.content)
        elif tok.type == "softbreak":
            out.append(" ")
        elif tok.type == "hardbreak":
            out.append("\n")
        elif tok.type == "image":
            out.append(_plain(tok.children or []))
    return "".join(out)


def markdown_to_text(source: str) -> tuple[str, list[StyleRange]]:
    """Render Markdown to the plain text a reader sees, plus style ranges over that text.

    No Markdown syntax survives; raw HTML stays literal; blocks are separated by a blank line,
    list items by a newline with a visible marker, table cells by tabs. The text is stripped.
    """
    renderer = _Renderer()
    renderer.render(_markdown_parser().parse(source))
    return renderer.result()


# --------------------------------------------------------------------------------------------
# Canonical text


def canonical(data: bytes | str, kind: str) -> tuple[str, list[StyleRange]]:
    """The canonical text of a file and its style ranges.

    ``kind`` "txt": decoded, newlines normalized, no styles. ``kind`` "md": the same, then
    rendered by :func:`markdown_to_text`. Raises :class:`DecodeError` when the result is empty or
    whitespace-only, ``ValueError`` for an unknown kind.
    """
    if kind not in ("txt", "md"):
        raise ValueError(f"unknown text kind {kind!r} (expected 'txt' or 'md')")
    text = data if isinstance(data, str) else decode(bytes(data))
    text = normalize_newlines(text)
    styles: list[StyleRange] = []
    if kind == "md":
        text, styles = markdown_to_text(text)
        if not text:
            raise DecodeError("empty after Markdown rendering")
    if not text:
        raise DecodeError("empty file")
    if text.isspace():
        raise DecodeError("whitespace-only file")
    return text, styles


# --------------------------------------------------------------------------------------------
# Terminal safety


# Invisible characters a terminal and Rich may disagree on (Rich joins "a\u200db" into one cell,
# most terminals draw two): every format character (Unicode category Cf) but the soft hyphen, and
# the Hangul fillers. They are shown as this stand-in, one cell wide everywhere, so a line's width
# is the same for Textual and for any terminal, and the pane's border stays put. ZWJ inside an emoji
# sequence too: kitty draws 👨‍👩‍👧 in 2 cells, xterm/VTE/tmux in 6, Rich counts 2; 👨␣👩␣👧 is 8 in all.
INVISIBLE_STAND_IN = "\u2423"  # ␣
_HANGUL_FILLERS = (0x115F, 0x1160, 0x3164, 0xFFA0)
# Unicode's format characters (category Cf, Unicode 15), but U+00AD: one cell wide in Rich and
# in terminals alike. Listed, not computed: a scan of every code point costs 0.2 s at start-up.
_FORMAT_RANGES = (
    (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891), (0x8E2, 0x8E2),
    (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)


def _build_safe_table() -> dict[int, int]:
    table: dict[int, int] = {}
    for c in range(0x20):
        if c not in (0x09, 0x0A):
            table[c] = 0x2400 + c  # control pictures: ESC -> ␛, CR -> ␍
    table[0x7F] = 0x2421  # ␡
    for c in range(0x80, 0xA0):
        table[c] = 0xFFFD
    table[0x2028] = 0x2424  # ␤
    table[0x2029] = 0x2424
    for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C):
        table[c] = 0xFFFD
    for c in range(0xD800, 0xE000):
        table[c] = 0xFFFD
    table[0xFEFF] = 0xFFFD
    invisible = [c for low, high in _FORMAT_RANGES for c in range(low, high + 1)]
    for c in (*invisible, *_HANGUL_FILLERS):
        table.setdefault(c, ord(INVISIBLE_STAND_IN))
    return table


def _character_class(code_points: list[int]) -> str:
    """A regex character class matching exactly ``code_points``."""
    ranges: list[list[int]] = []
    for c in sorted(code_points):
        if ranges and c == ranges[-1][1] + 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return "[" + "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]"


_SAFE_TABLE = _build_safe_table()
_UNSAFE = re.compile(_character_class(list(_SAFE_TABLE)))


def display_safe(text: str) -> str:
    """Text safe to paint in a terminal, one code point for one code point.

    C0 controls other than tab and newline become control pictures (U+2400 block), DEL becomes
    ␡, line/paragraph separators ␤, C1 controls, bidi controls, lone surrogates and U+FEFF
    become U+FFFD, other invisible format characters (zero-width space, joiners, word joiner,
    tags, Hangul fillers) become ␣. ``len(display_safe(s)) == len(s)`` always.
    """
    if _UNSAFE.search(text) is None:
        return text
    return text.translate(_SAFE_TABLE)
