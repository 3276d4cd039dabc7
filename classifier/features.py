"""Vietnamese-safe text features: word and character n-grams over normalised and folded views.

Never uses scikit-learn's ``strip_accents`` (it destroys tone marks that carry meaning) nor its
default token pattern (it drops one-letter words such as "ở"): the normaliser already splits
tokens with single spaces, so words are whitespace-separated tokens and emoji stay tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier.normalize import fold_accents, normalize

_WORD_PATTERN = r"\S+"


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

    def _vectorizer(self, analyzer: str, ngram_range: tuple[int, int], vocabulary=None) -> TfidfVectorizer:
        return TfidfVectorizer(
            analyzer=analyzer, ngram_range=ngram_range, lowercase=False,
            token_pattern=_WORD_PATTERN if analyzer == "word" else None,
            min_df=self.min_df, max_features=self.max_features, sublinear_tf=self.sublinear_tf,
            dtype=np.float32, vocabulary=vocabulary,
        )

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
            vectorizer = featurizer._vectorizer(analyzer, ngram_range, vocabulary={w: j for j, w in enumerate(words)})
            vectorizer._validate_vocabulary()
            vectorizer.idf_ = arrays[f"idf_{i}"]
            featurizer.vectorizers_.append(vectorizer)
        featurizer.n_features_ = sum(len(v.vocabulary_) for v in featurizer.vectorizers_)
        return featurizer
