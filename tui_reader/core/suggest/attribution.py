"""Who said it: a rule that finds the named source of a quote, claim or opinion and suggests it
as a ``source`` span linked to the statement by the project's attribution relation.

News writing names its speakers in a few fixed ways, and those are all this rule reads:

- after a quotation: ``…,” said Ana Ruiz.`` / ``…,” said the minister Ana Ruiz.`` /
  ``…,” Ana Ruiz added.`` / ``…,” Ruiz later tweeted.``
- as the subject of a verb of saying that opens the statement: ``Ana Ruiz said that …``,
  ``At the same time, the minister Ana Ruiz demanded that …``
- before a quotation it introduces: ``Ana Ruiz said: “…”``
- ``according to Ana Ruiz``.

A source is a run of capitalised words (particles such as ``de``, ``del``, ``van`` allowed inside),
with titles and nationality adjectives in front of a title left out (``Cuban President Miguel
Díaz-Canel`` gives ``Miguel Díaz-Canel``). Pronouns and descriptions (``he``, ``the minister``)
give no suggestion: the rule would rather say nothing than guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..segment import Segments
from .suggestion import RelationSuggestion, SpanKey, Suggestion

SOURCE = "rule:attribution"
CONFIDENCE = 0.7

_VERBS = (
    r"said|says|stated|states|declared|announced|argued|claimed|insisted|stressed|warned|"
    r"explained|indicated|recalled|added|noted|denounced|demanded|maintained|acknowledged|"
    r"admitted|told|suggested|confirmed|emphasi[sz]ed|revealed|alleged|wrote|writes|tweeted|"
    r"posted|urged|predicted|promised|denied|asserted|complained|expressed|replied|answered|"
    r"asked|concluded|observed|commented|remarked|reported|pointed out"
)
_WORD = r"[A-ZÀ-ÖØ-Þ](?:\.|[\w'’-]*)"  # a capitalised word, or an initial ("J.")
_PARTICLE = r"(?:de|del|la|las|los|van|von|der|da|di|du|y|bin|ibn|al|el|of|for|and)"
_NAME = rf"{_WORD}(?:\s+(?:{_PARTICLE}\s+)*{_WORD}){{0,5}}"
_ADVERB = r"(?:\w+ly\s+|later\s+|also\s+|then\s+|once again\s+|again\s+)?"

# A description may stand between a verb and the name: "said the minister Ana Ruiz".
_DESCRIPTION = r"(?:(?:the|a|an|its|his|her|their)\s+)?(?:[a-z][\w-]*\s+){0,3}?"
_AFTER = re.compile(
    rf"\A[\s,]*(?:[\"”»’']\s*)?,?\s*(?:(?:{_VERBS})\s+{_DESCRIPTION}(?P<after_verb>{_NAME})"
    rf"|(?P<before_verb>{_NAME})\s+{_ADVERB}(?:{_VERBS})\b)"
)
_OPENING = re.compile(rf"(?:[^,.\n]{{0,40}},\s+)?(?P<name>{_NAME})\s+{_ADVERB}(?:{_VERBS})\b")
_INTRODUCING = re.compile(rf"(?P<name>{_NAME})\s+{_ADVERB}(?:{_VERBS})\b[^.!?\n]{{0,40}}[:,]\s*\Z")
_ACCORDING = re.compile(rf"\baccording to\s+(?:the\s+)?(?P<name>{_NAME})")

_TITLES = frozenset("""
president vice prime minister foreign interior secretary senator sen. rep. representative governor
mayor dr. mr. mrs. ms. general gen. chancellor king queen pope ambassador spokesman spokeswoman
spokesperson chairman chairwoman chair ceo director judge justice attorney deputy former leader
lawmaker congressman congresswoman commander colonel captain sheikh prince princess emperor
premier official officials professor prof. sir lord lady deputy-minister
""".split())
_NOT_NAMES = frozenset("""
he she they it we i you the this that these those there his her their its our a an in at on for
but and or so as if when while after before during however meanwhile later also then one some
many most all both each every no not
""".split())


def _source_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The name inside ``text[start:end]`` (a run of capitalised words), titles and the
    nationality in front of a title left out; None for a pronoun or a description."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    while words:
        word = text[words[0][0]:words[0][1]].lower()
        following = text[words[1][0]:words[1][1]].lower() if len(words) > 1 else ""
        if word in _TITLES or (following in _TITLES and re.search(r"(an|ese|ish|ian|ic|i)$", word)):
            words.pop(0)
            continue
        break
    while words and text[words[-1][0]:words[-1][1]].lower() in _TITLES:
        words.pop()
    if not words or text[words[0][0]:words[0][1]].lower() in _NOT_NAMES:
        return None
    first, last = words[0][0], words[-1][1]
    while last > first and text[last - 1] in ".,'’-":
        last -= 1
    return (first, last) if last > first else None


def attribution_suggestions(text: str, segments: Segments, heads: Iterable[SpanKey],
                            relation: str, source_label: str = "source",
                            ) -> list[Suggestion | RelationSuggestion]:
    """For each statement in ``heads``, the source the text names for it (a ``source_label``
    span) and the ``relation`` from the statement to it, where one of the patterns above holds."""
    out: list[Suggestion | RelationSuggestion] = []
    seen: set[tuple[int, int]] = set()
    for head in heads:
        found = _find(text, segments, head[0], head[1])
        if found is None:
            continue
        child = (found[0], found[1], source_label)
        if found not in seen:
            seen.add(found)
            out.append(Suggestion(*child, SOURCE, CONFIDENCE))
        out.append(RelationSuggestion(head, child, relation, SOURCE, CONFIDENCE))
    return out


def _find(text: str, segments: Segments, start: int, end: int) -> tuple[int, int] | None:
    line_end = text.find("\n", end)
    after = text[end:min(end + 160, len(text) if line_end == -1 else line_end)]
    if match := _AFTER.match(after):
        group = "after_verb" if match.group("after_verb") else "before_verb"
        found = _source_name(text, end + match.start(group), end + match.end(group))
        if found:
            return found
    if match := _OPENING.match(text, start, end):
        found = _source_name(text, match.start("name"), match.end("name"))
        if found:
            return found
    sentence = segments.sentence_at(start)
    line_start = text.rfind("\n", 0, start) + 1
    before_from = max(sentence[0] if sentence and sentence[0] < start else start, line_start,
                      start - 200)
    if start > before_from and (match := _INTRODUCING.search(text, before_from, start)):
        found = _source_name(text, match.start("name"), match.end("name"))
        if found:
            return found
    if match := _ACCORDING.search(text, start, end):
        return _source_name(text, match.start("name"), match.end("name"))
    return None
