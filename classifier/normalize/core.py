"""The normalisation pipeline (see the package docstring)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from classifier.normalize.lexicon import canonical_forms, sensitive_words, teencode

PLACEHOLDERS = {"url": "xxurl", "email": "xxemail", "phone": "xxphone", "mention": "xxmention"}

# --- accent folding -------------------------------------------------------------------------

def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "D"}
    for code in range(0xC0, 0x1FFF):
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        if base != char and base.isascii() and base.isalpha():
            table[code] = base
    # Combining marks left by NFD input disappear entirely.
    for code in range(0x300, 0x370):
        table[code] = None
    return table


_FOLD = _build_fold_table()


def fold_accents(text: str) -> str:
    """Remove Vietnamese tone and vowel marks and map đ to d ("Đẹp quá" -> "Dep qua").

    Unlike scikit-learn's ``strip_accents`` this is used only to build an *extra* view of the
    text; the accented view is always kept alongside it.
    """
    return text.translate(_FOLD)


# --- tone-mark placement ----------------------------------------------------------------------
# "hoà"/"hòa", "khoẻ"/"khỏe", "thuỷ"/"thủy" are the same word in new and old placement; we settle
# on the old (traditional) placement that most Vietnamese keyboards and corpora use.

_TONED = {
    "a": "àáảãạ", "e": "èéẻẽẹ", "y": "ỳýỷỹỵ", "o": "òóỏõọ", "u": "ùúủũụ",
}


def _tone_of(char: str, base: str) -> int:
    return _TONED[base].index(char)


_TONE_RE = re.compile(r"(?<![qg])(o)([àáảãạ])$|(o)([èéẻẽẹ])$|(?<!q)(u)([ỳýỷỹỵ])$")


def _place_tone(word: str) -> str:
    match = _TONE_RE.search(word)
    if match is None:
        return word
    groups = [g for g in match.groups() if g is not None]
    first, toned = groups
    second_base = {"a": "a", "e": "e", "y": "y"}[fold_accents(toned)]
    tone = _tone_of(toned, second_base)
    return word[: match.start()] + _TONED[first][tone] + second_base


# --- scanning -----------------------------------------------------------------------------------

_WORD_CHAR = r"[^\W_]"
_LEET_INNER = r"(?<=[^\W_])[@$!](?=[^\W_])"
_SEPARATORS = r"[.\-_*+~]"
# "/" joins letters into one token only for abbreviations such as "đ/c", "a/e" and dates.
_SLASH = r"/(?=[^\W_])"
_EMOJI = (
    r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2190-\u21FF\u2300-\u23FF]"
)

_SCANNER = re.compile(
    r"(?P<url>(?:https?://|www\.)[^\s<>\"']+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|vn|net|org|xyz|click|ly|io|me|info|top|site|online|shop|link)(?:/[^\s<>\"']*)?(?![\w.]))"
    r"|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<phone>(?<![\w+])(?:\+84[\s.\-]?|0)\d(?:[\s.\-]?\d){7,9}(?![\w]))"
    r"|(?P<mention>(?<![\w@])@[\w.]{2,})"
    r"|(?P<spaced>(?<![\w.])(?:[^\W\d_] ){2,7}[^\W\d_](?![\w.]))"
    rf"|(?P<word>(?:{_WORD_CHAR}|{_LEET_INNER})+(?:(?:{_SEPARATORS}+|{_SLASH})(?:{_WORD_CHAR}|{_LEET_INNER})+)*)"
    r"|(?P<emoticon>[:;=]['\-^]?[)(dDpPvV3oO|\]\[/\\]+|<3+|\^\^|\^_\^)"
    rf"|(?P<emoji>{_EMOJI})"
)

#: Abbreviations made of single letters and dots that are legitimate Vietnamese or English.
_ABBREVIATIONS = frozenset({"t.p", "v.v", "p.s", "e.g", "i.e", "a.k.a", "t.t", "q.l", "a.m", "p.m", "u.s"})

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_STRETCH_RE = re.compile(r"([^\W\d_])\1{2,}")
_SEPARATOR_RE = re.compile(_SEPARATORS + "+")
_EMOTICON_STRETCH_RE = re.compile(r"(.)\1{2,}")

_token_cache: dict[str, str] = {}
_CACHE_LIMIT = 500_000


def _sensitive(word: str) -> bool:
    return fold_accents(word) in sensitive_words()


def _canonical(word: str) -> str:
    """The accented dictionary form of a de-obfuscated sensitive word ("lon" -> "lồn")."""
    return canonical_forms().get(fold_accents(word), word)


def _normalize_word(token: str) -> str:
    """Normalise one scanned word (already lower-case NFC). Pure; results are cached."""
    cached = _token_cache.get(token)
    if cached is not None:
        return cached
    word = token
    if any(c in "@$!" for c in word):
        leet = word.translate(_LEET)
        word = _canonical(leet) if _sensitive(leet) else word.replace("!", "").replace("$", "s").replace("@", "a")
    if _SEPARATOR_RE.search(word):
        parts = _SEPARATOR_RE.split(word)
        single_letters = all(len(p) == 1 and not p.isdigit() for p in parts)
        if single_letters and word not in _ABBREVIATIONS:
            word = "".join(parts)
    if any(c.isdigit() for c in word) and any(c.isalpha() for c in word):
        leet = word.translate(_LEET)
        if _sensitive(leet):
            word = _canonical(leet)
    word = _STRETCH_RE.sub(r"\1", word)
    word = _place_tone(word)
    word = teencode().get(word, word)
    if len(_token_cache) < _CACHE_LIMIT:
        _token_cache[token] = word
    return word


def _scan(text: str) -> Iterator[tuple[str, int, int, str]]:
    """Yield ``(normalised, start, end, kind)`` for each token of lower-case NFC ``text``."""
    for match in _SCANNER.finditer(text):
        yield from _scan_match(match)


def _scan_match(match: re.Match[str]) -> Iterator[tuple[str, int, int, str]]:
    kind = match.lastgroup
    start, end = match.span()
    if kind == "word":
        yield _normalize_word(match.group()), start, end, kind
    elif kind in PLACEHOLDERS:
        yield PLACEHOLDERS[kind], start, end, kind
    elif kind == "spaced":
        letters = match.group()
        joined = letters.replace(" ", "")
        if _sensitive(joined):
            yield _normalize_word(joined), start, end, "word"
        else:
            for offset in range(0, len(letters), 2):
                yield _normalize_word(letters[offset]), start + offset, start + offset + 1, "word"
    elif kind == "emoticon":
        yield _EMOTICON_STRETCH_RE.sub(r"\1\1", match.group()), start, end, kind
    else:
        yield match.group(), start, end, kind


def _prepare(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def normalize(text: str) -> str:
    """Normalised form of ``text``: tokens joined by single spaces.

    Deterministic and idempotent: ``normalize(normalize(t)) == normalize(t)``. Never raises on a
    ``str``; raises ``TypeError`` for anything else.

    Examples
    --------
    >>> normalize("Mày   NGUUUU vl")
    'mày ngu vãi lồn'
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize() expects str, got {type(text).__name__}")
    prepared = _prepare(text)
    out: list[str] = []
    cache = _token_cache
    for match in _SCANNER.finditer(prepared):
        if match.lastgroup == "word":
            word = match.group()
            out.append(cache.get(word) or _normalize_word(word))
        else:
            out.extend(token for token, _, _, _ in _scan_match(match))
    return " ".join(out)


