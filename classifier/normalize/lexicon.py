"""Word lists shipped as data files: the teencode dictionary and the sensitive-word lexicon."""

from __future__ import annotations

import functools
from importlib import resources

_DATA = "classifier.resources"


def _read_tsv(name: str) -> list[list[str]]:
    text = resources.files(_DATA).joinpath(name).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rows.append([cell.strip() for cell in line.split("\t")])
    return rows


@functools.cache
def teencode() -> dict[str, str]:
    """Teencode, slang and no-diacritics shorthand -> standard Vietnamese (``teencode.tsv``)."""
    table: dict[str, str] = {}
    for row in _read_tsv("teencode.tsv"):
        short, expansion = row[0], row[1]
        table[short.lower()] = expansion.lower()
    return table


@functools.cache
def sensitive_words() -> dict[str, tuple[str, ...]]:
    """Sensitive words and phrases -> the labels they hint at (``sensitive_words.tsv``).

    Keys are lower-case and accent-folded so that they match whether or not a message was
    typed with diacritics. Used to undo obfuscation ("l0n", "n g u") and to explain verdicts.
    """
    from classifier.normalize.core import fold_accents

    table: dict[str, tuple[str, ...]] = {}
    for row in _read_tsv("sensitive_words.tsv"):
        word, labels = row[0].lower(), tuple(x for x in row[1].split(",") if x)
        key = fold_accents(word)
        table[key] = tuple(dict.fromkeys(table.get(key, ()) + labels))
    return table


@functools.cache
def canonical_forms() -> dict[str, str]:
    """Accent-folded sensitive word -> its accented dictionary form."""
    from classifier.normalize.core import fold_accents

    return {fold_accents(row[0].lower()): row[0].lower() for row in _read_tsv("sensitive_words.tsv")}
