"""The one tokenizer of every token-based export (Prodigy tokens, spaCy DocBin, HF BIO, CoNLL).

``tokenize(text, lang)`` returns :class:`Token` records: ``text``, ``start``, ``end`` (code points
into ``text``, end exclusive, ``text[start:end] == token.text``) and ``ws`` (one space follows the
token and belongs to it, as in spaCy's ``Token.whitespace_``).

When spaCy is importable the tokens are exactly those of ``spacy.blank(lang)``'s tokenizer (no
model is loaded, nothing is downloaded). Otherwise a built-in port of the same algorithm is used
(:func:`builtin_tokenize`): spaCy's English rules, i.e. split on whitespace, then peel prefixes
and suffixes (punctuation, quotes, currency, units, ``'s``), keep special cases whole or split them
as listed (contractions ``don't`` -> ``do`` ``n't``, ``can't`` -> ``ca`` ``n't``, abbreviations
such as ``Mr.``, ``U.S.``, ``a.m.``), keep URLs whole, then split infixes (hyphens between letters,
``...``, ``,`` between letters, arithmetic between digits). Its character classes use Unicode
properties instead of spaCy's explicit ranges, and spaCy's second pass that re-merges special
cases split by affixes (``Hello:)``) is left out, so it can differ on rare strings; on ordinary
news text it agrees token for token (tests/unit/test_formats_tokens.py measures it).

Whitespace follows spaCy too: a single space after a token is that token's ``ws``; any other
whitespace (newlines, tabs, a second space, no-break spaces) becomes a whitespace token of its own
(``Token.is_space``). Formats that want words only (HF, CoNLL) use :func:`words`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import regex

BUILTIN_VERSION = "1"


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int
    ws: bool  # followed by one space that belongs to this token (spaCy's whitespace_ == " ")

    @property
    def is_space(self) -> bool:
        return self.text.isspace()


def tokenize(text: str, lang: str = "en") -> list[Token]:
    """Tokens of ``text``: spaCy's blank ``lang`` tokenizer when spaCy is installed, else the
    built-in English port (the same tokens on ordinary text)."""
    nlp = _spacy_blank(lang)
    if nlp is None:
        return builtin_tokenize(text)
    return spacy_tokens(nlp.make_doc(text))


def tokenizer_name(lang: str = "en") -> str:
    """Which tokenizer :func:`tokenize` uses here, for dataset cards and metadata."""
    if _spacy_blank(lang) is None:
        return f"tui-reader built-in (spaCy English rules), version {BUILTIN_VERSION}"
    import spacy

    return f"spaCy {spacy.__version__} blank('{lang}') tokenizer"


def spacy_tokens(doc: Any) -> list[Token]:
    """A spaCy ``Doc``'s tokens as :class:`Token` records."""
    return [Token(t.text, t.idx, t.idx + len(t.text), bool(t.whitespace_)) for t in doc]


def words(tokens: list[Token]) -> list[Token]:
    """The tokens that are not whitespace (what HF and CoNLL rows hold)."""
    return [t for t in tokens if not t.is_space]


@functools.lru_cache(maxsize=8)
def _spacy_blank(lang: str) -> Any:
    try:
        import spacy
    except ImportError:
        return None
    return spacy.blank(lang)


# --------------------------------------------------------------- built-in port of spaCy's rules
# Character classes (spaCy: spacy/lang/char_classes.py, MIT licence), with Unicode properties for
# its explicit letter ranges. "Uncased" scripts count as both lower and upper case, as in spaCy.
_UNCASED = r"\p{Lo}\p{Lm}\u0900-\u09FF\u0B80-\u0CFF\u0D80-\u0DFF\u0591-\u05F4\u1200-\u137F"
_ALPHA = r"\p{L}" + _UNCASED
_ALPHA_LOWER = r"\p{Ll}" + _UNCASED
_ALPHA_UPPER = r"\p{Lu}\p{Lt}" + _UNCASED
_ICONS = r"\p{So}"

