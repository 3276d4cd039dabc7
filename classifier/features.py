"""Vietnamese-safe text features: word and character n-grams over normalised and folded views.

Never uses scikit-learn's ``strip_accents`` (it destroys tone marks that carry meaning) nor its
default token pattern (it drops one-letter words such as "ở"): the normaliser already splits
tokens with single spaces, so words are whitespace-separated tokens and emoji stay tokens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize as normalize_rows

from classifier.normalize import fold_accents, normalize

_CACHE_LIMIT = 300_000


class CharNgrams:
    """Character n-grams inside word boundaries, as scikit-learn's ``char_wb`` analyzer makes them.

    Identical n-grams, several times faster: words repeat across a corpus, so each word's
    n-grams are computed once and cached.
    """

    def __init__(self, min_n: int, max_n: int) -> None:
        self.min_n, self.max_n = min_n, max_n
        self._cache: dict[str, list[str]] = {}

    def _word_ngrams(self, word: str) -> list[str]:
        padded = f" {word} "
        grams = []
        for n in range(self.min_n, self.max_n + 1):
            if len(padded) <= n:
                grams.append(padded)
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
        return grams

    def __call__(self, text: str) -> list[str]:
        cache = self._cache
        grams: list[str] = []
        for word in text.split():
            cached = cache.get(word)
            if cached is None:
                cached = self._word_ngrams(word)
                if len(cache) < _CACHE_LIMIT:
                    cache[word] = cached
            grams.extend(cached)
        return grams


class NgramTfidf:
    """TF-IDF over word or character n-grams, built for speed on short texts.

    Matches scikit-learn's ``TfidfVectorizer`` with ``sublinear_tf``, smooth IDF and l2 rows, on
    whitespace tokens (``kind="word"``) or ``char_wb``-style n-grams (``kind="char"``). Transform
    is several times faster: character n-grams are looked up once per distinct word and cached as
    feature indices, and the matrix is assembled with numpy instead of a Python dict per document.

    Parameters
    ----------
    kind : {"word", "char"}
    ngram_range : tuple of int
    min_df : int, default=2
    max_features : int or None, default=None
        Keep the most frequent n-grams (by total count).
    sublinear_tf : bool, default=True
    """

    def __init__(self, kind: str, ngram_range: tuple[int, int], *, min_df: int = 2, max_features: int | None = None,
                 sublinear_tf: bool = True) -> None:
        self.kind = kind
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self._char = CharNgrams(*self.ngram_range) if kind == "char" else None
        self._word_index_cache: dict[str, np.ndarray] = {}

    def _grams(self, text: str) -> list[str]:
        if self._char is not None:
            return self._char(text)
        tokens = text.split()
        low, high = self.ngram_range
        grams = list(tokens) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return grams

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        document_frequency: Counter = Counter()
        term_frequency: Counter = Counter()
        for text in texts:
            grams = self._grams(text)
            term_frequency.update(grams)
            document_frequency.update(set(grams))
        kept = [g for g, df in document_frequency.items() if df >= self.min_df]
        if self.max_features is not None and len(kept) > self.max_features:
            kept = sorted(kept, key=lambda g: (-term_frequency[g], g))[: self.max_features]
        kept.sort()
        self.set_vocabulary(kept)
        df = np.asarray([document_frequency[g] for g in kept], dtype=np.float64)
        self.idf_ = (np.log((1 + len(texts)) / (1 + df)) + 1.0).astype(np.float32)
        return self.transform(texts)

    def set_vocabulary(self, vocabulary: Sequence[str], idf: np.ndarray | None = None) -> None:
        self.vocabulary_ = {gram: index for index, gram in enumerate(vocabulary)}
        self._word_index_cache = {}
        if idf is not None:
            self.idf_ = np.asarray(idf, dtype=np.float32)

    def get_feature_names_out(self) -> list[str]:
        names = [""] * len(self.vocabulary_)
        for gram, index in self.vocabulary_.items():
            names[index] = gram
        return names

    def _indices(self, text: str) -> list[int]:
        vocabulary = self.vocabulary_
        if self._char is None:
            tokens = text.split()
            low, high = self.ngram_range
            found = [i for i in map(vocabulary.get, tokens) if i is not None] if low == 1 else []
            for n in range(max(low, 2), high + 1):
                grams = map(" ".join, zip(*(tokens[k:] for k in range(n)), strict=False))
                found.extend(i for i in map(vocabulary.get, grams) if i is not None)
            return found
        cache = self._word_index_cache
        found: list[int] = []
        for word in text.split():
            indices = cache.get(word)
            if indices is None:
                indices = [i for i in map(vocabulary.get, self._char._word_ngrams(word)) if i is not None]
                if len(cache) < _CACHE_LIMIT:
                    cache[word] = indices
            found.extend(indices)
        return found

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        indptr = [0]
        columns: list[int] = []
        for text in texts:
            columns.extend(self._indices(text))
            indptr.append(len(columns))
        counts = sp.csr_matrix((np.ones(len(columns), dtype=np.float32), np.asarray(columns, dtype=np.int32),
                                np.asarray(indptr, dtype=np.int64)), shape=(len(texts), len(self.vocabulary_)))
        counts.sum_duplicates()
        data = counts.data
        if self.sublinear_tf:
            np.log(data, out=data)
            data += 1.0
        data *= self.idf_[counts.indices]
        return normalize_rows(counts, copy=False)


def text_views(texts: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(normalised, accent-folded)`` views of ``texts``."""
    normalised = [normalize(text) for text in texts]
    return normalised, [fold_accents(text) for text in normalised]


