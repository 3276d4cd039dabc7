"""The default backend: TF-IDF features and linear heads trained with scikit-learn.

The fitted model is stored without pickle: vocabularies, IDF weights and coefficients go into
one ``.npz`` file read with ``allow_pickle=False``, so loading a model never runs code from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from classifier.features import TextFeaturizer
from classifier.fileio import array_to_json, json_to_array

ARTIFACT = "model.npz"


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return scores


def _sigmoid(scores: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * scores))


def _mix(general, expert, share):
    """An expert label's score: the general and expert heads weighed by the domain probability."""
    return (1.0 - share) * general + share * expert


class LinearTextClassifier(ClassifierMixin, BaseEstimator):
    """Logistic-regression heads over :class:`~classifier.features.TextFeaturizer` features.

    Multi-class when ``y`` is a 1-D sequence of class names, multi-label when ``y`` is a 2-D 0/1
    indicator array (one column per label; ``label_mask`` marks which rows annotate which labels).

    Parameters
    ----------
    featurizer : TextFeaturizer or None, default=None
        Feature extractor; ``None`` uses ``TextFeaturizer()``.
    C : float, default=4.0
        Inverse regularisation strength of the logistic regressions.
    class_weight : {"balanced"} or None, default="balanced"
        Re-weight classes inversely to their frequency.
    max_iter : int, default=2000
        Iterations of the solver.
    expert_labels : tuple of str, default=()
        Multi-label only: labels that also get an *expert* head fitted only on the texts of one
        domain (``fit(..., in_expert_domain=...)``), plus one domain head that tells how much a text
        looks like that domain. A label's score is then the mix
        ``(1 - g) * general + g * expert`` of the two heads' log-odds, ``g`` being the domain
        probability, so texts of that domain are judged the way its annotators judged them.

    Attributes
    ----------
    coef_, intercept_ : ndarray
        The general heads, one row per output.
    expert_columns_ : ndarray of int
        Outputs that have an expert head (empty without experts).
    expert_coef_, expert_intercept_ : ndarray
        The expert heads, one row per entry of ``expert_columns_``.
    domain_coef_ : ndarray of shape (n_features,) and domain_intercept_ : float
        The domain head (present only with experts).
    """

    def __init__(self, *, featurizer=None, C=4.0, class_weight="balanced", max_iter=2000, expert_labels=()):
        self.featurizer = featurizer
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.expert_labels = expert_labels

    def _logistic(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)

    def fit(self, texts: Sequence[str], y, label_mask: np.ndarray | None = None,
            labels: Sequence[str] | None = None, sample_weight: np.ndarray | None = None,
            in_expert_domain: np.ndarray | None = None) -> LinearTextClassifier:
        """Fit on ``texts``; returns ``self``.

        Parameters
        ----------
        texts : sequence of str
        y : sequence of class names, or 0/1 array of shape (n_texts, n_labels)
        label_mask : bool array like ``y`` or None, default=None
            Multi-label only: which rows annotate which labels (others are left out of that head).
        labels : sequence of str or None, default=None
            Multi-label only: the label name of each column of ``y``.
        sample_weight : array of shape (n_texts,) or (n_texts, n_labels), or None, default=None
            Weight of every text in the loss; multi-label models also take one column per label.
        in_expert_domain : bool array of shape (n_texts,) or None, default=None
            Which texts belong to the experts' domain; required when ``expert_labels`` is set.
        """
        y_array = np.asarray(y)
        self.multilabel_ = y_array.ndim == 2
        if self.expert_labels:
            # Checked before the costly part: featurising and fitting the general heads.
            self._check_experts(y_array, labels, in_expert_domain)
        featurizer = self.featurizer if self.featurizer is not None else TextFeaturizer()
        self.featurizer_ = featurizer.__class__(**featurizer.get_params())
        features = self.featurizer_.fit_transform(texts)
        weights = np.ones(len(y_array)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if self.multilabel_:
            self.classes_ = np.asarray(labels if labels is not None else range(y_array.shape[1]))
            mask = np.ones_like(y_array, dtype=bool) if label_mask is None else np.asarray(label_mask, bool)
            coefs, intercepts = [], []
            for j in range(y_array.shape[1]):
                rows = np.flatnonzero(mask[:, j])
                target = y_array[rows, j]
                if len(np.unique(target)) < 2:
                    raise ValueError(f"label {self.classes_[j]!r} needs positive and negative examples")
                head_weights = weights[rows, j] if weights.ndim == 2 else weights[rows]
                head = self._logistic().fit(features[rows], target, sample_weight=head_weights)
                coefs.append(head.coef_[0])
                intercepts.append(head.intercept_[0])
            self.coef_ = np.vstack(coefs).astype(np.float32)
            self.intercept_ = np.asarray(intercepts, dtype=np.float32)
            self._fit_experts(features, y_array, mask, weights, in_expert_domain)
        else:
            self.expert_columns_ = np.zeros(0, dtype=np.int64)
            head = self._logistic().fit(features, y_array, sample_weight=weights)
            self.classes_ = head.classes_
            if len(self.classes_) == 2:
                # Store two rows so that prediction is the same softmax for every class count.
                self.coef_ = np.vstack([-head.coef_[0] / 2, head.coef_[0] / 2]).astype(np.float32)
                self.intercept_ = np.asarray([-head.intercept_[0] / 2, head.intercept_[0] / 2], np.float32)
            else:
                self.coef_ = head.coef_.astype(np.float32)
                self.intercept_ = head.intercept_.astype(np.float32)
        return self

    def _check_experts(self, y, labels, in_domain) -> None:
        if y.ndim != 2:
            raise ValueError("expert heads need a multi-label model")
        known = [str(label) for label in (labels if labels is not None else range(y.shape[1]))]
        unknown = sorted(set(self.expert_labels) - set(known))
        if unknown:
            raise ValueError(f"expert label(s) {', '.join(unknown)} have no training data; labels: {', '.join(known)}")
        if in_domain is None:
            raise ValueError("expert_labels needs in_expert_domain")
        in_domain = np.asarray(in_domain, dtype=bool)
        if in_domain.all() or not in_domain.any():
            raise ValueError("expert heads need texts both inside and outside the expert domain")

    def _fit_experts(self, features, y, mask, weights, in_domain) -> None:
        self.expert_columns_ = np.zeros(0, dtype=np.int64)
        if not self.expert_labels:
            return
        in_domain = np.asarray(in_domain, dtype=bool)
        known = list(map(str, self.classes_))
        columns = [known.index(label) for label in self.expert_labels]
        coefs, intercepts = [], []
        for j in columns:
            rows = np.flatnonzero(mask[:, j] & in_domain)
            if len(np.unique(y[rows, j])) < 2:
                raise ValueError(f"expert label {self.classes_[j]!r} needs positive and negative examples "
                                 "inside the expert domain")
            head_weights = weights[rows, j] if weights.ndim == 2 else weights[rows]
            head = self._logistic().fit(features[rows], y[rows, j], sample_weight=head_weights)
            coefs.append(head.coef_[0])
            intercepts.append(head.intercept_[0])
        # The domain head is balanced so that the larger domain does not claim the ambiguous texts.
        domain = LogisticRegression(C=self.C, class_weight="balanced", max_iter=self.max_iter)
        domain.fit(features, in_domain)
        self.expert_columns_ = np.asarray(columns, dtype=np.int64)
        self.expert_coef_ = np.vstack(coefs).astype(np.float32)
        self.expert_intercept_ = np.asarray(intercepts, dtype=np.float32)
        self.domain_coef_ = domain.coef_[0].astype(np.float32)
        self.domain_intercept_ = float(domain.intercept_[0])

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        features = self.featurizer_.transform(texts)
        return self.decision_from_features(features)

    def decision_from_features(self, features: sp.csr_matrix) -> np.ndarray:
        scores = np.asarray(features @ self.coef_.T, dtype=np.float64) + self.intercept_
        columns = self.expert_columns_
        if len(columns):
            share = self.domain_share(features)[:, None]
            expert = np.asarray(features @ self.expert_coef_.T, dtype=np.float64) + self.expert_intercept_
            scores[:, columns] = _mix(scores[:, columns], expert, share)
        return scores

    def domain_share(self, features: sp.csr_matrix) -> np.ndarray:
        """Probability that each text belongs to the experts' domain (the mixing weight ``g``)."""
        return _sigmoid(np.asarray(features @ self.domain_coef_, dtype=np.float64).ravel() + self.domain_intercept_)

    def linear_weights(self, features: sp.csr_matrix, columns: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """``(coef, intercept)`` of the linear scores of one text for the given outputs.

        ``features @ coef.T + intercept`` equals those columns of :meth:`decision_from_features`
        for this text (with experts, their heads are mixed for this text), so each feature's term
        ``x_f * coef[:, f]`` is its exact share of the score.
        """
        columns = list(columns)
        coef, intercept = self.coef_[columns], np.asarray(self.intercept_[columns], dtype=np.float64)
        experts = list(self.expert_columns_)
        mixed = [(k, experts.index(j)) for k, j in enumerate(columns) if j in experts]
        if mixed:
            share = float(self.domain_share(features[:1])[0])
            coef = coef.copy()
            for k, e in mixed:
                coef[k] = _mix(coef[k], self.expert_coef_[e], share)
                intercept[k] = _mix(intercept[k], self.expert_intercept_[e], share)
        return coef, intercept

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of shape (n, n_outputs): softmax for multi-class, sigmoid per label otherwise."""
        scores = self.decision_function(texts)
        return _sigmoid(scores) if self.multilabel_ else _softmax(scores)

    def predict(self, texts: Sequence[str]):
        proba = self.predict_proba(texts)
        if self.multilabel_:
            return (proba >= 0.5).astype(int)
        return self.classes_[proba.argmax(axis=1)]


class SklearnBackend:
    """Wraps a fitted :class:`LinearTextClassifier` for saving, loading and serving."""

    name = "sklearn"

    def __init__(self, estimator: LinearTextClassifier) -> None:
        self.estimator = estimator

    @property
    def outputs(self) -> list[str]:
        return [str(c) for c in self.estimator.classes_]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.estimator.predict_proba(texts)

    def save(self, folder: Path) -> list[str]:
        estimator = self.estimator
        params, arrays = estimator.featurizer_.get_state()
        config = {
            "featurizer": params,
            "estimator": {k: v for k, v in estimator.get_params(deep=False).items() if k != "featurizer"},
            "multilabel": bool(estimator.multilabel_),
            "classes": self.outputs,
        }
        arrays = dict(arrays)
        arrays["coef"] = estimator.coef_
        arrays["intercept"] = estimator.intercept_
        if len(estimator.expert_columns_):
            arrays["expert_columns"] = estimator.expert_columns_
            arrays["expert_coef"] = estimator.expert_coef_
            arrays["expert_intercept"] = estimator.expert_intercept_
            arrays["domain_coef"] = estimator.domain_coef_
            arrays["domain_intercept"] = np.asarray([estimator.domain_intercept_])
        arrays["config"] = json_to_array(config)
        with open(folder / ARTIFACT, "wb") as handle:
            np.savez_compressed(handle, **arrays)
        return [ARTIFACT]

    @classmethod
    def load(cls, folder: Path, manifest: dict) -> SklearnBackend:
        with np.load(folder / ARTIFACT, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        config = array_to_json(arrays.pop("config"))
        estimator = LinearTextClassifier(**config["estimator"])
        estimator.featurizer_ = TextFeaturizer.from_state(config["featurizer"], arrays)
        estimator.coef_ = arrays["coef"]
        estimator.intercept_ = arrays["intercept"]
        estimator.expert_columns_ = arrays.get("expert_columns", np.zeros(0, dtype=np.int64))
        if len(estimator.expert_columns_):
            estimator.expert_coef_ = arrays["expert_coef"]
            estimator.expert_intercept_ = arrays["expert_intercept"]
            estimator.domain_coef_ = arrays["domain_coef"]
            estimator.domain_intercept_ = float(arrays["domain_intercept"][0])
        estimator.multilabel_ = config["multilabel"]
        estimator.classes_ = np.asarray(config["classes"])
        return cls(estimator)