_PUNCT = r"… …… , : ; \! \? ¿ ؟ ¡ \( \) \[ \] \{ \} < > _ # \* & 。 ？ ！ ， 、 ； ： ～ · । ، ۔ ؛ ٪".split()
_QUOTES = r"""\' " ” “ ` ‘ ´ ’ ‚ , „ » « 「 」 『 』 （ ） 〔 〕 【 】 《 》 〈 〉 〈 〉 ⟦ ⟧""".split()
_CURRENCY = (
    r"\$ £ € ¥ ฿ US\$ C\$ A\$ ₽ ﷼ ₴ ₠ ₡ ₢ ₣ ₤ ₥ ₦ ₧ ₨ ₩ ₪ ₫ € ₭ ₮ ₯ ₰ ₱ ₲ ₳ ₴ ₵ ₶ ₷ ₸ ₹ ₺ ₻ ₼ ₽ ₾ ₿"
).split()
_UNITS = (
    "km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft kg g mg µg t lb oz "
    "m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB tb TB T G M K % км км² км³ м м² м³ дм дм² дм³ "
    "см см² см³ мм мм² мм³ нм кг г мг м/с км/ч кПа Па мбар Кб КБ кб Мб МБ мб Гб ГБ гб Тб ТБ тб"
).split()
_HYPHENS = "- – — -- --- —— ~".split()
_ELLIPSES = [r"\.\.+", "…"]
_CONCAT_QUOTES = "".join(_QUOTES)

_PREFIXES = (
    ["§", "%", "=", "—", "–", r"\+(?![0-9])"] + _PUNCT + _ELLIPSES + _QUOTES + _CURRENCY
    + [f"[{_ICONS}]"]
)
_SUFFIXES = (
    _PUNCT + _ELLIPSES + _QUOTES + [f"[{_ICONS}]"] + ["'s", "'S", "’s", "’S", "—", "–"]
    + [
        r"(?<=[0-9])\+",
        r"(?<=°[FfCcKk])\.",
        r"(?<=[0-9])(?:{})".format("|".join(_CURRENCY)),
        r"(?<=[0-9])(?:{})".format("|".join(_UNITS)),
        r"(?<=[0-9{al}%²\-\+{p}(?:{q})])\.".format(
            al=_ALPHA_LOWER, p="|".join(_PUNCT), q=_CONCAT_QUOTES
        ),
        rf"(?<=[{_ALPHA_UPPER}][{_ALPHA_UPPER}])\.",
    ]
)
_INFIXES = _ELLIPSES + [f"[{_ICONS}]"] + [  # spacy/lang/en/punctuation.py
    r"(?<=[0-9])[+\-\*^](?=[0-9-])",
    rf"(?<=[{_ALPHA_LOWER}{_CONCAT_QUOTES}])\.(?=[{_ALPHA_UPPER}{_CONCAT_QUOTES}])",
    rf"(?<=[{_ALPHA}]),(?=[{_ALPHA}])",
    r"(?<=[{a}0-9])(?:{h})(?=[{a}])".format(a=_ALPHA, h="|".join(_HYPHENS)),
    rf"(?<=[{_ALPHA}0-9])[:<>=/](?=[{_ALPHA}])",
]

_prefix_search = regex.compile("|".join("^" + p for p in _PREFIXES)).search
_suffix_search = regex.compile("|".join(p + "$" for p in _SUFFIXES)).search
_infix_finditer = regex.compile("|".join(_INFIXES)).finditer

# spacy/lang/tokenizer_exceptions.py URL_MATCH (after Diego Perini's URL regex, MIT licence).
_url_match = regex.compile(
    r"^(?:(?:[\w\+\-\.]{2,})://)?(?:\S+(?::\S*)?@)?(?:"
    r"(?!(?:10|127)(?:\.\d{1,3}){3})(?!(?:169\.254|192\.168)(?:\.\d{1,3}){2})"
    r"(?!172\.(?:1[6-9]|2\d|3[0-1])(?:\.\d{1,3}){2})"
    r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
    r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))"
    r"|(?:(?:[A-Za-z0-9\u00a1-\uffff][A-Za-z0-9\u00a1-\uffff_-]{0,62})?[A-Za-z0-9\u00a1-\uffff]\.)+"
    rf"(?:[{_ALPHA_LOWER}]{{2,63}}))(?::\d{{2,5}})?(?:[/?#]\S*)?$"
).match


