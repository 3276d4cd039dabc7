"""Which characters of a comment are offensive or hateful: a token tagger trained on ViHOS spans.

Each token of :func:`classifier.normalize.analyze` (normalised, with its ORIGINAL offsets) is
tagged by a logistic regression over hashed features: the token's normalised, accent-folded and
surface forms, character n-grams, its neighbours (two either side), lexicon membership and the
comment-level context (the probability that the whole comment is toxic, from a second linear model
trained out-of-fold so the tagger learns how much to trust it). A second pass adds the first-pass
probabilities of the neighbours, a cheap stand-in for a linear-chain CRF that lets runs of toxic
words ("đụ má đụ cha", "con mẹ nấm thối") stay together.

Positive tokens are joined into spans across whitespace only, as the ViHOS annotators did: the
spaces inside "nông cản" belong to the span, a comma between two insults does not.

Nothing is pickled: :meth:`SpanTagger.get_state` returns JSON parameters and numpy arrays, written
to ``spans.npz`` and read back with ``allow_pickle=False``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator

from classifier.fileio import array_to_json, json_to_array
from classifier.normalize import Token, analyze, sensitive_words

#: Labels whose evidence comes from the span tagger (ViHOS does not tell offensive from hateful spans).
SPAN_LABELS = ("offensive", "hate")
ARTIFACT = "spans.npz"
#: Longest lexicon phrase, in tokens.
_MAX_PHRASE = 4


# --- the ViHOS / SemEval-2021 toxic-spans metric -------------------------------------------------

def span_f1(gold: Sequence[int], predicted: Sequence[int]) -> float:
    """F1 between two sets of character offsets of one comment.

    Both empty counts 1, exactly one empty counts 0 (SemEval-2021 Task 5, ViHOS).
    """
    gold_set, predicted_set = set(gold), set(predicted)
    if not gold_set or not predicted_set:
        return float(not gold_set and not predicted_set)
    overlap = len(gold_set & predicted_set)
    return 2 * overlap / (len(gold_set) + len(predicted_set))


def mean_span_f1(gold: Sequence[Sequence[int]], predicted: Sequence[Sequence[int]]) -> float:
    """Per-comment :func:`span_f1` averaged over comments (0.0 for no comments)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold span lists but {len(predicted)} predicted")
    if not gold:
        return 0.0
    return float(np.mean([span_f1(g, p) for g, p in zip(gold, predicted, strict=True)]))


# --- tokens, targets and spans ---------------------------------------------------------------------

def lexicon_labels(folded: Sequence[str]) -> list[set[str]]:
    """For each accent-folded token, the labels of the lexicon phrases (up to 4 tokens) covering it."""
    lexicon = sensitive_words()
    hits: list[set[str]] = [set() for _ in folded]
    for length in range(_MAX_PHRASE, 0, -1):
        for i in range(len(folded) - length + 1):
            labels = lexicon.get(" ".join(folded[i : i + length]))
            if labels:
                for k in range(i, i + length):
                    hits[k].update(labels)
    return hits


def token_targets(tokens: Sequence[Token], offsets: Sequence[int]) -> np.ndarray:
    """1 for each token with more than half of its characters inside the gold ``offsets``."""
    gold = set(offsets)
    return np.asarray([2 * sum(i in gold for i in range(t.start, t.end)) > t.end - t.start for t in tokens],
                      dtype=np.int8)


def join_tokens(text: str, tokens: Sequence[Token], positive: Sequence[bool],
                weights: Sequence[float]) -> list[tuple[int, int, float]]:
    """``(start, end, weight)`` runs of positive tokens, joined across whitespace only (ViHOS style)."""
    runs: list[tuple[int, int, float]] = []
    for token, is_positive, weight in zip(tokens, positive, weights, strict=True):
        if not is_positive:
            continue
        # Teencode expansions ("vl" -> "vãi lồn") share one surface: overlapping tokens join too.
        if runs and not text[runs[-1][1] : token.start].strip():
            start, end, previous = runs[-1]
            runs[-1] = (start, max(end, token.end), max(previous, float(weight)))
        else:
            runs.append((token.start, token.end, float(weight)))
    return runs


def span_offsets(runs: Sequence[tuple[int, int, float]]) -> list[int]:
    """Character offsets covered by ``(start, end, weight)`` runs."""
    return sorted({i for start, end, _ in runs for i in range(start, end)})


