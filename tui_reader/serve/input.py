"""What a client types, made safe for the app's input parser before it reaches the app.

A remote client can send any bytes. Textual's parser trusts its terminal: invalid UTF-8, a key
code past U+10FFFF or an in-band resize to 10000x10000 crash or swamp the app, and a bracketed
paste that never ends makes it ignore every key. :class:`InputFilter` sits in the server's input
pump (SSH and web alike) and passes on only:

* valid UTF-8 (invalid bytes are dropped) without C1 control characters;
* escape sequences a terminal sends as input: ``ESC`` + one character (Alt, SS3), and CSI
  sequences up to :data:`CSI_LIMIT` characters whose numbers are code points (at most U+10FFFF,
  no surrogates); in-band resize reports are clamped to ``MAX_COLUMNS`` x ``MAX_ROWS``;
  OSC/DCS/APC/PM/SOS strings and X10 mouse reports (never asked for) are dropped;
* bracketed pastes of at most ``PASTE_LIMIT`` bytes: past it :attr:`InputFilter.paste_overflow`
  is set and the caller ends the session; a paste left open for ``PASTE_TIMEOUT`` seconds without
  input is ended for the app (:meth:`InputFilter.expire`), a stray end marker is dropped.

Nothing is held back but an unfinished CSI sequence (at most :data:`CSI_LIMIT` characters): a
lone ESC goes on at once, so the Escape key never waits.
"""

from __future__ import annotations

import codecs
import re

from .common import MAX_COLUMNS, MAX_ROWS, PASTE_LIMIT, PASTE_TIMEOUT

CSI_LIMIT = 64  # characters in one CSI sequence; a longer one is dropped
STRING_LIMIT = 1024  # characters of an OSC/DCS/APC string skipped before giving up on it
PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"
_MAX_NUMBER = 0x10FFFF
_NUMBER = re.compile(r"\d+")
_IN_BAND_RESIZE = re.compile(r"\x1b\[48;([\d:]+);([\d:]+);([\d:]+);([\d:]+)t")

_GROUND, _ESC, _CSI, _CSI_DISCARD, _STRING, _STRING_ESC = range(6)


