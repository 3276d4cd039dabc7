"""Which words made the model flag a text.

Only labels the model flags on the text are explained. For ``offensive`` and ``hate`` the model's
span tagger (:mod:`classifier.spans`, trained on the ViHOS spans) marks the words when the model
has one; a span's weight is then the tagger's probability. Every other label, models without a
tagger, and texts where the tagger finds nothing are explained by attribution: each word's
contribution to the label's log-odds, exact for the TF-IDF + linear backend (every n-gram's
``x * w`` term shared among the words it covers) and by occlusion (remove the word, measure the drop)
for any other backend. A word of the text counts as one even when teencode expands it ("vl" ->
"vãi lồn"). Words of the project's sensitive-word lexicon that hint at the label are evidence too.
An attributed span's weight is its share of the evidence times the label's probability.

Pronouns, kinship terms and particles ("em", "anh", "mẹ", "nhé") are in most messages; they are
shown only when they carry a large share of the weight, sit inside a lexicon phrase, or join two
pieces of evidence into one phrase ("gửi anh ảnh riêng tư").

Offsets are in the ORIGINAL text: they survive NFD input, teencode, obfuscation ("đ.m", "n g u",
"l0n") and emoji, because tokens come from :func:`classifier.normalize.analyze`.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import scipy.sparse as sp

from classifier.normalize import Token, analyze, fold_accents
from classifier.spans import SPAN_LABELS, join_tokens, lexicon_labels
from classifier.verdict import Span, Verdict

#: Longest text, in words, explained by attribution (occlusion makes one prediction per word).
MAX_WORDS = 200
#: Smallest contribution to a label's log-odds that counts as evidence.
MIN_SCORE = 0.15
#: A word counts only if its contribution is at least this share of the strongest word's.
RELATIVE_WEIGHT = 0.35
#: Without content words as evidence, weak words need this share of the strongest contribution.
WEAK_SHARE = 0.5

#: Pronouns, kinship terms used as pronouns, particles and other words found in most messages.
WEAK_WORDS = frozenset({
    "em", "anh", "chị", "mẹ", "bố", "ba", "má", "con", "cháu", "cô", "chú", "bác", "ông", "bà", "dì", "cậu", "mợ",
    "thím", "tao", "mày", "tôi", "tớ", "mình", "bạn", "nó", "họ", "chúng", "ta", "người", "ai", "ơi", "nhé", "nha",
    "nhá", "nhe", "à", "ạ", "ừ", "ờ", "hả", "hở", "nhỉ", "nhở", "đi", "với", "và", "thì", "là", "mà", "của", "cho",
    "có", "không", "chưa", "đã", "đang", "sẽ", "rồi", "này", "kia", "đó", "đấy", "ấy", "thôi", "luôn", "cũng",
    "vẫn", "còn", "được", "bị", "lại", "ra", "vào", "lên", "xuống", "nữa", "thế", "vậy", "sao", "gì", "nào", "đâu",
    "một", "các", "những", "cái", "chiếc", "rất", "quá", "lắm", "hơn", "nhất", "ở", "tại", "trong", "ngoài", "trên",
    "dưới", "khi", "nếu", "vì", "để", "hay", "hoặc", "như"
})


def explain(model, text: str, *, verdict: Verdict | None = None, labels: list[str] | None = None) -> list[Span]:
    """Spans of ``text`` supporting each flagged label (or each of ``labels``), strongest first.

    Parameters
    ----------
    model : Classifier
        The model whose verdict is explained; its ``span_tagger`` (if any) marks offensive and
        hateful words.
    text : str
        The original text; every span's ``start``/``end`` index into it.
    verdict : Verdict or None, default=None
        The model's verdict on ``text`` if already computed.
    labels : list of str or None, default=None
        Labels to explain instead of the flagged ones.

    Returns
    -------
    list of Span
        Non-overlapping spans per label, sorted by decreasing weight.
    """
    if verdict is None:
        verdict = model.check(text, explain=False)
    targets = [label for label in (labels if labels is not None else verdict.flagged) if label in model.labels]
    if not targets:
        return []
    spans: list[Span] = []
    tagger = getattr(model, "span_tagger", None)
    tagged = None
    remaining = []
    for label in targets:
        if tagger is not None and label in SPAN_LABELS:
            if tagged is None:
                # The model has already judged the whole text, so the tagger's own gate is off.
                tagged = tagger.predict_spans([text], gate=False)[0]
            if tagged:
                spans.extend(Span(start, end, text[start:end], label, weight) for start, end, weight in tagged)
                continue
        remaining.append(label)
    if remaining:
        spans.extend(attribution_spans(model, text, remaining))
    return sorted(spans, key=lambda span: (-span.weight, span.start))


def words_of(text: str) -> list[list[Token]]:
    """Tokens of ``text`` grouped by the surface they come from ("vl" gives "vãi" and "lồn" together)."""
    words: list[list[Token]] = []
    for token in analyze(text).tokens:
        if words and (words[-1][0].start, words[-1][0].end) == (token.start, token.end):
            words[-1].append(token)
        else:
            words.append([token])
    return words


def attribution_spans(model, text: str, labels: list[str]) -> list[Span]:
    """Evidence for ``labels`` from per-word contributions to each label's log-odds, plus lexicon phrases."""
    words = words_of(text)[:MAX_WORDS]
    if not words:
        return []
    norms = [" ".join(token.norm for token in word) for word in words]
    lexical = lexicon_labels([fold_accents(norm) for norm in norms])
    surfaces = [Token(norm, word[0].start, word[0].end, word[0].kind) for norm, word in zip(norms, words, strict=True)]
    probability = model.predict_proba([" ".join(norms)])[0]
    joined = np.asarray([not text[a.end : b.start].strip() for a, b in pairwise(surfaces)],
                        dtype=bool)
    contributions = linear_contributions(model, norms, labels)
    if contributions is None:
        contributions = occlusion_contributions(model, norms, labels)
    spans: list[Span] = []
    for label, scores in zip(labels, contributions, strict=True):
        in_lexicon = np.asarray([label in hits for hits in lexical])
        keep = evidence_mask(norms, scores, in_lexicon, joined)
        positive = np.clip(scores, 0.0, None)
        total = positive[keep].sum()
        # A span's weight is its share of the evidence times the label's probability.
        share = positive / total if total > 0 else keep / max(keep.sum(), 1)
        weights = share * probability[model.labels.index(label)]
        for start, end, weight in join_tokens(text, surfaces, keep, weights):
            spans.append(Span(start, end, text[start:end], label, weight))
    return spans


