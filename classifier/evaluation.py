"""Metrics for models on labelled data: per-label precision/recall/F1, macro-F1, accuracy,
"toxic" F1 (offensive or hate), and bootstrap confidence intervals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from classifier.errors import DataError
from classifier.loaders import MULTICLASS, MULTILABEL, Dataset, to_multilabel
from classifier.taxonomy import CLEAN

TOXIC_LABELS = ("offensive", "hate")


def class_to_labels(prediction: str) -> list[str]:
    """Multi-class prediction -> multi-label view (hate is offensive too, as in ``to_multilabel``)."""
    return {CLEAN: [], "hate": ["offensive", "hate"]}.get(prediction, [prediction])


@dataclass
class Report:
    """An evaluation: ``to_dict()`` is what ``vnguard evaluate --json`` writes."""

    task: str
    rows: int
    per_label: dict[str, dict[str, float]]
    macro_f1: float
    accuracy: float | None = None
    micro_f1: float | None = None
    toxic: dict[str, float] | None = None
    intervals: dict[str, list[float]] = field(default_factory=dict)
    model: str | None = None
    data: str | None = None

    def to_dict(self) -> dict:
        out = {"model": self.model, "data": self.data, "task": self.task, "rows": self.rows,
               "macro_f1": round(self.macro_f1, 4), "per_label": self.per_label}
        if self.accuracy is not None:
            out["accuracy"] = round(self.accuracy, 4)
        if self.micro_f1 is not None:
            out["micro_f1"] = round(self.micro_f1, 4)
        if self.toxic is not None:
            out["toxic"] = self.toxic
        if self.intervals:
            out["intervals_95"] = self.intervals
        return out


def _prf(y_true, y_pred) -> dict[str, float]:
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average="binary", zero_division=0)
    return {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
            "support": int(np.sum(y_true))}


def _binary_f1(truth: np.ndarray, pred: np.ndarray) -> float:
    """F1 of the positive class (0 when there is nothing to find and nothing found), fast for bootstraps."""
    tp = int(np.sum((truth == 1) & (pred == 1)))
    denominator = int(np.sum(truth == 1)) + int(np.sum(pred == 1))
    return 2 * tp / denominator if denominator else 0.0


def bootstrap_interval(metric: Callable[[np.ndarray], float], n_rows: int, *, rounds: int = 1000,
                       seed: int = 0) -> list[float]:
    """95 % percentile interval of ``metric(indices)`` over bootstrap resamples of the rows."""
    rng = np.random.default_rng(seed)
    values = [metric(rng.integers(0, n_rows, n_rows)) for _ in range(rounds)]
    low, high = np.percentile(values, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def _evaluate_multiclass(model, data: Dataset, proba: np.ndarray, bootstrap: int) -> Report:
    unknown = sorted(set(data.targets) - set(model.labels))
    if unknown:
        raise DataError(f"data has classes the model does not know: {', '.join(unknown)}", path=data.path)
    y_true = np.asarray(data.targets)
    y_pred = np.asarray(model.decide(proba))
    labels = list(model.labels)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    per_label = {label: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                         "f1": round(float(f[i]), 4), "support": int(s[i])} for i, label in enumerate(labels)}
    macro = float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))
    report = Report(MULTICLASS, len(data), per_label, macro, accuracy=float(np.mean(y_true == y_pred)))
    if bootstrap:
        report.intervals["macro_f1"] = bootstrap_interval(
            lambda idx: f1_score(y_true[idx], y_pred[idx], labels=labels, average="macro", zero_division=0),
            len(y_true), rounds=bootstrap)
        report.intervals["accuracy"] = bootstrap_interval(lambda idx: float(np.mean(y_true[idx] == y_pred[idx])),
                                                          len(y_true), rounds=bootstrap)
    return report


def _evaluate_multilabel(model, data: Dataset, proba: np.ndarray, bootstrap: int) -> Report:
    data = to_multilabel(data)
    decisions = model.decide(proba)
    predicted = decisions if model.is_multilabel else [class_to_labels(c) for c in decisions]
    produced = set(model.labels) if model.is_multilabel else {x for c in model.labels for x in class_to_labels(c)}
    labels = [label for label in data.labels if label in produced]
    if not labels:
        raise DataError(f"the data's labels ({', '.join(data.labels)}) and the model's "
                        f"({', '.join(model.labels)}) have nothing in common", path=data.path)
    y_true, mask = data.indicator(labels)
    y_pred = np.zeros_like(y_true)
    index = {label: j for j, label in enumerate(labels)}
    for i, row in enumerate(predicted):
        for label in row:
            if label in index:
                y_pred[i, index[label]] = 1
    per_label = {}
    for j, label in enumerate(labels):
        rows = mask[:, j]
        per_label[label] = _prf(y_true[rows, j], y_pred[rows, j])
    macro = float(np.mean([per_label[label]["f1"] for label in labels]))
    report = Report(MULTILABEL, len(data), per_label, macro)
    full_rows = mask.all(axis=1)
    if full_rows.any():
        report.micro_f1 = float(f1_score(y_true[full_rows], y_pred[full_rows], average="micro", zero_division=0))
    toxic_cols = [index[label] for label in TOXIC_LABELS if label in index]
    if toxic_cols:
        rows = mask[:, toxic_cols].any(axis=1)
        gold = y_true[rows][:, toxic_cols].any(axis=1).astype(int)
        pred = y_pred[rows][:, toxic_cols].any(axis=1).astype(int)
        report.toxic = _prf(gold, pred)
        if bootstrap:
            report.intervals["toxic_f1"] = bootstrap_interval(
                lambda idx: _binary_f1(gold[idx], pred[idx]), len(gold), rounds=bootstrap)
    if bootstrap:
        def macro_of(idx):
            return float(np.mean([_binary_f1(y_true[idx][mask[idx, j], j], y_pred[idx][mask[idx, j], j])
                                  for j in range(len(labels))]))
        report.intervals["macro_f1"] = bootstrap_interval(macro_of, len(y_true), rounds=bootstrap)
    return report


def evaluate(model, data: Dataset, *, bootstrap: int = 0, proba: np.ndarray | None = None) -> Report:
    """Evaluate ``model`` on ``data``; ``bootstrap`` > 0 adds 95 % intervals from that many resamples."""
    if proba is None:
        proba = model.predict_proba(data.texts)
    if data.task == MULTICLASS and not model.is_multilabel:
        report = _evaluate_multiclass(model, data, proba, bootstrap)
    else:
        report = _evaluate_multilabel(model, data, proba, bootstrap)
    report.model = model.manifest.get("name") if model.manifest else None
    report.data = data.name
    return report