def normalize_many(texts: Iterable[str]) -> list[str]:
    """``[normalize(t) for t in texts]``."""
    return [normalize(text) for text in texts]


# --- offsets ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    """A normalised token and the span ``[start, end)`` it came from in the original text."""

    norm: str
    start: int
    end: int
    kind: str

    @property
    def folded(self) -> str:
        return fold_accents(self.norm)


@dataclass(frozen=True)
class Entity:
    """A URL, e-mail, phone number or @mention found in the original text."""

    kind: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class NormalizedText:
    original: str
    tokens: tuple[Token, ...]

    @property
    def text(self) -> str:
        return " ".join(token.norm for token in self.tokens)

    def surface(self, token: Token) -> str:
        return self.original[token.start : token.end]


def _prepare_with_offsets(text: str) -> tuple[str, list[int]]:
    """NFC + lower-case ``text`` and, for each output character, its start in ``text``.

    The mapping list has one extra entry (``len(text)``) so that an end offset maps too.
    """
    if unicodedata.is_normalized("NFC", text) and len(text.lower()) == len(text):
        return text.lower(), list(range(len(text) + 1))
    out: list[str] = []
    starts: list[int] = []
    index = 0
    while index < len(text):
        cluster_end = index + 1
        while cluster_end < len(text) and unicodedata.combining(text[cluster_end]):
            cluster_end += 1
        piece = unicodedata.normalize("NFC", text[index:cluster_end]).lower()
        out.append(piece)
        starts.extend([index] * len(piece))
        index = cluster_end
    starts.append(len(text))
    return "".join(out), starts


def _map_span(starts: list[int], original_length: int, start: int, end: int) -> tuple[int, int]:
    original_start = starts[start]
    original_end = starts[end] if end < len(starts) - 1 else original_length
    # An end inside a multi-character expansion (e.g. a lower-cased ligature) extends to its cluster.
    while original_end < original_length and end < len(starts) - 1 and starts[end - 1] == starts[end]:
        end += 1
        original_end = starts[end] if end < len(starts) - 1 else original_length
    return original_start, original_end


def analyze(text: str) -> NormalizedText:
    """Tokens of ``normalize(text)`` with their offsets in the ORIGINAL ``text``.

    ``analyze(t).text == normalize(t)`` for every string, and every token span lies inside
    ``t`` even when ``t`` is NFD, mixes case or contains emoji.
    """
    if not isinstance(text, str):
        raise TypeError(f"analyze() expects str, got {type(text).__name__}")
    prepared, starts = _prepare_with_offsets(text)
    tokens = []
    for norm, start, end, kind in _scan(prepared):
        original_start, original_end = _map_span(starts, len(text), start, end)
        tokens.append(Token(norm, original_start, original_end, kind))
    return NormalizedText(text, tuple(tokens))


def extract_entities(text: str) -> list[Entity]:
    """URLs, e-mails, phone numbers and @mentions in ``text`` with their original spans."""
    analysed = analyze(text)
    return [
        Entity(token.kind, token.start, token.end, analysed.surface(token))
        for token in analysed.tokens
        if token.kind in PLACEHOLDERS
    ]