def _log_odds(proba: np.ndarray) -> np.ndarray:
    proba = np.clip(proba, 1e-9, 1 - 1e-9)
    return np.log(proba) - np.log1p(-proba)


def occlusion_contributions(model, norms: list[str], labels: list[str]) -> np.ndarray:
    """Drop in each label's log-odds when each word is removed; shape (len(labels), len(norms)). Any backend."""
    variants = [" ".join(norms[:i] + norms[i + 1 :]) for i in range(len(norms))]
    columns = [model.labels.index(label) for label in labels]
    odds = _log_odds(model.predict_proba([" ".join(norms), *variants])[:, columns])
    return (odds[0] - odds[1:]).T


def linear_contributions(model, norms: list[str], labels: list[str]) -> np.ndarray | None:
    """Exact per-word share of each label's linear score for the TF-IDF + linear backend, else None.

    Every n-gram feature's term ``x_f * w_f`` is split evenly over the words it covers (a feature
    seen twice, over both occurrences), so a word's contributions add up to the score minus the
    intercept: no sampling and none of the renormalisation artefacts of removing words.
    """
    from classifier.features import CharNgrams

    estimator = getattr(model.backend, "estimator", None)
    featurizer = getattr(estimator, "featurizer_", None)
    coef = getattr(estimator, "coef_", None)
    if featurizer is None or coef is None or not hasattr(featurizer, "vectorizers_"):
        return None
    columns = [model.labels.index(label) for label in labels]
    owner = [i for i, norm in enumerate(norms) for _ in norm.split()]
    views = {"normalised": " ".join(norms), "folded": fold_accents(" ".join(norms))}
    blocks = list(zip(featurizer.vectorizers_, featurizer._blocks(), strict=True))
    rows = [vectorizer.transform([views[view]]) for vectorizer, (_, view, _) in blocks]
    if not getattr(estimator, "multilabel_", True):
        # Softmax scores matter only relative to the other classes.
        weights = np.asarray(coef, dtype=np.float64)
        weights = (weights - weights.mean(axis=0))[columns]
    else:
        # Expert heads are mixed differently for every text: take this text's weights.
        weights, _ = estimator.linear_weights(sp.hstack(rows, format="csr"), columns)
    result = np.zeros((len(columns), len(norms)))
    offset = 0
    for (vectorizer, (analyzer, view, ngram_range)), row in zip(blocks, rows, strict=True):
        tokens = views[view].split()
        if len(tokens) != len(owner):
            return None
        occurrences: dict[int, list[range]] = {}
        low, high = ngram_range
        if analyzer == "word":
            for n in range(low, high + 1):
                for i in range(len(tokens) - n + 1):
                    index = vectorizer.vocabulary_.get(" ".join(tokens[i : i + n]))
                    if index is not None:
                        occurrences.setdefault(index, []).append(range(i, i + n))
        else:
            grams = CharNgrams(low, high)
            for i, token in enumerate(tokens):
                for gram in grams(token):
                    index = vectorizer.vocabulary_.get(gram)
                    if index is not None:
                        occurrences.setdefault(index, []).append(range(i, i + 1))
        for index, value in zip(row.indices, row.data, strict=True):
            found = occurrences.get(int(index))
            if not found:
                return None
            term = value * weights[:, offset + index]
            for span in found:
                for position in span:
                    result[:, owner[position]] += term / (len(found) * len(span))
        offset += len(vectorizer.vocabulary_)
    return result


