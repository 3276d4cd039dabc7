"""Grooming tactic cues and age cues in one message, with evidence quoted from the original text.

The cues are data (``classifier/resources/conversation_cues.tsv``): regular expressions over the
normalised, accent-folded text of each clause, so "đừng nói với mẹ", "dung noi voi me" and
"đừng nói vs m.ẹ" all match the same cue. Offsets map back to the original message through
:func:`classifier.normalize.analyze`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from classifier.normalize import analyze, fold_accents

#: Grooming tactics, in the order a report lists them (Olson's luring communication, roughly).
TACTICS = ("flattery", "probing", "gifts", "isolation", "secrecy", "private_app", "meeting", "photo_request",
           "sexual_talk", "sextortion")
CONTEXT_KINDS = ("parents_informed", "safety_talk", "reported", "benign_secret", "minor_context", "adult_context",
                 "self_harm", "self_harm_idiom", "scam")

_NEGATORS = frozenset({"khong", "dung", "chua", "khoi", "chang", "cam", "deo", "never", "not", "dont"})
_NEGATION_WINDOW = 2
_QUESTION_WORDS = frozenset({"may", "nao", "gi", "sao", "mo", "rang", "dau", "bao", "nhieu", "ai"})
_QUESTION_ENDINGS = frozenset({"khong", "chua", "a", "ha", "nhi", "chu", "vay", "hong", "hem", "ne", "chang"})
_CLAUSE_BREAK = re.compile(r"[.!?…;]+(?=\s|$)|[,\n]+|\s[-–—]\s")
_QUOTES = re.compile(r"[\"“”«»]([^\"“”«»]{3,})[\"“”«»]")
QUOTED_DISCOUNT = 0.25
MAX_EVIDENCE = 160


@dataclass(frozen=True)
class Cue:
    kind: str
    weight: float
    pattern: re.Pattern
    ask: bool = False
    negated: bool = False


@dataclass(frozen=True)
class CueHit:
    """A cue found in a message: its kind and weight, and the clause of the ORIGINAL text it sits in."""

    kind: str
    weight: float
    start: int
    end: int
    evidence: str


def _read_rows() -> list[list[str]]:
    text = resources.files("classifier.resources").joinpath("conversation_cues.tsv").read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


@functools.cache
def cues() -> tuple[Cue, ...]:
    """Every cue of ``conversation_cues.tsv``, macros expanded and compiled."""
    macros: dict[str, str] = {}
    result = []
    for number, row in enumerate(_read_rows(), start=1):
        if row[0].startswith("@"):
            macros[row[0][1:]] = _expand(row[1].strip(), macros)
            continue
        if len(row) != 4:
            raise ValueError(f"conversation_cues.tsv row {number}: expected kind, weight, flags, pattern")
        kind, weight, flags, pattern = (cell.strip() for cell in row)
        if kind not in TACTICS and kind not in CONTEXT_KINDS:
            raise ValueError(f"conversation_cues.tsv row {number}: unknown kind {kind!r}")
        compiled = re.compile(rf"(?<![a-z0-9])(?:{_expand(pattern, macros)})(?![a-z0-9])")
        result.append(Cue(kind, float(weight), compiled, ask="ask" in flags, negated="neg" in flags))
    return tuple(result)


def _expand(pattern: str, macros: dict[str, str]) -> str:
    return re.sub(r"\{([a-z_]+)\}", lambda m: macros[m.group(1)] if m.group(1) in macros else m.group(0), pattern)


@dataclass(frozen=True)
class _Clause:
    start: int
    end: int
    folded: str
    token_starts: tuple[int, ...]  # char offset of each token in ``folded``
    token_spans: tuple[tuple[int, int], ...]  # original offsets of each token
    question: bool


def _clauses(text: str) -> list[_Clause]:
    bounds, last = [], 0
    for match in _CLAUSE_BREAK.finditer(text):
        bounds.append((last, match.start(), match.group()))
        last = match.end()
    bounds.append((last, len(text), ""))
    clauses = []
    for start, end, punctuation in bounds:
        piece = text[start:end]
        analysed = analyze(piece)
        tokens = [t for t in analysed.tokens if t.kind not in ("emoji", "emoticon")]
        if not tokens:
            continue
        folded_tokens = [fold_accents(t.norm) for t in tokens]
        starts, position = [], 0
        for token in folded_tokens:
            starts.append(position)
            position += len(token) + 1
        words = " ".join(folded_tokens).split()
        question = "?" in punctuation or "?" in piece or bool(_QUESTION_WORDS.intersection(words)) or (
            bool(words) and words[-1] in _QUESTION_ENDINGS)
        clauses.append(_Clause(start, end, " ".join(folded_tokens), tuple(starts),
                               tuple((start + t.start, start + t.end) for t in tokens), question))
    return clauses


def _token_index(clause: _Clause, char: int) -> int:
    import bisect

    return max(0, bisect.bisect_right(clause.token_starts, char) - 1)


def _negated(clause: _Clause, match_start: int) -> bool:
    first = _token_index(clause, match_start)
    before = clause.folded[: clause.token_starts[first]].split()[-_NEGATION_WINDOW:]
    return any(word in _NEGATORS for word in before)


def _quoted_ranges(text: str) -> list[tuple[int, int]]:
    return [match.span(1) for match in _QUOTES.finditer(text)]


def _evidence(text: str, clause: _Clause) -> str:
    quote = " ".join(text[clause.start : clause.end].split()).strip(" ,;-")
    return quote if len(quote) <= MAX_EVIDENCE else quote[: MAX_EVIDENCE - 1].rstrip() + "…"


def find_cues(text: str) -> list[CueHit]:
    """Every cue in ``text`` (at most one hit per kind and clause: the strongest)."""
    if not text or not text.strip():
        return []
    quoted = _quoted_ranges(text)
    hits: list[CueHit] = []
    for clause in _clauses(text):
        best: dict[str, CueHit] = {}
        for cue in cues():
            if cue.ask and not clause.question:
                continue
            for match in cue.pattern.finditer(clause.folded):
                if not cue.negated and _negated(clause, match.start()):
                    continue
                first = clause.token_spans[_token_index(clause, match.start())]
                last = clause.token_spans[_token_index(clause, max(match.start(), match.end() - 1))]
                weight = cue.weight
                if any(lo <= first[0] and last[1] <= hi for lo, hi in quoted):
                    weight *= QUOTED_DISCOUNT
                hit = CueHit(cue.kind, weight, first[0], last[1], _evidence(text, clause))
                if cue.kind not in best or best[cue.kind].weight < weight:
                    best[cue.kind] = hit
                break
        hits.extend(best.values())
    return hits


# --- ages --------------------------------------------------------------------------------------------

_SELF_AGE = re.compile(
    r"(?<![a-z0-9])(?:em|e|chau|con|tao|t|to|minh|tui|toi|be|anh|a|chu|bac|co|chi|ong|i m|im|i am)"
    r"(?: nam nay| nay| moi| chi| da| sap| cung| thi| la| duoc| tron)*"
    r" (\d{1,2})(?: ?(?:tuoi|t|yo|years old))?(?![0-9a-z])(?! (?:diem|k|nghin|trieu|phut|gio|h|lan|ngay|thang|nam"
    r"|kg|cm|m|sao|tran|con|nguoi|dua|ban|cai|tam|van|lop|trang))")
_AGE = re.compile(r"(?<![a-z0-9])(\d{1,2}) ?(?:tuoi|t|yo|years old)(?![a-z0-9])")
_GRADE = re.compile(r"(?<![a-z0-9])(?:lop|khoi|grade) (\d{1,2})(?:[a-z]\d{0,2})?(?![0-9])"
                    r"|(?<![a-z0-9])([1-9])[a-z]\d(?![0-9a-z])")


@dataclass(frozen=True)
class AgeCues:
    """Age cues in a message: stated ages, school grades ("lớp 6", "7A4"), and the ``minor_context`` /
    ``adult_context`` cues of the cue file (school words, "bé ơi"; "đi làm rồi", "sinh viên")."""

    ages: tuple[int, ...]
    grades: tuple[int, ...]
    school: bool
    adult_role: bool

    @property
    def minor(self) -> bool:
        return any(5 <= a <= 17 for a in self.ages) or any(1 <= g <= 12 for g in self.grades) or self.school

    @property
    def adult(self) -> bool:
        return any(18 <= a <= 79 for a in self.ages) or self.adult_role


def age_cues(text: str, hits: list[CueHit] | None = None) -> AgeCues:
    """Age cues of ``text``; pass ``hits`` (from :func:`find_cues`) to avoid finding the cues twice."""
    kinds = {hit.kind for hit in (find_cues(text) if hits is None else hits)}
    folded = " ".join(c.folded for c in _clauses(text))
    ages = {int(m.group(1)) for m in _SELF_AGE.finditer(folded)} | {int(m.group(1)) for m in _AGE.finditer(folded)}
    grades = {int(m.group(1) or m.group(2)) for m in _GRADE.finditer(folded)}
    return AgeCues(tuple(sorted(ages)), tuple(sorted(grades)), "minor_context" in kinds, "adult_context" in kinds)