class TextFeaturizer(TransformerMixin, BaseEstimator):
    """TF-IDF features for Vietnamese text, robust to missing diacritics.

    Parameters
    ----------
    word_ngram_range : tuple of int, default=(1, 2)
        Word n-grams over the normalised (accented) view.
    folded_word_ngram_range : tuple of int or None, default=(1, 3)
        Word n-grams over the accent-folded view; ``None`` disables them.
    char_ngram_range : tuple of int or None, default=(2, 5)
        Character n-grams (inside word boundaries) over the folded view; ``None`` disables them.
    min_df : int, default=2
        Ignore n-grams seen in fewer documents.
    max_features : int or None, default=None
        Keep at most this many n-grams per block (by frequency).
    sublinear_tf : bool, default=True
        Use ``1 + log(tf)``.
    """

    def __init__(self, *, word_ngram_range=(1, 2), folded_word_ngram_range=(1, 3), char_ngram_range=(2, 5),
                 min_df=2, max_features=None, sublinear_tf=True):
        self.word_ngram_range = word_ngram_range
        self.folded_word_ngram_range = folded_word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf

    def _blocks(self) -> list[tuple[str, str, tuple[int, int]]]:
        blocks = [("word", "normalised", tuple(self.word_ngram_range))]
        if self.folded_word_ngram_range:
            blocks.append(("word", "folded", tuple(self.folded_word_ngram_range)))
        if self.char_ngram_range:
            blocks.append(("char_wb", "folded", tuple(self.char_ngram_range)))
        return blocks

    def _vectorizer(self, analyzer: str, ngram_range: tuple[int, int]) -> NgramTfidf:
        return NgramTfidf("char" if analyzer == "char_wb" else "word", ngram_range, min_df=self.min_df,
                          max_features=self.max_features, sublinear_tf=self.sublinear_tf)

    def fit(self, texts: Sequence[str], y=None) -> TextFeaturizer:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Sequence[str], y=None) -> sp.csr_matrix:
        views = dict(zip(("normalised", "folded"), text_views(texts), strict=True))
        self.vectorizers_ = []
        matrices = []
        for analyzer, view, ngram_range in self._blocks():
            vectorizer = self._vectorizer(analyzer, ngram_range)
            matrices.append(vectorizer.fit_transform(views[view]))
            self.vectorizers_.append(vectorizer)
        self.n_features_ = sum(m.shape[1] for m in matrices)
        return sp.hstack(matrices, format="csr")

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        views = dict(zip(("normalised", "folded"), text_views(texts), strict=True))
        matrices = [
            vectorizer.transform(views[view])
            for vectorizer, (_, view, _) in zip(self.vectorizers_, self._blocks(), strict=True)
        ]
        return sp.hstack(matrices, format="csr")

    def feature_names(self) -> list[str]:
        """Names such as ``word:mày ngu`` or ``char:ngu`` in column order."""
        names = []
        for vectorizer, (analyzer, view, _) in zip(self.vectorizers_, self._blocks(), strict=True):
            prefix = {"normalised": "word", "folded": "fword"}[view] if analyzer == "word" else "char"
            names.extend(f"{prefix}:{name}" for name in vectorizer.get_feature_names_out())
        return names

    # -- pickle-free persistence --------------------------------------------------------------

    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """``(params, arrays)`` from which :meth:`from_state` rebuilds the fitted featurizer."""
        arrays: dict[str, np.ndarray] = {}
        for i, vectorizer in enumerate(self.vectorizers_):
            vocabulary = vectorizer.get_feature_names_out()
            arrays[f"vocab_{i}"] = np.frombuffer("\n".join(vocabulary).encode("utf-8"), dtype=np.uint8)
            arrays[f"idf_{i}"] = vectorizer.idf_.astype(np.float32)
        return self.get_params(), arrays

    @classmethod
    def from_state(cls, params: dict, arrays: dict[str, np.ndarray]) -> TextFeaturizer:
        featurizer = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
        featurizer.vectorizers_ = []
        for i, (analyzer, _, ngram_range) in enumerate(featurizer._blocks()):
            words = arrays[f"vocab_{i}"].tobytes().decode("utf-8").split("\n")
            vectorizer = featurizer._vectorizer(analyzer, ngram_range)
            vectorizer.set_vocabulary(words, arrays[f"idf_{i}"])
            featurizer.vectorizers_.append(vectorizer)
        featurizer.n_features_ = sum(len(v.vocabulary_) for v in featurizer.vectorizers_)
        return featurizer