def _special_cases() -> dict[str, tuple[str, ...]]:
    """spaCy's English tokenizer exceptions (spacy/lang/en/tokenizer_exceptions.py): the
    strings kept whole or split in a fixed way, ORTH only."""
    exc: dict[str, tuple[str, ...]] = {}

    def both(word: str) -> list[str]:
        return [word, word.title()]

    for orth in both("i"):
        exc[orth + "'m"] = (orth, "'m")
        exc[orth + "m"] = (orth, "m")
        exc[orth + "'ma"] = (orth, "'m", "a")
        exc[orth + "ma"] = (orth, "m", "a")
    for pron in ("i", "you", "he", "she", "it", "we", "they"):
        for orth in both(pron):
            exc[orth + "'ll"] = (orth, "'ll")
            exc[orth + "ll"] = (orth, "ll")
            exc[orth + "'ll've"] = (orth, "'ll", "'ve")
            exc[orth + "llve"] = (orth, "ll", "ve")
            exc[orth + "'d"] = (orth, "'d")
            exc[orth + "d"] = (orth, "d")
            exc[orth + "'d've"] = (orth, "'d", "'ve")
            exc[orth + "dve"] = (orth, "d", "ve")
    for pron in ("i", "you", "we", "they"):
        for orth in both(pron):
            exc[orth + "'ve"] = (orth, "'ve")
            exc[orth + "ve"] = (orth, "ve")
    for pron in ("you", "we", "they"):
        for orth in both(pron):
            exc[orth + "'re"] = (orth, "'re")
            exc[orth + "re"] = (orth, "re")
    for pron in ("he", "she", "it"):
        for orth in both(pron):
            exc[orth + "'s"] = (orth, "'s")
            exc[orth + "s"] = (orth, "s")
    for word, plural, singular in [
        ("who", False, False), ("what", False, False), ("when", False, False),
        ("where", False, False), ("why", False, False), ("how", False, False),
        ("there", False, False), ("that", False, True), ("this", False, True),
        ("these", True, False), ("those", True, False),
    ]:
        for orth in both(word):
            if not plural:
                exc[orth + "'s"] = (orth, "'s")
                exc[orth + "s"] = (orth, "s")
            exc[orth + "'ll"] = (orth, "'ll")
            exc[orth + "ll"] = (orth, "ll")
            exc[orth + "'ll've"] = (orth, "'ll", "'ve")
            exc[orth + "llve"] = (orth, "ll", "ve")
            if not singular:
                exc[orth + "'re"] = (orth, "'re")
                exc[orth + "re"] = (orth, "re")
                exc[orth + "'ve"] = (orth, "'ve")
                exc[orth + "ve"] = (orth, "ve")
            exc[orth + "'d"] = (orth, "'d")
            exc[orth + "d"] = (orth, "d")
            exc[orth + "'d've"] = (orth, "'d", "'ve")
            exc[orth + "dve"] = (orth, "d", "ve")
    for verb in ("ca", "could", "do", "does", "did", "had", "may", "might", "must", "need", "ought",
                 "sha", "should", "wo", "would"):
        for orth in both(verb):
            exc[orth + "n't"] = (orth, "n't")
            exc[orth + "nt"] = (orth, "nt")
            exc[orth + "n't've"] = (orth, "n't", "'ve")
            exc[orth + "ntve"] = (orth, "nt", "ve")
    for verb in ("could", "might", "must", "should", "would"):
        for orth in both(verb):
            exc[orth + "'ve"] = (orth, "'ve")
            exc[orth + "ve"] = (orth, "ve")
    for verb in ("ai", "are", "is", "was", "were", "have", "has", "dare"):
        for orth in both(verb):
            exc[orth + "n't"] = (orth, "n't")
            exc[orth + "nt"] = (orth, "nt")
    for word in ("doin", "goin", "nothin", "nuthin", "ol", "somethin"):
        for orth in both(word):
            exc[orth] = (orth,)
            exc[orth + "'"] = (orth + "'",)
    for word in ("em", "ll", "nuff"):
        exc[word] = (word,)
        exc["'" + word] = ("'" + word,)
    for hour in range(1, 13):
        for period in ("a.m.", "am", "p.m.", "pm"):
            exc[f"{hour}{period}"] = (str(hour), period)
    exc.update({
        "y'all": ("y'", "all"), "yall": ("y", "all"), "how'd'y": ("how", "'d", "'y"),
        "How'd'y": ("How", "'d", "'y"), "not've": ("not", "'ve"), "notve": ("not", "ve"),
        "Not've": ("Not", "'ve"), "Notve": ("Not", "ve"), "cannot": ("can", "not"),
        "Cannot": ("Can", "not"), "gonna": ("gon", "na"), "Gonna": ("Gon", "na"),
        "gotta": ("got", "ta"), "Gotta": ("Got", "ta"), "let's": ("let", "'s"),
        "Let's": ("Let", "'s"), "c'mon": ("c'm", "on"), "C'mon": ("C'm", "on"),
    })
    whole = (
        "'S 's \u2018S \u2018s and/or w/o 're 'Cause 'cause 'cos 'Cos 'coz 'Coz 'cuz 'Cuz 'bout "
        "ma'am Ma'am o'clock O'clock lovin' Lovin' lovin Lovin havin' Havin' havin Havin doin' Doin' "
        "doin Doin goin' Goin' goin Goin Mt. Ak. Ala. Apr. Ariz. Ark. Aug. Calif. Colo. Conn. Dec. "
        "Del. Feb. Fla. Ga. Ia. Id. Ill. Ind. Jan. Jul. Jun. Kan. Kans. Ky. La. Mar. Mass. Mich. Minn. "
        "Miss. N.C. N.D. N.H. N.J. N.M. N.Y. Neb. Nebr. Nev. Nov. Oct. Okla. Ore. Pa. S.C. Sep. Sept. "
        "Tenn. Va. Wash. Wis. 'd a.m. Adm. Bros. co. Co. Corp. D.C. Dr. e.g. E.g. E.G. Gen. Gov. i.e. "
        "I.e. I.E. Inc. Jr. Ltd. Md. Messrs. Mo. Mont. Mr. Mrs. Ms. p.m. Ph.D. Prof. Rep. Rev. Sen. "
        "St. vs. v.s."
    )
    for orth in whole.split():
        exc[orth] = (orth,)
    for orth in ("Ill ill Its its Hell hell Shell shell Shed shed were Were Well well Whore "
                 "whore").split():
        exc.pop(orth, None)
    # spacy/lang/tokenizer_exceptions.py BASE_EXCEPTIONS
    for orth in [" ", "\t", "\\t", "\n", "\\n", "\u2014", "\u00a0", "'", '\\")', "<space>", "''",
                 "C++", *(f"{c}." for c in "abcdefghijklmnopqrstuvwxyzäöü")]:
        exc[orth] = (orth,)
    emoticons = (
        r""":) :-) :)) :-)) :))) :-))) (: (-: =) (= :] :-] [: [-: [= =] :o) (o: :} :-} 8) 8-) (-8 ;)
        ;-) (; (-; :( :-( :(( :-(( :((( :-((( ): )-: =( >:( :') :'-) :'( :'-( :/ :-/ =/ =| :| :-|
        ]= =[ :1 :P :-P :p :-p :O :-O :o :-o :0 :-0 :() >:o :* :-* :3 :-3 =3 :> :-> :X :-X :x :-x
        :D :-D ;D ;-D =D xD XD xDD XDD 8D 8-D ^_^ ^__^ ^___^ >.< >.> <.< ._. ;_; -_- -__- v.v V.V
        v_v V_V o_o o_O O_o O_O 0_o o_0 0_0 o.O O.o O.O o.o 0.0 o.0 0.o @_@ <3 <33 <333 </3 (^_^)
        (-_-) (._.) (>_<) (*_*) (¬_¬) ಠ_ಠ ಠ︵ಠ (ಠ_ಠ) ¯\(ツ)/¯ (╯°□°）╯︵┻━┻ ><(((*>"""
    )
    for orth in emoticons.split():
        exc[orth] = (orth,)
    for unit in "cfkCFK":
        exc[f"°{unit}."] = ("°", unit, ".")
    for orth, pieces in list(exc.items()):  # spacy.util.update_exc: each ' also as ’
        if "'" in orth:
            exc[orth.replace("'", "’")] = tuple(p.replace("'", "’") for p in pieces)
    return exc