# --- features --------------------------------------------------------------------------------------

def _char_ngrams(word: str, low: int = 2, high: int = 4) -> list[str]:
    padded = f"<{word[:24]}>"
    return [padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


def _sentence_features(tokens: Sequence[Token]) -> list[str]:
    folded = [t.folded for t in tokens]
    features = ["bias"]
    features += [f"w={t.norm}" for t in tokens]
    features += [f"f={f}" for f in folded]
    features += [f"b={a}|{b}" for a, b in pairwise(folded)]
    for f in folded:
        features += [f"c={g}" for g in _char_ngrams(f, 2, 5)]
    for labels in lexicon_labels(folded):
        features += [f"lex={label}" for label in labels]
    return features


def _surface(text: str, token: Token) -> str:
    return unicodedata.normalize("NFC", text[token.start : token.end])


def _token_features(text: str, tokens: Sequence[Token], sentence: float, window: int) -> list[list[tuple[str, float]]]:
    """Hashed-feature ``(name, value)`` pairs for each token of one comment."""
    folded = [t.folded for t in tokens]
    norms = [t.norm for t in tokens]
    lexical = lexicon_labels(folded)
    n = len(tokens)
    level = min(int(sentence * 5), 4)

    def at(sequence: Sequence[str], i: int) -> str:
        return sequence[i] if 0 <= i < n else ("<s>" if i < 0 else "</s>")

    rows = []
    for i, token in enumerate(tokens):
        surface = _surface(text, token)
        names = ["bias", f"w={norms[i]}", f"f={folded[i]}", f"s={surface.lower()}", f"k={token.kind}",
                 f"sl={level}", f"sl={level}|f={folded[i]}"]
        if surface[:1].isupper():
            names.append("cap" if i else "cap0")
        if len(surface) > 1 and surface.isupper():
            names.append("upper")
        if i == 0:
            names.append("first")
        if i == n - 1:
            names.append("last")
        names += [f"c={g}" for g in _char_ngrams(folded[i])]
        for label in lexical[i]:
            names += [f"lex={label}", f"sl={level}|lex={label}"]
        for d in range(-window, window + 1):
            if d:
                names.append(f"f{d:+d}={at(folded, i + d)}")
                if 0 <= i + d < n and lexical[i + d]:
                    names.append(f"lex{d:+d}")
        names += [f"w-1={at(norms, i - 1)}|{norms[i]}", f"w+1={norms[i]}|{at(norms, i + 1)}",
                  f"f-1={at(folded, i - 1)}|{folded[i]}", f"f+1={folded[i]}|{at(folded, i + 1)}",
                  f"t={at(folded, i - 1)}|{folded[i]}|{at(folded, i + 1)}"]
        pairs = [(name, 1.0) for name in names]
        pairs.append(("sentence", _scaled_logit(sentence)))
        rows.append(pairs)
    return rows


def _scaled_logit(probability: float) -> float:
    """Log-odds clipped to [-8, 8] and divided by 4: numeric features on the scale of the 0/1 ones,
    which the dual solver needs to converge quickly."""
    probability = min(max(float(probability), 3e-4), 1 - 3e-4)
    return float(np.log(probability / (1 - probability))) / 4.0


def _context_features(probabilities: np.ndarray, window: int) -> list[list[tuple[str, float]]]:
    """Second-pass features: the first-pass probabilities of the token and its neighbours."""
    n = len(probabilities)
    logits = [_scaled_logit(p) for p in probabilities]
    rows = []
    for i in range(n):
        pairs = [("p0", float(logits[i]))]
        for d in range(-window, window + 1):
            if d:
                j = i + d
                if 0 <= j < n:
                    pairs.append((f"p{d:+d}", float(logits[j])))
                    pairs.append((f"p{d:+d}>{int(probabilities[j] >= 0.5)}", 1.0))
                else:
                    pairs.append((f"p{d:+d}=edge", 1.0))
        rows.append(pairs)
    return rows


@dataclass(frozen=True)
class Tagged:
    """One comment as the tagger sees it: its tokens, each token's probability, the comment's."""

    tokens: tuple[Token, ...]
    proba: np.ndarray
    comment: float


# --- the estimator ----------------------------------------------------------------------------------

class SpanTagger(BaseEstimator):
    """Token tagger for offensive and hateful spans (ViHOS), over original character offsets.

    Parameters
    ----------
    C : float, default=0.5
        Inverse regularisation of the token logistic regression.
    sentence_C : float, default=4.0
        Inverse regularisation of the comment-level logistic regression.
    window : int, default=2
        Neighbours on each side whose words (and, in the second pass, probabilities) are features.
    n_features : int, default=2**20
        Size of the hashed feature space.
    cv : int, default=3
        Folds for the out-of-fold comment and first-pass probabilities the later stages learn from.
    threshold : float, default=0.5
        Token probability at which a token is part of a span.
    sentence_threshold : float, default=0.0
        Comment-level probability under which no span is predicted when gating is on.
    random_state : int, default=0
        Seed of the folds.

    Attributes
    ----------
    sentence_coef_, token_coef_, context_coef_ : ndarray of shape (n_features,)
        Weights of the comment model, the first pass and the second pass over hashed features.
    sentence_intercept_, token_intercept_, context_intercept_ : float
    """

    def __init__(self, *, C=0.5, sentence_C=4.0, window=2, n_features=2**20, cv=3, threshold=0.5,
                 sentence_threshold=0.0, random_state=0):
        self.C = C
        self.sentence_C = sentence_C
        self.window = window
        self.n_features = n_features
        self.cv = cv
        self.threshold = threshold
        self.sentence_threshold = sentence_threshold
        self.random_state = random_state

    # -- building blocks -----------------------------------------------------------------------

    def _hasher(self, input_type: str):
        from sklearn.feature_extraction import FeatureHasher

        return FeatureHasher(n_features=self.n_features, input_type=input_type, alternate_sign=False)

    @staticmethod
    def _fit_linear(matrix, target: np.ndarray, C: float) -> tuple[np.ndarray, float]:
        """``(coef, intercept)`` of a logistic regression; a constant model when ``target`` has one class."""
        from sklearn.linear_model import LogisticRegression

        if target.min(initial=0) == target.max(initial=0):
            rate = float(np.clip(target.mean() if len(target) else 0.0, 1e-3, 1 - 1e-3))
            return np.zeros(matrix.shape[1], np.float32), float(np.log(rate / (1 - rate)))
        # The dual liblinear solver is by far the fastest when hashed features outnumber the rows.
        head = LogisticRegression(C=C, solver="liblinear", dual=True, max_iter=3000).fit(matrix, target)
        return head.coef_[0].astype(np.float32), float(head.intercept_[0])

    def _sentence_matrix(self, analysed: Sequence[Sequence[Token]]):
        return self._hasher("string").transform(_sentence_features(tokens) for tokens in analysed)

    def _token_matrix(self, texts, analysed, sentence):
        rows = []
        for text, tokens, probability in zip(texts, analysed, sentence, strict=True):
            rows.extend(_token_features(text, tokens, float(probability), self.window))
        return self._hash_pairs(rows)

    def _context_matrix(self, analysed, first):
        rows = []
        for probabilities in _split_by(first, analysed):
            rows.extend(_context_features(probabilities, self.window))
        return self._hash_pairs(rows)

    def _hash_pairs(self, rows: list[list[tuple[str, float]]]):
        if not rows:  # FeatureHasher refuses an empty batch (texts without a single token)
            import scipy.sparse as sp

            return sp.csr_matrix((0, self.n_features), dtype=np.float64)
        return self._hasher("pair").transform(rows)

    @staticmethod
    def _linear(matrix, coef: np.ndarray, intercept: float) -> np.ndarray:
        scores = np.asarray(matrix @ coef, dtype=np.float64).ravel() + intercept
        return 0.5 * (1.0 + np.tanh(0.5 * scores))

    # -- fitting -------------------------------------------------------------------------------

    def fit(self, texts: Sequence[str], spans: Sequence[Sequence[int]]) -> SpanTagger:
        """Fit on comments and their gold character offsets (ViHOS ``index_spans``); returns ``self``."""
        from sklearn.model_selection import StratifiedKFold

        texts = list(texts)
        if len(texts) != len(spans):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        analysed = [analyze(text).tokens for text in texts]
        toxic = np.asarray([bool(s) for s in spans], dtype=np.int8)
        if min(toxic.sum(), len(toxic) - toxic.sum()) < self.cv:
            raise ValueError(f"span training data needs at least {self.cv} comments with spans and "
                             f"{self.cv} without")
        targets = np.concatenate([token_targets(tokens, s) for tokens, s in zip(analysed, spans, strict=True)]
                                 + [np.zeros(0, np.int8)])
        sentence_x = self._sentence_matrix(analysed)
        folds = list(StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
                     .split(np.zeros(len(texts)), toxic))
        # Out-of-fold comment probabilities: the tagger must learn from the noisy values it will see.
        sentence_oof = np.zeros(len(texts))
        for train_rows, held_rows in folds:
            coef, intercept = self._fit_linear(sentence_x[train_rows], toxic[train_rows], self.sentence_C)
            sentence_oof[held_rows] = self._linear(sentence_x[held_rows], coef, intercept)
        self.sentence_coef_, self.sentence_intercept_ = self._fit_linear(sentence_x, toxic, self.sentence_C)

        token_x = self._token_matrix(texts, analysed, sentence_oof)
        owner = np.repeat(np.arange(len(texts)), [len(tokens) for tokens in analysed])
        first_oof = np.zeros(token_x.shape[0])
        for train_rows, held_rows in folds:
            train_mask, held_mask = np.isin(owner, train_rows), np.isin(owner, held_rows)
            coef, intercept = self._fit_linear(token_x[train_mask], targets[train_mask], self.C)
            first_oof[held_mask] = self._linear(token_x[held_mask], coef, intercept)
        self.token_coef_, self.token_intercept_ = self._fit_linear(token_x, targets, self.C)

        # Context features have names of their own, so adding them hashes the union of both sets.
        context_x = token_x + self._context_matrix(analysed, first_oof)
        self.context_coef_, self.context_intercept_ = self._fit_linear(context_x, targets, self.C)
        return self

    # -- prediction ----------------------------------------------------------------------------

    def tag(self, texts: Sequence[str]) -> list[Tagged]:
        """Tokens (with offsets in the original text), token probabilities and comment probability."""

        texts = list(texts)
        if not texts:
            return []
        analysed = [analyze(text).tokens for text in texts]
        sentence = self._linear(self._sentence_matrix(analysed), self.sentence_coef_, self.sentence_intercept_)
        token_x = self._token_matrix(texts, analysed, sentence)
        first = self._linear(token_x, self.token_coef_, self.token_intercept_)
        context_x = token_x + self._context_matrix(analysed, first)
        second = self._linear(context_x, self.context_coef_, self.context_intercept_)
        return [Tagged(tokens, proba, float(level))
                for tokens, proba, level in zip(analysed, _split_by(second, analysed), sentence, strict=True)]

    def predict_spans(self, texts: Sequence[str], *, gate: bool = True,
                      threshold: float | None = None) -> list[list[tuple[int, int, float]]]:
        """``(start, end, weight)`` spans of each comment, in original character offsets.

        With ``gate`` a comment whose comment-level probability is under ``sentence_threshold`` gets
        no span; turn it off when another model has already decided the comment is toxic.
        """
        threshold = self.threshold if threshold is None else threshold
        texts = list(texts)
        result = []
        for text, tagged in zip(texts, self.tag(texts), strict=True):
            if gate and tagged.comment < self.sentence_threshold:
                result.append([])
            else:
                result.append(join_tokens(text, tagged.tokens, tagged.proba >= threshold, tagged.proba))
        return result

    def predict_offsets(self, texts: Sequence[str], *, gate: bool = True,
                        threshold: float | None = None) -> list[list[int]]:
        """Character offsets of the predicted spans of each comment (the ViHOS ``index_spans`` format)."""
        return [span_offsets(runs) for runs in self.predict_spans(texts, gate=gate, threshold=threshold)]

    # -- pickle-free persistence ---------------------------------------------------------------

    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """``(params, arrays)`` from which :meth:`from_state` rebuilds the fitted tagger."""
        params = self.get_params() | {"sentence_intercept": self.sentence_intercept_,
                                      "token_intercept": self.token_intercept_,
                                      "context_intercept": self.context_intercept_}
        arrays = {"sentence_coef": self.sentence_coef_, "token_coef": self.token_coef_,
                  "context_coef": self.context_coef_}
        return params, arrays

    @classmethod
    def from_state(cls, params: dict, arrays: dict[str, np.ndarray]) -> SpanTagger:
        params = dict(params)
        intercepts = {key: float(params.pop(f"{key}_intercept")) for key in ("sentence", "token", "context")}
        tagger = cls(**params)
        for key, value in intercepts.items():
            setattr(tagger, f"{key}_intercept_", value)
            setattr(tagger, f"{key}_coef_", np.asarray(arrays[f"{key}_coef"], dtype=np.float32))
        return tagger

    def save(self, folder: str | Path) -> list[str]:
        """Write ``spans.npz`` into ``folder`` (atomically); returns the artifact names."""
        params, arrays = self.get_state()
        arrays = dict(arrays, config=json_to_array(params))
        target = Path(folder) / ARTIFACT
        partial = target.with_name(ARTIFACT + ".tmp")
        with open(partial, "wb") as handle:
            np.savez_compressed(handle, **arrays)
        partial.replace(target)
        return [ARTIFACT]

    @classmethod
    def load(cls, folder: str | Path) -> SpanTagger:
        """Read ``spans.npz`` from ``folder`` (arrays and JSON only, never pickle)."""
        from classifier.errors import ModelError

        path = Path(folder) / ARTIFACT
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
            params = array_to_json(arrays.pop("config"))
            return cls.from_state(params, arrays)
        except (OSError, KeyError, TypeError, ValueError) as error:
            raise ModelError(f"unreadable span tagger: {error}", path=path) from None


def _split_by(values: np.ndarray, analysed: Sequence[Sequence[Token]]) -> list[np.ndarray]:
    """``values`` of all tokens cut into one array per comment."""
    if not analysed:
        return []
    bounds = np.cumsum([len(tokens) for tokens in analysed])[:-1]
    return np.split(np.asarray(values), bounds)


def fit_span_tagger(texts: Sequence[str], spans: Sequence[Sequence[int]], **params) -> SpanTagger:
    """A :class:`SpanTagger` fitted on ``texts`` and their gold character offsets.

    ``params`` are :class:`SpanTagger` parameters. On the 7,775 ViHOS train comments this takes
    about a minute on one core.
    """
    return SpanTagger(**params).fit(texts, spans)


def span_annotated_rows(data) -> tuple[list[str], list[list[int]]] | None:
    """The rows of a :class:`~classifier.loaders.Dataset` that say where the toxic words are.

    A row counts when it has spans, or when it is known to be neither offensive nor hateful (no
    span is then the right answer). Toxic rows without spans, from sources that label whole
    comments only, are left out. None when no row has a span.
    """
    from classifier.loaders import MULTICLASS

    if not data.spans or not any(data.spans):
        return None
    texts, spans = [], []
    for i, (text, offsets) in enumerate(zip(data.texts, data.spans, strict=True)):
        if offsets:
            texts.append(text)
            spans.append(list(offsets))
            continue
        if data.task == MULTICLASS:
            clean = data.targets[i] not in SPAN_LABELS
            speaks = True
        else:
            clean = not set(data.targets[i]) & set(SPAN_LABELS)
            speaks = data.known is None or bool(data.known[i] & set(SPAN_LABELS))
        if clean and speaks:
            texts.append(text)
            spans.append([])
    return texts, spans


def tagger_for(train, tagger=None) -> tuple[SpanTagger | None, dict]:
    """The span tagger of a model trained on ``train``, and a record of it for the manifest.

    ``tagger``: a fitted :class:`SpanTagger` to use as it is, ``False`` for none, or ``None`` to fit
    one on the rows of ``train`` that have span annotations (none when no row has a span).
    """
    import time

    if tagger is False:
        return None, {}
    if tagger is not None:
        return tagger, {"source": "given"}
    rows = span_annotated_rows(train)
    if rows is None:
        return None, {}
    with_spans = sum(bool(offsets) for offsets in rows[1])
    needed = SpanTagger().cv
    if min(with_spans, len(rows[1]) - with_spans) < needed:
        return None, {"source": "skipped", "reason": f"fewer than {needed} comments with or without spans"}
    started = time.perf_counter()
    fitted = fit_span_tagger(*rows)
    return fitted, {"source": "fitted", "rows": len(rows[0]), "seconds": round(time.perf_counter() - started, 1)}


def span_report(tagger: SpanTagger | None, data) -> dict:
    """Span F1 of ``tagger`` on the span-annotated rows of ``data`` (empty dict when there are none)."""
    rows = span_annotated_rows(data) if tagger is not None else None
    if rows is None:
        return {}
    texts, gold = rows
    return {"rows": len(texts), "span_f1": round(mean_span_f1(gold, tagger.predict_offsets(texts)), 4)}
