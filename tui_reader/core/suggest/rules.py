"""Rule suggestions: boilerplate and quotes a pattern can find, tuned on news text.

A rule has a label, a compiled regex and a scope: ``match`` (the matched text), ``sentence``
(each sentence holding a match) or ``line`` (each line holding a match). Users add rules with
``--patterns FILE``: JSONL, one rule a line, Prodigy-style ``{"label": ..., "pattern": "a
phrase"}`` (case-insensitive, on word boundaries) or ``{"label": ..., "regex": ...}``, each with an
optional ``"scope"`` and ``"name"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from ..segment import Segments

SCOPES = ("match", "sentence", "line")


@dataclass(frozen=True)
class Suggestion:
    start: int
    end: int
    label: str
    source: str  # "rule:<name>" or "model:<name>"
    confidence: float = 1.0

    @property
    def key(self) -> tuple[int, int, str]:
        return self.start, self.end, self.label


@dataclass(frozen=True)
class Rule:
    name: str
    label: str
    regex: re.Pattern[str]
    scope: str = "sentence"
    confidence: float = 0.9


def _rule(name: str, label: str, pattern: str, scope: str = "sentence", confidence: float = 0.9,
          flags: int = re.IGNORECASE) -> Rule:
    return Rule(name, label, re.compile(pattern, flags), scope, confidence)


_OPEN_CLOSE = [("\u201c", "\u201d"), ('"', '"'), ("\u00ab", "\u00bb"), ("\u201e", "\u201c"),
               ("\u300c", "\u300d"), ("\u2018", "\u2019")]
# A quotation: opening mark, at least three words (so "scare quotes" stay out), closing mark;
# it may run over several sentences but never over a blank line.
_QUOTE_BODIES = "|".join(
    rf"{re.escape(o)}(?:(?!\n\s*\n)[^{re.escape(c)}{re.escape(o) if o != c else ''}]){{12,}}?"
    rf"{re.escape(c)}"
    for o, c in _OPEN_CLOSE
)

DEFAULT_RULES: tuple[Rule, ...] = (
    # Boilerplate: prompts, credits, legal text, navigation.
    _rule("share-prompt", "boilerplate",
          r"\b(share (this|on|via)|click (here )?to share|tweet this|share this article|"
          r"feel free to (repost|share)|repost and share)\b"),
    _rule("follow-prompt", "boilerplate",
          r"\b(follow us|like us on|join us on|subscribe to our (telegram|youtube|channel)|"
          r"find us on)\b"),
    _rule("social-link", "boilerplate",
          r"^\W{0,3}(facebook|twitter|x|instagram|telegram|whatsapp|linkedin|google plus|"
          r"email|print|reddit|pinterest|copy link)\W{0,3}$", scope="line", confidence=0.95),
    _rule("newsletter", "boilerplate",
          r"\b(newsletter|sign up (for|to)|subscribe (now|today|to)|to receive .{0,40}daily|"
          r"become a (member|patron|subscriber)|support (us|our (work|journalism))|donate)\b"),
    _rule("copyright", "boilerplate",
          r"(©|\(c\) ?\d{4}|\bcopyright\b|\ball rights reserved\b|\bthe original source of "
          r"this article\b)"),
    _rule("disclaimer", "boilerplate",
          r"\b(disclaimer|the views expressed|do not necessarily reflect|not responsible for|"
          r"the contents of this article are of sole responsibility|may not be reproduced)\b"),
    _rule("photo-credit", "boilerplate",
          r"(\|\s*photo\s*:|\b(photo|image|video)\s*(credit)?\s*:|\bgetty images\b|"
          r"\b(ap|reuters|afp|efe) photo\b|\(photo:|\bfile photo\b)", scope="line"),
    _rule("translate-prompt", "boilerplate",
          r"\b(translate website|can be read in \d+ languages|read more\b|advertisement\b|"
          r"related (articles|stories|coverage)\b|more from\b|recommended for you\b)"),
    _rule("short-nav-line", "boilerplate",
          r"^\s*(•\s*)?(live|audio only|video|news|home|menu|search|sign in|log in|opinion|"
          r"trending|close)(\s*[>›|/].{0,40})?\s*$", scope="line", confidence=0.8),
    _rule("byline-date", "boilerplate",
          r"^\s*(published|updated|posted)\b.{0,40}\d{4}\s*$", scope="line", confidence=0.8),
    # Quotes: quoted speech in any common quotation marks, and reported speech.
    Rule("quotation-marks", "quote", re.compile(_QUOTE_BODIES), scope="match", confidence=0.85),
    _rule("attribution", "quote",
          r"\b(said|says|told (reporters|the|a|an)|according to|stated|declared|"
          r"announced that|argued that|claimed that)\b", confidence=0.6),
)


def load_patterns(path: str | Path) -> list[Rule]:
    """Rules from a JSONL patterns file; errors name the file and line."""
    rules: list[Rule] = []
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: cannot read patterns ({err})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            raise ValueError(f"{where}: not valid JSON ({err})") from None
        if not isinstance(item, dict) or not isinstance(item.get("label"), str):
            raise ValueError(f"{where}: a rule needs a \"label\" and a \"pattern\" or \"regex\"")
        scope = item.get("scope", "sentence")
        if scope not in SCOPES:
            raise ValueError(f"{where}: scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        if isinstance(item.get("pattern"), str) and item["pattern"].strip():
            words = r"\s+".join(re.escape(w) for w in item["pattern"].split())
            regex = re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)
        elif isinstance(item.get("regex"), str):
            try:
                regex = re.compile(item["regex"])
            except re.error as err:
                raise ValueError(f"{where}: bad regex ({err})") from None
        else:
            raise ValueError(f"{where}: a rule needs a \"pattern\" (text) or a \"regex\"")
        name = str(item.get("name") or f"{path.stem}:{number}")
        rules.append(Rule(name, item["label"], regex, scope, float(item.get("confidence", 0.9))))
    return rules


def _line_bounds(text: str, offset: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    end = len(text) if end == -1 else end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def apply_rules(text: str, segments: Segments, rules: Sequence[Rule],
                labels: Iterable[str] | None = None) -> list[Suggestion]:
    """Every suggestion of ``rules`` on ``text``, one per (extent, label), highest confidence."""
    allowed = set(labels) if labels is not None else None
    best: dict[tuple[int, int, str], Suggestion] = {}
    for rule in rules:
        if allowed is not None and rule.label not in allowed:
            continue
        flags_multiline = rule.scope == "line"
        regex = rule.regex
        if flags_multiline and not regex.flags & re.MULTILINE:
            regex = re.compile(regex.pattern, regex.flags | re.MULTILINE)
        for match in regex.finditer(text):
            if match.end() == match.start():
                continue
            if rule.scope == "match":
                start, end = match.start(), match.end()
            elif rule.scope == "line":
                start, end = _line_bounds(text, match.start())
            else:
                sentence = segments.sentence_at(match.start())
                if sentence is None:
                    continue
                start, end = sentence
            if start >= end:
                continue
            suggestion = Suggestion(start, end, rule.label, f"rule:{rule.name}", rule.confidence)
            old = best.get(suggestion.key)
            if old is None or old.confidence < suggestion.confidence:
                best[suggestion.key] = suggestion
    return sorted(best.values(), key=lambda s: (s.start, s.end, s.label))