def evidence_mask(norms: list[str], scores: np.ndarray, in_lexicon: np.ndarray, joined: np.ndarray) -> np.ndarray:
    """Which words are evidence, from their contributions to the label's log-odds.

    Parameters
    ----------
    norms : list of str
        Normalised words.
    scores : ndarray of shape (n_words,)
        Contribution of each word to the label's log-odds.
    in_lexicon : ndarray of shape (n_words,)
        Words inside a lexicon phrase for the label: always evidence.
    joined : ndarray of shape (n_words - 1,)
        Whether only whitespace separates word ``i`` from word ``i + 1``.

    A content word counts when it contributes at least :data:`MIN_SCORE` and
    :data:`RELATIVE_WEIGHT` of the strongest content word. A weak word (:data:`WEAK_WORDS`) as
    strong as that joins the evidence next to it ("tao đánh chết mày"), or fills a one-word gap
    inside a phrase ("gửi anh ảnh riêng tư"); it stands alone only when no content word is evidence.
    """
    weak = np.asarray([norm in WEAK_WORDS for norm in norms], dtype=bool)
    content = scores[~weak | in_lexicon]
    strongest = float(content.max(initial=0.0))
    if strongest < MIN_SCORE:
        strongest = float(scores.max(initial=0.0))
        floor = max(MIN_SCORE, WEAK_SHARE * strongest)
        return in_lexicon | (scores >= floor)
    floor = max(MIN_SCORE, RELATIVE_WEIGHT * strongest)
    keep = in_lexicon | ((scores >= floor) & ~weak)
    left = np.concatenate([[False], joined])
    right = np.concatenate([joined, [False]])
    for _ in range(2):
        before = np.concatenate([[False], keep[:-1]]) & left
        after = np.concatenate([keep[1:], [False]]) & right
        keep = keep | (weak & (scores >= floor) & (before | after))
    gap = weak & ~keep & (scores >= 0) & np.concatenate([[False], keep[:-1]]) & left \
        & np.concatenate([keep[1:], [False]]) & right
    return keep | gap