_SPECIALS = _special_cases()


def builtin_tokenize(text: str) -> list[Token]:
    """spaCy's blank English tokenizer, ported (see the module docstring for the differences)."""
    tokens: list[Token] = []
    if not text:
        return tokens
    in_ws = text[0].isspace()
    start = 0
    for i, char in enumerate(text):
        if char.isspace() != in_ws:
            if start < i:
                _chunk(text, start, i, tokens)
            if char == " ":
                last = tokens[-1]
                tokens[-1] = Token(last.text, last.start, last.end, True)
                start = i + 1
            else:
                start = i
            in_ws = not in_ws
    if start < len(text):
        _chunk(text, start, len(text), tokens)
    return tokens


def _chunk(text: str, begin: int, end: int, out: list[Token]) -> None:
    """Tokenize ``text[begin:end]`` (no space inside, or whitespace only) into ``out``."""
    string = text[begin:end]
    special = _SPECIALS.get(string)
    pieces = list(special) if special is not None else _merge_specials(_split(string))
    offset = begin
    for piece in pieces:
        out.append(Token(piece, offset, offset + len(piece), False))
        offset += len(piece)


def _split(string: str, specials: bool = True) -> list[str]:
    """spaCy's Tokenizer._split_affixes + _attach_tokens for one chunk."""
    prefixes: list[str] = []
    suffixes: list[str] = []
    last_size = 0
    exc = _SPECIALS if specials else {}
    while string and len(string) != last_size:
        if string in exc:
            break
        last_size = len(string)
        pre_len = _match_len(_prefix_search(string))
        if pre_len:
            prefix, minus_pre = string[:pre_len], string[pre_len:]
            if minus_pre and minus_pre in exc:
                string = minus_pre
                prefixes.append(prefix)
                break
        suf_len = _match_len(_suffix_search(string[pre_len:]))
        if suf_len:
            suffix, minus_suf = string[-suf_len:], string[:-suf_len]
            if minus_suf and minus_suf in exc:
                string = minus_suf
                suffixes.append(suffix)
                break
        if pre_len and suf_len and pre_len + suf_len <= len(string):
            string = string[pre_len:-suf_len]
            prefixes.append(prefix)
            suffixes.append(suffix)
        elif pre_len:
            string = minus_pre
            prefixes.append(prefix)
        elif suf_len:
            string = minus_suf
            suffixes.append(suffix)
    pieces = list(prefixes)
    if string:
        special = exc.get(string)
        if special is not None:
            pieces.extend(special)
        elif _url_match(string):
            pieces.append(string)
        else:
            start = 0
            for match in _infix_finditer(string):
                infix_start, infix_end = match.start(), match.end()
                if infix_start == 0:
                    continue
                if infix_start != start:
                    pieces.append(string[start:infix_start])
                if infix_start != infix_end:
                    pieces.append(string[infix_start:infix_end])
                start = infix_end
            if string[start:]:
                pieces.append(string[start:])
    pieces.extend(reversed(suffixes))
    return pieces


