"""The normalisation pipeline (see the package docstring).

Two paths produce the same tokens. ``_tokens`` runs one regular expression over the whole prepared
(NFC, lower-case) text and is used by ``analyze``, which needs offsets. ``normalize`` takes a
faster path: almost every whitespace-separated chunk normalises on its own, so it looks chunks up
in a cache and scans only the chunks it has not seen. Letters and digit groups that may join
across chunks (spaced-out letters "n g u", phone numbers written "0123 456 789") send a text to
the slow path.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from classifier.normalize.lexicon import canonical_forms, sensitive_words, teencode

PLACEHOLDERS = {"url": "xxurl", "email": "xxemail", "phone": "xxphone", "mention": "xxmention"}

# --- accent folding -------------------------------------------------------------------------

def _build_fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord("đ"): "d", ord("Đ"): "D"}
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
# on the old (traditional) placement that most Vietnamese keyboards and corpora use. "quý", "quà"
# and "già" keep their marks: there "u"/"i" belong to the initial consonant.

_TONED = {
    "a": "àáảãạ", "e": "èéẻẽẹ", "y": "ỳýỷỹỵ", "o": "òóỏõọ", "u": "ùúủũụ",
}
_TONE_FINALS = frozenset(_TONED["a"] + _TONED["e"] + _TONED["y"])
_TONE_RE = re.compile(r"(?<![qg])(o)([àáảãạ])$|(o)([èéẻẽẹ])$|(?<!q)(u)([ỳýỷỹỵ])$")


def _place_tone(word: str) -> str:
    if not word or word[-1] not in _TONE_FINALS:
        return word
    match = _TONE_RE.search(word)
    if match is None:
        return word
    first, toned = (g for g in match.groups() if g is not None)
    base = fold_accents(toned)
    tone = _TONED[base].index(toned)
    return word[: match.start()] + _TONED[first][tone] + base


# --- stretched letters ------------------------------------------------------------------------
# Three or more letters with the same base ("nguuuu", "ngủuuu", "quáaaa") collapse to one, keeping
# the marked letter. No Vietnamese word has three same-base letters in a row; "xoong" keeps its two.

_RUN_RE = re.compile(r"([^\W\d_])\1{2,}")


def _squeeze(word: str) -> str:
    folded = word.translate(_FOLD)
    if len(folded) != len(word) or _RUN_RE.search(folded) is None:
        return word
    pieces, last = [], 0
    for match in _RUN_RE.finditer(folded):
        start, end = match.span()
        run = word[start:end]
        pieces += [word[last:start], next((c for c in run if c != folded[start]), run[0])]
        last = end
    pieces.append(word[last:])
    return "".join(pieces)


# --- scanning -----------------------------------------------------------------------------------

_WORD_CHAR = r"[^\W_]"
_LEET_INNER = r"(?<=[^\W_])[@$!](?=[^\W_])"
_SEPARATORS = r"[.\-_*+~]"
# "/" joins letters into one token only for abbreviations such as "đ/c", "a/e" and dates.
_SLASH = r"/(?=[^\W_])"
# "1,5" and "12:30" are one number.
_NUMBER_JOIN = r"(?<=\d)[,:](?=\d)"
_EMOJI = r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2190-\u21FF\u2300-\u23FF]"
_TLDS = "com|vn|net|org|xyz|click|ly|io|me|info|top|site|online|shop|link|be|tv|gg|app|edu|gov|biz|asia"
_URL_END = r"[^\s<>\"'.,;:!?)\]}]"

# Lookbehinds and lookaheads only test characters that survive into the normalised text as part
# of the same token (letters and digits, not "_"): anything else would make the result depend on
# punctuation that normalisation drops, and normalising twice would differ.
_SCANNER = re.compile(
    rf"(?P<url>(?:https?://|www\.)[^\s<>\"']*{_URL_END}"
    rf"|(?<![^\W_])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:{_TLDS})(?:/(?:[^\s<>\"']*{_URL_END})?)?(?![^\W_]|\.[^\W_]))"
    r"|(?P<email>\w[\w.+-]*@[\w-]+(?:\.[\w-]+)+)"
    # Vietnamese numbers: 0 or +84, then 9 or 10 digits in groups of 2-4 after a first group of 2-3, so
    # dates ("02.05.2024") and prices never match. Groups separated by spaces are joined by _tokens.
    r"|(?P<phone>(?<![^\W_])(?:\+84[.\-]?|0)(?=(?:[.\-]?\d){9,10}(?![.\-]?\d))\d{2,3}(?:[.\-]?\d{2,4}){1,4}"
    r"(?![^\W_]|[.,:/\-]\d))"
    r"|(?P<mention>(?<![^\W_])@\w[\w.]*\w)"
    rf"|(?P<word>(?:{_WORD_CHAR}|{_LEET_INNER})+(?:(?:{_SEPARATORS}+|{_SLASH}|{_NUMBER_JOIN})"
    rf"(?:{_WORD_CHAR}|{_LEET_INNER})+)*)"
    r"|(?P<emoticon>(?:[:;=]['\-^]?[)(dpv3o|\]\[/\\]+|<3+)(?![^\W_])|\^\^|\^_\^)"
    rf"|(?P<emoji>{_EMOJI})"
)

#: Abbreviations made of single letters and dots that are legitimate Vietnamese or English.
_ABBREVIATIONS = frozenset({"t.p", "v.v", "p.s", "e.g", "i.e", "a.k.a", "t.t", "q.l", "a.m", "p.m", "u.s", "t.x"})
_VOWELS = frozenset("aeiouy")
#: Longest run of single letters tried as one spaced-out word ("t e l e g r a m").
_MAX_SPACED = 10

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_SEPARATOR_RE = re.compile(_SEPARATORS + "+")
# A run of separators with two dots in a row.
_ELLIPSIS_RE = re.compile(_SEPARATORS + r"*\.\." + _SEPARATORS + "*")
_EMOTICON_STRETCH_RE = re.compile(r"(.)\1{2,}")


def _sensitive(word: str) -> bool:
    return fold_accents(word) in sensitive_words()


def _canonical(word: str) -> str:
    """The accented dictionary form of a de-obfuscated sensitive word ("lon" -> "lồn")."""
    return canonical_forms().get(fold_accents(word), word)


def _decode_leet(word: str) -> str | None:
    """The word behind leetspeak ("l0n" -> "lồn", "ch3t" -> "chet"), if it is a known word."""
    decoded = _squeeze(word.translate(_LEET))
    if _sensitive(decoded):
        return _canonical(decoded)
    if decoded in teencode():
        return decoded
    return None


def _has_vowel(part: str) -> bool:
    return not _VOWELS.isdisjoint(fold_accents(part))


def _split_separators(word: str) -> list[str]:
    """Undo separators inside a word: "n.g.u" -> ["ngu"], "ngu.thằng" -> ["ngu", "thằng"].

    Abbreviations ("t.p", "tp.hcm", "gs.ts": a part without a vowel), numbers ("3.000đ", "12-5",
    "q.1") and names with digits stay whole.
    """
    # An ellipsis always ends a word: "v.ậ.y...ý" is "v.ậ.y" then "ý".
    pieces = _ELLIPSIS_RE.split(word)
    if len(pieces) > 1:
        return pieces
    parts = _SEPARATOR_RE.split(word)
    if all(len(part) == 1 for part in parts):
        letters = sum(part.isalpha() for part in parts)
        if word not in _ABBREVIATIONS and (letters == len(parts) or (letters and len(parts) >= 3)):
            return ["".join(parts)]
        return [word]
    dots_only = all(separator == "." for separator in _SEPARATOR_RE.findall(word))
    if dots_only and all(part.isalpha() and _has_vowel(part) for part in parts):
        return parts
    return [word]


def _split_slashes(word: str) -> list[str]:
    """ "có/không" -> ["có", "không"]; "đ/c", "a/e" and dates stay whole."""
    parts = word.split("/")
    if all(len(part) > 1 and part.isalpha() and _has_vowel(part) for part in parts):
        return parts
    return [word]


@functools.lru_cache(maxsize=1 << 16)
def _normalize_word(token: str) -> str:
    """Normalise one scanned word (lower-case NFC) to one or more space-separated words."""
    if token.isalpha():
        return _normalize_letters(token)
    word = _squeeze(token)
    if "!" in word or "$" in word or "@" in word:
        decoded = _decode_leet(word)
        if decoded is not None:
            return _normalize_letters(decoded)
        # Not a known word: "$" and "@" stand for letters, "!" between words is punctuation. The result
        # is scanned again, as it would be when normalised a second time ("x!0123456789" has a phone).
        rewritten = word.replace("$", "s").replace("@", "a").replace("!", " ")
        return " ".join(unit[0] for unit in _units(rewritten))
    for split in (_split_slashes, _split_separators):
        parts = split(word)
        if len(parts) > 1:
            return " ".join(_normalize_word(part) for part in parts)
        word = parts[0]
    # Leetspeak hides letters inside a word ("l0n", "ch3t"); a leading digit is a quantity ("7k", "100k").
    if word[:1].isalpha() and word not in teencode() and any(c.isdigit() for c in word):
        decoded = _decode_leet(word)
        if decoded is not None:
            word = decoded
    return _normalize_letters(word)


def _normalize_letters(word: str) -> str:
    word = _place_tone(_squeeze(word))
    return teencode().get(word, word)


# --- tokens -------------------------------------------------------------------------------------
# A unit is (norm, start, end, kind, mark): one word of the normalised text, its span in the
# prepared text, and what it contributes when neighbouring units are joined, whatever separated
# them: a single letter ("n g u", "n, g, u"; "k" typed for "không" counts as "k") or a group of
# digits ("0123 456 789"); None otherwise. Joining units rather than matching the raw text keeps
# normalisation idempotent: the separators it drops cannot change what a second pass joins.

_Unit = tuple[str, int, int, str, str | None]
_Token = tuple[str, int, int, str]


def _mark(raw: str, norm: str) -> str | None:
    if norm.isdecimal():
        return norm
    if len(norm) == 1:
        return norm if norm.isalpha() else None
    # Otherwise a letter that teencode expands ("k") or a stretched letter ("kkk", "ủuu").
    if len(raw) == 1:
        return raw if raw.isalpha() else None
    folded = raw.translate(_FOLD)
    if len(raw) < 3 or folded.count(folded[0]) != len(folded):
        return None
    squeezed = _squeeze(raw)
    return squeezed if len(squeezed) == 1 and squeezed.isalpha() else None


def _units(text: str) -> list[_Unit]:
    """Units of prepared ``text``, before neighbouring letters and digit groups are joined."""
    units: list[_Unit] = []
    for match in _SCANNER.finditer(text):
        kind = match.lastgroup
        start, end = match.span()
        if kind == "word":
            raw = match.group()
            norm = _normalize_word(raw)
            if " " in norm:
                units.extend((part, start, end, kind, _mark(part, part)) for part in norm.split())
            else:
                units.append((norm, start, end, kind, _mark(raw, norm)))
        elif kind in PLACEHOLDERS:
            units.append((PLACEHOLDERS[kind], start, end, kind, None))
        elif kind == "emoticon":
            units.append((_EMOTICON_STRETCH_RE.sub(r"\1\1", match.group()), start, end, kind, None))
        else:
            units.append((match.group(), start, end, kind, None))
    return units


def _phone_groups(groups: list[str]) -> bool:
    """Whether digit groups spell a Vietnamese phone number ("0123 456 789", "+84 123 456 789")."""
    first, rest = (groups[1], groups[2:]) if groups[0] == "84" else (groups[0], groups[1:])
    digits = "".join(groups)
    lengths_ok = all(2 <= len(group) <= 4 for group in rest) and bool(rest)
    if groups[0] == "84":
        return 2 <= len(first) <= 3 and lengths_ok and 11 <= len(digits) <= 12
    return first[0] == "0" and 3 <= len(first) <= 4 and lengths_ok and 10 <= len(digits) <= 11


def _join_at(units: list[_Unit], index: int, text: str) -> tuple[list[_Token], int]:
    """Tokens from the longest join starting at ``units[index]`` and how many units it took (0: none)."""
    mark = units[index][4]
    if mark is None:
        return [], 0
    run_end = index
    while run_end < len(units) and units[run_end][4] is not None and run_end - index < _MAX_SPACED:
        run_end += 1
    marks = [unit[4] for unit in units[index:run_end]]
    if mark.isalpha():
        for length in range(len(marks), 2, -1):
            joined = "".join(marks[:length])
            if joined.isalpha() and _sensitive(joined):
                start, end = units[index][1], units[index + length - 1][2]
                return [(part, start, end, "word") for part in _normalize_word(joined).split()], length
    else:
        for length in range(min(len(marks), 5), 1, -1):
            groups = marks[:length]
            if all(map(str.isdecimal, groups)) and _phone_groups(groups):
                start, end = units[index][1], units[index + length - 1][2]
                start -= text[start - 1 : start] == "+"
                return [(PLACEHOLDERS["phone"], start, end, "phone")], length
    return [], 0


def _tokens(text: str) -> list[_Token]:
    """``(normalised word, start, end, kind)`` for each token of prepared ``text``.

    Runs of 3+ single letters that spell a sensitive word and digit groups that spell a phone
    number are joined, longest first, left to right. Units left alone keep their own
    normalisation, so that a second pass finds nothing to join.
    """
    units = _units(text)
    if sum(unit[4] is not None for unit in units) < 2:
        return [unit[:4] for unit in units]
    tokens: list[_Token] = []
    index = 0
    while index < len(units):
        joined, length = _join_at(units, index, text)
        if length:
            tokens.extend(joined)
            index += length
        else:
            tokens.append(units[index][:4])
            index += 1
    return tokens


def _prepare(text: str) -> str:
    """NFC and lower case, one character out for each NFC character in.

    "İ" is the only character whose lower case is longer (it gains a combining dot); it becomes "i".
    """
    text = unicodedata.normalize("NFC", text)
    if "\u0130" in text:
        text = text.replace("\u0130", "I")
    return text.lower()


# Chunk caches: a chunk without marked units (nearly all of them) -> its normalised text; any other
# chunk -> (normalised text, number of single letters, number of digit groups). Results never
# depend on them.
_plain_chunks: dict[str, str] = {}
_marked_chunks: dict[str, tuple[str, int, int]] = {}
_CACHE_LIMIT = 300_000


def _chunk_units(chunk: str) -> list[_Unit]:
    if chunk.isalpha():
        # One word: what _units finds, without running the scanner.
        norm = _normalize_word(chunk)
        if " " not in norm:
            return [(norm, 0, len(chunk), "word", _mark(chunk, norm))]
    return _units(chunk)


def _learn_chunk(chunk: str) -> tuple[str, int, int]:
    """Cache what ``normalize`` needs to know about ``chunk``: its text, letters and digit groups."""
    units = _chunk_units(chunk)
    norm = " ".join(unit[0] for unit in units)
    marks = [unit[4] for unit in units if unit[4] is not None]
    digit_groups = sum(map(str.isdecimal, marks))
    for cache in (_plain_chunks, _marked_chunks):
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
    if units and not marks:
        _plain_chunks[chunk] = norm
    else:
        _marked_chunks[chunk] = (norm, len(marks) - digit_groups, digit_groups)
    return norm, len(marks) - digit_groups, digit_groups


def _slow_normalize(prepared: str) -> str:
    return " ".join(token[0] for token in _tokens(prepared))


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
    chunks = prepared.split()
    parts = list(map(_plain_chunks.get, chunks))
    if None in parts:
        # Letters and digit groups may join across chunks ("n g u", "0123 456 789"): count them over
        # stretches of chunks that no plain chunk interrupts (an over-estimate, which only costs the
        # slow path).
        letters = digit_groups = 0
        for index, part in enumerate(parts):
            if part is not None:
                letters = digit_groups = 0
                continue
            chunk = chunks[index]
            norm, chunk_letters, chunk_digit_groups = _marked_chunks.get(chunk) or _learn_chunk(chunk)
            letters += chunk_letters
            digit_groups += chunk_digit_groups
            if letters >= 3 or digit_groups >= 2:
                return _slow_normalize(prepared)
            parts[index] = norm
    return " ".join(filter(None, parts))


def normalize_many(texts: Iterable[str]) -> list[str]:
    """``[normalize(t) for t in texts]``."""
    return [normalize(text) for text in texts]


def clear_caches() -> None:
    """Forget cached normalisations (for cold-cache benchmarks; results never depend on the caches)."""
    _plain_chunks.clear()
    _marked_chunks.clear()
    _normalize_word.cache_clear()


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


def _nfc_offsets(text: str, nfc: str) -> tuple[Sequence[int], Sequence[int]]:
    """Map boundaries of ``nfc`` (the NFC form of ``text``) back to ``text``.

    Returns ``(down, up)``: for each boundary ``0..len(nfc)``, the nearest boundary of ``text`` at
    or before it and at or after it. Characters are grouped in clusters (a starter and whatever
    composes or reorders with it); inside a cluster, a boundary is exact where the NFC form of a
    prefix of the cluster is a prefix of the cluster's NFC form. Falls back to one cluster for the
    whole text if the clusters do not reassemble ``nfc`` exactly.
    """
    if nfc == text:
        return range(len(text) + 1), range(len(text) + 1)
    down: list[int] = []
    up: list[int] = []
    pieces: list[str] = []
    index = 0
    while index < len(text):
        end = index + 1
        composed = unicodedata.normalize("NFC", text[index:end])
        while end < len(text):
            following = text[end]
            joined = unicodedata.normalize("NFC", text[index : end + 1])
            if unicodedata.combining(following) == 0 and joined == composed + unicodedata.normalize("NFC", following):
                break
            composed = joined
            end += 1
        aligned = {0: index}
        for cut in range(index + 1, end):
            prefix = unicodedata.normalize("NFC", text[index:cut])
            if composed.startswith(prefix):
                aligned.setdefault(len(prefix), cut)
        aligned[len(composed)] = end
        for position in range(len(composed)):
            down.append(max(cut for length, cut in aligned.items() if length <= position))
            up.append(min(cut for length, cut in aligned.items() if length >= position))
        pieces.append(composed)
        index = end
    if "".join(pieces) != nfc:
        return [0] * len(nfc) + [len(text)], [len(text)] * (len(nfc) + 1)
    return [*down, len(text)], [*up, len(text)]


def analyze(text: str) -> NormalizedText:
    """Tokens of ``normalize(text)`` with their offsets in the ORIGINAL ``text``.

    One token per word of ``normalize(text)``: ``analyze(t).text == normalize(t)`` for every
    string. Words of one expansion ("vl" -> "vãi lồn") share the span they came from; joined
    letters ("n g u") span from the first letter to the last. Spans lie inside ``t`` and their
    starts never decrease, even when ``t`` is NFD, mixes case or contains emoji.
    """
    if not isinstance(text, str):
        raise TypeError(f"analyze() expects str, got {type(text).__name__}")
    prepared = _prepare(text)
    down, up = _nfc_offsets(text, unicodedata.normalize("NFC", text))
    tokens = [Token(norm, down[start], up[end], kind) for norm, start, end, kind in _tokens(prepared)]
    return NormalizedText(text, tuple(tokens))


def extract_entities(text: str) -> list[Entity]:
    """URLs, e-mails, phone numbers and @mentions in ``text`` with their original spans."""
    analysed = analyze(text)
    return [
        Entity(token.kind, token.start, token.end, analysed.surface(token))
        for token in analysed.tokens
        if token.kind in PLACEHOLDERS
    ]
