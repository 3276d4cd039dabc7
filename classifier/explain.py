"""Which words made the model flag a text.

Attribution by occlusion: each token of the normalised text is removed in turn and the drop in
the flagged label's probability is its weight. Works for every backend. Words from the project's
sensitive-word lexicon that hint at a flagged label are added as evidence too. Offsets are in the
ORIGINAL text (they survive NFD input, teencode, obfuscation and emoji).
"""

from __future__ import annotations

import numpy as np

from classifier.normalize import analyze, fold_accents, sensitive_words
from classifier.verdict import Span, Verdict

MAX_TOKENS = 200
MIN_WEIGHT = 0.02


def _lexicon_hits(folded_tokens: list[str], label: str) -> set[int]:
    """Indices of tokens inside a lexicon phrase (up to 4 tokens) that hints at ``label``."""
    lexicon = sensitive_words()
    hits: set[int] = set()
    for length in (4, 3, 2, 1):
        for i in range(len(folded_tokens) - length + 1):
            phrase = " ".join(folded_tokens[i : i + length])
            if label in lexicon.get(phrase, ()):
                hits.update(range(i, i + length))
    return hits


def explain(model, text: str, *, verdict: Verdict | None = None, labels: list[str] | None = None) -> list[Span]:
    """Spans of ``text`` supporting each flagged label (or each of ``labels``), strongest first."""
    if verdict is None:
        verdict = model.check(text, explain=False)
    targets = labels if labels is not None else verdict.flagged
    if not targets:
        return []
    analysed = analyze(text)
    tokens = list(analysed.tokens[:MAX_TOKENS])
    if not tokens:
        return []
    norms = [token.norm for token in tokens]
    variants = [" ".join(norms[:i] + norms[i + 1 :]) for i in range(len(norms))]
    base = model.predict_proba([" ".join(norms)])[0]
    occluded = model.predict_proba(variants)
    folded = [fold_accents(norm) for norm in norms]
    spans: list[Span] = []
    for label in targets:
        if label not in model.labels:
            continue
        j = model.labels.index(label)
        drops = base[j] - occluded[:, j]
        lexical = _lexicon_hits(folded, label)
        for i, token in enumerate(tokens):
            weight = float(drops[i])
            if i in lexical:
                weight = max(weight, MIN_WEIGHT)
            if weight >= MIN_WEIGHT:
                spans.append(Span(token.start, token.end, text[token.start : token.end], label, weight))
    return merge_adjacent(sorted(spans, key=lambda s: (s.label, s.start)), text)


def merge_adjacent(spans: list[Span], text: str) -> list[Span]:
    """Join spans of the same label separated only by spaces or punctuation; strongest first."""
    merged: list[Span] = []
    for span in spans:
        previous = merged[-1] if merged else None
        if (previous is not None and previous.label == span.label
                and not text[previous.end : span.start].strip(" ,.!?-")):
            merged[-1] = Span(previous.start, span.end, text[previous.start : span.end], span.label,
                              max(previous.weight, span.weight))
        else:
            merged.append(span)
    return sorted(merged, key=lambda s: -s.weight)


def highlight_mask(text: str, spans: list[Span]) -> np.ndarray:
    """Boolean mask over characters of ``text`` covered by any span."""
    mask = np.zeros(len(text), dtype=bool)
    for span in spans:
        mask[span.start : span.end] = True
    return mask