def _match_len(match: regex.Match[str] | None) -> int:
    return match.end() - match.start() if match is not None else 0


def _special_patterns() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Special cases that affix splitting can break up, as (pieces they split into) -> tokens:
    spaCy's second pass (Tokenizer._apply_special_cases) puts them back together."""
    patterns: dict[tuple[str, ...], tuple[str, ...]] = {}
    for orth, pieces in _SPECIALS.items():
        if _prefix_search(orth) or _suffix_search(orth) or any(_infix_finditer(orth)):
            split = tuple(_split(orth, specials=False))
            if len(split) > 1:
                patterns[split] = pieces
    return patterns


_PATTERNS = _special_patterns()
_PATTERN_MAX = max(len(p) for p in _PATTERNS)


def _merge_specials(pieces: list[str]) -> list[str]:
    """Re-merge special cases that prefix/suffix/infix splitting broke apart ("R-Fla.,")."""
    if len(pieces) < 2:
        return pieces
    matches = [
        (j - i, i, j)
        for i in range(len(pieces))
        for j in range(i + 2, min(len(pieces), i + _PATTERN_MAX) + 1)
        if tuple(pieces[i:j]) in _PATTERNS
    ]
    if not matches:
        return pieces
    matches.sort()
    seen: set[int] = set()
    chosen: list[tuple[int, int]] = []
    for _length, i, j in reversed(matches):  # longest first, as spaCy's _filter_special_spans
        if i not in seen and j - 1 not in seen:
            chosen.append((i, j))
        seen.update(range(i, j))
    out: list[str] = []
    position = 0
    for i, j in sorted(chosen):
        out.extend(pieces[position:i])
        out.extend(_PATTERNS[tuple(pieces[i:j])])
        position = j
    out.extend(pieces[position:])
    return out
