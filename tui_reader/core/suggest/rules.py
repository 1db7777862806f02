"""Rule suggestions: boilerplate and quotes a pattern can find, tuned on news text.

A rule has a label, a compiled regex and a scope: ``match`` (the matched text), ``sentence``
(each sentence holding a match) or ``line`` (each line holding a match). Users add rules with
``--patterns FILE``: JSONL, one rule a line, Prodigy-style ``{"label": ..., "pattern": "a
phrase"}`` (case-insensitive, on word boundaries) or ``{"label": ..., "regex": ...}``, each with an
optional ``"scope"``, ``"name"``, ``"confidence"`` and ``"unless"`` (a regex: the rule suggests
nothing where the extent it would suggest holds a match of it).

Suggested extents never start or end in whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from ..errors import InputError
from ..segment import Segments
from .suggestion import Suggestion

SCOPES = ("match", "sentence", "line")


@dataclass(frozen=True)
class Rule:
    name: str
    label: str
    regex: re.Pattern[str]
    scope: str = "sentence"
    confidence: float = 0.9
    unless: re.Pattern[str] | None = None  # no suggestion where the extent holds a match of this


def _rule(name: str, label: str, pattern: str, scope: str = "sentence", confidence: float = 0.9,
          flags: int = re.IGNORECASE, unless: re.Pattern[str] | None = None) -> Rule:
    return Rule(name, label, re.compile(pattern, flags), scope, confidence, unless)


_OPEN_CLOSE = [("\u201c", "\u201d"), ('"', '"'), ("\u00ab", "\u00bb"), ("\u201e", "\u201c"),
               ("\u300c", "\u300d"), ("\u2018", "\u2019")]


def _quotation(o: str, c: str) -> str:
    """Opening mark, at least three words (so "scare quotes" stay out), closing mark, at most
    1,500 characters apart; it may run over several sentences and over blank lines (text copied
    from web pages often breaks a sentence around each link), but never over another opening mark.
    A straight ``"`` opens only after a space or an opening bracket and before a non-space, and
    closes only after a non-space and before a non-word character, so the text between two
    quotations is never taken for one. CJK quotations (no spaces) need two characters.

    A quotation opened right after a word (`called it a "cruel and unusual" plan`, `stressed that
    "we ..."`) is built into its sentence: the reporting sentence is the span to suggest (the
    ``integrated-quote`` and ``reported-speech`` rules), and a term in quotation marks without a
    verb of saying (`labelled as "trafficking in persons"`) is no quote at all."""
    if o in "\u300c":
        return rf"{o}[^{c}]{{2,1500}}?{c}"
    oc = re.escape(c) + (re.escape(o) if o != c else "")
    body = rf"[^{oc}]{{1,1500}}?"
    # Three words before the closing mark; adjacent classes are disjoint, so this never
    # backtracks, even on a long paragraph with no closing mark.
    words = rf"(?=[^{oc}\s]*\s+[^{oc}\s]+\s+[^{oc}\s])"
    free = r"(?<!\w )(?<!\w\xa0)"  # not right after a word
    if o == c:
        return rf"{free}(?<![\w.,;:!?]){re.escape(o)}(?=\S){words}{body}(?<=\S){re.escape(c)}(?!\w)"
    return rf"{free}{re.escape(o)}{words}{body}{re.escape(c)}"


_QUOTATION = "|".join(_quotation(o, c) for o, c in _OPEN_CLOSE)
# A quoted title or name (every word capitalised: "Order of the Aztec Eagle") is not speech.
_TITLE = re.compile(
    r"\A\W*(?:[A-Z\d][\w'’-]*|of|the|and|for|in|on|at|a|an|to|de|del|la|el|y)"
    r"(?:[\s,.:;]+(?:[A-Z\d][\w'’-]*|of|the|and|for|in|on|at|a|an|to|de|del|la|el|y))*\W*\Z"
)
# Verbs (and nouns) that report speech or writing.
_SAYING = (
    r"said|says|say|saying|stated|states|stating|declared|declares|announced|announces|"
    r"announcement|argued|argues|claimed|claims|insisted|insists|assured|stressed|stresses|"
    r"warned|warns|explained|explains|indicated|recalled|added|adds|noted|notes|noting|"
    r"denounced|demanded|maintained|maintains|acknowledged|admitted|told \w+|tells \w+|"
    r"suggested|confirmed|emphasi[sz]ed|pointed out|revealed|alleged|wrote|writes|tweeted|"
    r"urged|predicted|promised|denied|asserted|complained|believes|expressed|called"
)
# A sentence that is part of a quotation: it holds one, opens with a quotation mark, closes one
# after punctuation (`...,” he said.`) or opens one after a colon or comma (`he said: “...`).
_QUOTED = re.compile(rf"{_QUOTATION}|\A[\"“«„]|[,.!?…][\"”»]|[:,]\s*[\"“«„]")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_CREDIT = r"(?:photo|getty images|afp|reuters|ap|efe|xinhua|epa|file)"

DEFAULT_RULES: tuple[Rule, ...] = (
    # Boilerplate: prompts, credits, legal text, navigation.
    _rule("share-prompt", "boilerplate",
          r"\b(share (this|on|via)|click (here )?to share|tweet this|share this article|"
          r"feel free to (repost|share)|repost and share|share buttons?)\b"),
    _rule("follow-prompt", "boilerplate",
          r"\b(follow us|like us on|join us on|subscribe to our (telegram|youtube|channel)|"
          r"find us on|follow \w+( \w+)? on (twitter|x|facebook|instagram|telegram|linkedin|"
          r"threads|bluesky))\b"),
    _rule("social-link", "boilerplate",
          r"^[^\S\n]*\W{0,3}(facebook|twitter|x|instagram|telegram|whatsapp|linkedin|google plus|"
          r"email|print|reddit|pinterest|copy link)\W{0,3}$", scope="line", confidence=0.95),
    _rule("newsletter", "boilerplate",
          r"\b(newsletter|sign up (for|to)|subscribe (now|today|to)|to receive .{0,40}daily|"
          r"become a (member|patron|subscriber)|support (us|our (work|journalism))|donate)\b"),
    _rule("copyright", "boilerplate",
          r"(©|\(c\) ?\d{4}|\bcopyright(ed)?\b|\ball rights reserved\b|\bthe original source of "
          r"this article\b|\bfair use\b)"),
    _rule("disclaimer", "boilerplate",
          r"\b(disclaimer|the views expressed|do not necessarily reflect|not (be )?(held )?"
          r"responsible for|the contents of this article are of sole responsibility|"
          r"may not be reproduced|point of view of (the|this) (site|website|publication)|"
          r"grants? permission to (re)?(post|publish|cross-post|reproduce))\b"),
    _rule("contact-address", "boilerplate",
          r"\b(contact|inquiries|enquiries)\s*:\s*\S+@\S+"),
    _rule("photo-credit", "boilerplate",
          rf"(\|\s*photo\s*:|\b(photo|image|video)\s*(credit)?\s*:|\bgetty images\b|"
          rf"\b(ap|reuters|afp|efe) photo\b|\(photo:|\bfile photo\b|\bphoto by\b|\bfeatured image\b|"
          rf"\([^()\n]*/\s*{_CREDIT}\b[^()\n]*\))"),
    # A caption: the text of a line that ends in a photo credit.
    _rule("caption", "boilerplate",
          rf"^[^\n]*?\S(?=[^\S\n]*(\|\s*photo\s*:[^\n]*|(\([^()\n]*\b{_CREDIT}\b[^()\n]*\)[^\S\n]*)+)$)",
          scope="match", confidence=0.75, flags=re.IGNORECASE | re.MULTILINE),
    # The title of a picture: a short line without end punctuation just above its caption.
    _rule("image-title", "boilerplate",
          rf"^[^\S\n]*[^\n.!?]{{0,60}}[^\s.!?:,;]$(?=\n(?:[^\S\n]*\n)?[^\n]*\S[^\S\n]*"
          rf"\([^()\n]*\b{_CREDIT}\b[^()\n]*\)[^\S\n]*$)",
          scope="line", confidence=0.7, flags=re.IGNORECASE | re.MULTILINE),
    _rule("translate-prompt", "boilerplate",
          r"\b(translate website|can be read in \d+ languages|read more\b|advertisement\b|"
          r"related (articles|stories|coverage)\b|more from\b|recommended for you\b|"
          r"the trust project\b)"),
    _rule("related-prompt", "boilerplate",
          r"^[^\S\n]*(related|see also|read also|also read|read more|more on this|watch|listen)\s*:",
          scope="line", confidence=0.85),
    # The headline of a related article, on the line after "RELATED:".
    _rule("related-headline", "boilerplate",
          r"(?:(?<=related:\n)|(?<=see also:\n)|(?<=read also:\n)|(?<=read more:\n))[^\n]+",
          scope="line", confidence=0.8),
    _rule("short-nav-line", "boilerplate",
          r"^[^\S\n]*(•\s*)?(live|audio only|video|news|home|menu|search|sign in|log in|opinion|"
          r"trending|close|back to top( button)?|(know|learn|read|see) more|"
          r"skip to (main )?content)(\s*[>›|/].{0,40})?[^\S\n]*$", scope="line", confidence=0.8),
    _rule("taxonomy-line", "boilerplate",
          r"^[^\S\n]*(region|theme|topics?|tags?|section|categor(y|ies)|filed under|keywords)\s*:",
          scope="line", confidence=0.85),
    _rule("comments-section", "boilerplate",
          r"^[^\S\n]*(leave a (reply|comment)|comments?|\d+ comments?|post with no comments|"
          r"no comments( yet)?|comment on\b.*)\W*$", scope="line", confidence=0.85),
    _rule("comment-form", "boilerplate",
          r"\b(your email address will not be published|required fields are marked)\b"),
    # A line of a few words after a bullet: a menu entry or a tag.
    _rule("short-bullet", "boilerplate", r"^[^\S\n]*[•·]\s*[\w&'’-]+(?: [\w&'’-]+){0,3}[^\S\n]*$",
          scope="line", confidence=0.6),
    _rule("counter-line", "boilerplate", r"^[^\S\n]*\d{1,5}[^\S\n]*$", scope="line", confidence=0.6),
    _rule("byline", "boilerplate",
          r"^[^\S\n]*(by|articles? by|written by|author)[^\S\n]*:?[^\S\n]+[^\n.!?]{2,60}$", scope="line",
          confidence=0.8),
    _rule("byline-date", "boilerplate",
          r"^[^\S\n]*(published|updated|posted)\b.{0,40}\d{4}[^\S\n]*$", scope="line", confidence=0.8),
    # A short line that ends in a date ("Global Research, February 15, 2023").
    _rule("date-line", "boilerplate",
          rf"^[^\n.!?]{{0,40}}\b(\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}})[^\S\n]*$",
          scope="line", confidence=0.8),
    # The signature line of an embedded post: "— Name (@handle) February 11, 2023".
    _rule("embed-signature", "boilerplate", r"^[^\S\n]*[—–]\s*[^\n]{0,80}\(@\w+\)", scope="line",
          confidence=0.9),
    # A dateline: "MEXICO CITY —", "WASHINGTON (Reuters) -".
    _rule("dateline", "boilerplate",
          r"^[A-Z][A-Z.'’]{2,}(?: [A-Z][A-Z.'’]+)*(?:, [A-Z][\w.]*(?: [A-Z][\w.]*)*)?"
          r"(?: \([\w .]{1,30}\))? ?(?:[—–]|-(?= ))",
          scope="match", confidence=0.8, flags=re.MULTILINE),
    # An author's note: "Jane Doe reports on Mexico for Example News."
    _rule("author-bio", "boilerplate",
          r"^[A-Z][\w'’-]+(?: [A-Z][\w'’-]+){0,3} (?:reports|writes|covers) (?:on|about) "
          r"[^\n.]{0,80}\bfor [A-Z]",
          confidence=0.7, flags=re.MULTILINE),
    # Quotes: quoted speech in any common quotation marks, and reported speech.
    Rule("quotation-marks", "quote", re.compile(_QUOTATION), scope="match", confidence=0.85,
         unless=_TITLE),
    # Reported speech: "X said that ...", "X stressed that ..." (whole sentence).
    _rule("reported-speech", "quote", rf"(?<!-)\b({_SAYING})\b(?: \w+){{0,3}} that\b", confidence=0.75),
    # A quotation (three words or more) built into the reporting sentence: `X expressed his "deep
    # appreciation ..."`.
    _rule("integrated-quote", "quote",
          rf"(?<!-)\b({_SAYING})\b(?:[^\S\n]+[^\s,:;\"“«]+){{0,6}}[^\S\n]+[\"“«]"
          rf"(?=[^\"”»\s]+\s+[^\"”»\s]+\s+[^\"”»\s])", confidence=0.7),
    # Other reported speech, in sentences without a quotation of their own (a sentence holding
    # one is the quotation's attribution, and the quotation is the span).
    _rule("attribution", "quote",
          r"\b(said|says|say|told (reporters|the|a|an)|according to|stated|declared|"
          r"claims|claimed)\b|\breported(?=\s*[.!])",
          confidence=0.6, unless=_QUOTED),
)


def load_patterns(path: str | Path) -> list[Rule]:
    """Rules from a JSONL patterns file; errors name the file and line."""
    rules: list[Rule] = []
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read patterns ({err})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            raise InputError(f"{where}: not valid JSON ({err})") from None
        if not isinstance(item, dict) or not isinstance(item.get("label"), str):
            raise InputError(f"{where}: a rule needs a \"label\" and a \"pattern\" or \"regex\"")
        scope = item.get("scope", "sentence")
        if scope not in SCOPES:
            raise InputError(f"{where}: scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        if isinstance(item.get("pattern"), str) and item["pattern"].strip():
            words = r"\s+".join(re.escape(w) for w in item["pattern"].split())
            regex = re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)
        elif isinstance(item.get("regex"), str) and item["regex"]:
            regex = _compile(item["regex"], where, "regex")
        else:
            raise InputError(f"{where}: a rule needs a \"pattern\" (text) or a \"regex\", not empty")
        unless = None
        if item.get("unless") is not None:
            if not isinstance(item["unless"], str) or not item["unless"]:
                raise InputError(f"{where}: \"unless\" must be a regex (text)")
            unless = _compile(item["unless"], where, "unless")
        confidence = item.get("confidence", 0.9)
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) \
                or not 0 <= confidence <= 1:
            raise InputError(f"{where}: confidence must be a number from 0 to 1, not {confidence!r}")
        name = str(item.get("name") or f"{path.stem}:{number}")
        rules.append(Rule(name, item["label"], regex, scope, float(confidence), unless))
    return rules


def _compile(pattern: str, where: str, key: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as err:
        raise InputError(f"{where}: bad {key} ({err})") from None


def _line_bounds(text: str, offset: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return _trim(text, start, len(text) if end == -1 else end)


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
        done: set[tuple[int, int]] = set()
        for match in regex.finditer(text):
            if match.end() == match.start():
                continue
            # A match may start with whitespace (``\\s*`` reaching back over a blank line): the
            # line or sentence it points at is the one of its first visible character.
            at = match.start()
            while at < match.end() - 1 and text[at].isspace():
                at += 1
            if rule.scope == "match":
                start, end = _trim(text, match.start(), match.end())
            elif rule.scope == "line":
                start, end = _line_bounds(text, at)
            else:
                sentence = segments.sentence_at(at)
                if sentence is None:
                    continue
                start, end = sentence
            if start >= end or (start, end) in done:
                continue
            done.add((start, end))  # one suggestion per extent and rule: check `unless` once
            if rule.unless is not None and rule.unless.search(text[start:end]):
                continue
            suggestion = Suggestion(start, end, rule.label, f"rule:{rule.name}", rule.confidence)
            old = best.get(suggestion.key)
            if old is None or old.confidence < suggestion.confidence:
                best[suggestion.key] = suggestion
    return sorted(best.values(), key=lambda s: (s.start, s.end, s.label))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