class InputFilter:
    """One session's input: ``feed(bytes, now) -> bytes`` for the app, with counts for the log."""

    def __init__(self, paste_limit: int = PASTE_LIMIT, paste_timeout: float = PASTE_TIMEOUT) -> None:
        self.paste_limit = paste_limit
        self.paste_timeout = paste_timeout
        self._decoder = codecs.getincrementaldecoder("utf-8")("ignore")
        self._state = _GROUND
        self._sequence = ""  # the escape sequence being read
        self._esc_sent = False  # its ESC already went to the app (it ended a chunk: the Escape key)
        self._string_length = 0
        self.in_paste = False
        self._paste_bytes = 0
        self._last_input = 0.0
        self.paste_overflow = False
        self.dropped = 0  # malformed or absurd sequences and invalid bytes dropped
        self.pastes_ended = 0  # unterminated pastes ended by the timeout

    # ------------------------------------------------------------------------------ input
    def feed(self, data: bytes, now: float) -> bytes:
        """The part of ``data`` the app may see (UTF-8). Sets :attr:`paste_overflow` past the limit."""
        held = len(self._decoder.getstate()[0])
        text = self._decoder.decode(data)
        if held + len(data) - len(self._decoder.getstate()[0]) > len(text.encode("utf-8")):
            self.dropped += 1  # invalid UTF-8 (a Latin-1 terminal, or worse)
        self._last_input = now
        out: list[str] = []
        for ch in text:
            self._step(ch, out)
        if self._state == _ESC and not self._esc_sent:  # a chunk that ends in ESC: the Escape key
            self._emit("\x1b", out)
            self._esc_sent = True
        elif self._state in (_STRING, _STRING_ESC):  # no terminal response spans two reads
            self._state = _GROUND
        result = "".join(out)
        if self.in_paste:
            self._paste_bytes += len(result.encode("utf-8"))
            if self._paste_bytes > self.paste_limit:
                self.paste_overflow = True
        return result.encode("utf-8")

    def expire(self, now: float) -> bytes:
        """The paste end marker when a paste has waited ``paste_timeout`` for its end, else b""."""
        if self.in_paste and now - self._last_input >= self.paste_timeout:
            self.in_paste = False
            self.pastes_ended += 1
            return PASTE_END.encode()
        return b""

    def paste_deadline(self) -> float | None:
        """When :meth:`expire` would end the open paste (monotonic seconds), or None."""
        return self._last_input + self.paste_timeout if self.in_paste else None

    # -------------------------------------------------------------------------- the parser
    def _emit(self, text: str, out: list[str]) -> None:
        out.append(text)

    def _step(self, ch: str, out: list[str]) -> None:
        state = self._state
        code = ord(ch)
        if state == _GROUND:
            if ch == "\x1b":
                self._state, self._sequence, self._esc_sent = _ESC, ch, False
            elif 0x80 <= code <= 0x9F:  # C1 controls: no keyboard sends them
                self.dropped += 1
            else:
                out.append(ch)
        elif state == _ESC:
            if ch == "[":
                self._state, self._sequence = _CSI, self._sequence + ch
            elif ch in "]PX^_":
                self._state, self._string_length = _STRING, 0
                self.dropped += 1
            elif ch == "\x1b":  # ESC ESC: the first was the Escape key
                if not self._esc_sent:
                    out.append("\x1b")
                self._esc_sent = False
            elif 0x80 <= code <= 0x9F:
                self.dropped += 1
                self._state = _GROUND
            else:  # Alt+key, or SS3 (ESC O x: the x follows as a plain character)
                out.append(ch if self._esc_sent else "\x1b" + ch)
                self._state = _GROUND
        elif state in (_CSI, _CSI_DISCARD):
            if 0x20 <= code <= 0x3F:  # parameter and intermediate characters
                if state == _CSI:
                    self._sequence += ch
                    if len(self._sequence) > CSI_LIMIT:
                        self._state = _CSI_DISCARD
                        self.dropped += 1
            elif 0x40 <= code <= 0x7E:  # the final character
                self._state = _GROUND
                if state == _CSI:
                    self._finish_csi(self._sequence + ch, out)
            else:  # not part of a CSI sequence: drop what was read, read this one afresh
                self.dropped += 1
                self._state = _GROUND
                self._step(ch, out)
        elif state == _STRING:
            self._string_length += 1
            if ch == "\x07" or self._string_length > STRING_LIMIT:
                self._state = _GROUND
            elif ch == "\x1b":
                self._state = _STRING_ESC
        elif state == _STRING_ESC:  # ESC \ ends the string; ESC anything else too
            self._state = _GROUND
            if ch != "\\":
                self._step(ch, out)

    def _finish_csi(self, sequence: str, out: list[str]) -> None:
        head = "" if self._esc_sent else "\x1b"
        body = sequence[1:]  # without the ESC
        numbers = [int(n) if len(n) <= 7 else _MAX_NUMBER + 1 for n in _NUMBER.findall(sequence)]
        if any(n > _MAX_NUMBER or 0xD800 <= n <= 0xDFFF for n in numbers):
            self.dropped += 1
            return
        if sequence == PASTE_START:
            if self.in_paste:  # nested: Textual would keep the inner marker as text
                self.dropped += 1
                return
            self.in_paste, self._paste_bytes = True, -len(PASTE_START)
        elif sequence == PASTE_END:
            if not self.in_paste:  # stray (after a paste we ended ourselves)
                self.dropped += 1
                return
            self.in_paste = False
        elif sequence == "\x1b[M":  # X10 mouse report: never asked for (Textual uses SGR mouse)
            self.dropped += 1
            return
        elif match := _IN_BAND_RESIZE.fullmatch(sequence):
            body = _clamped_resize(match)[1:]
        out.append(head + body)


def _clamped_resize(match: re.Match[str]) -> str:
    """An in-band resize report (``CSI 48;rows;cols;ypx;xpx t``) within MAX_ROWS x MAX_COLUMNS."""
    rows, cols, ypx, xpx = (max(1, int(part.partition(":")[0] or 0)) for part in match.groups())
    new_rows, new_cols = min(rows, MAX_ROWS), min(cols, MAX_COLUMNS)
    ypx = max(1, ypx * new_rows // rows)
    xpx = max(1, xpx * new_cols // cols)
    return f"\x1b[48;{new_rows};{new_cols};{ypx};{xpx}t"
