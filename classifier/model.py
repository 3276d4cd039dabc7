"""``classifier.load`` and the :class:`Classifier` every backend is served through.

A model is a folder: the backend's artifact file(s) plus ``manifest.json`` (format version,
backend, task, labels, thresholds, training data hashes, metrics, package versions and the
sha256 of every artifact file). Loading refuses a folder whose artifact hash does not match.
"""

from __future__ import annotations

import json
import os
import platform
import warnings
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from classifier.errors import ModelError
from classifier.fileio import write_json_atomic
from classifier.loaders import MULTICLASS, MULTILABEL, file_sha256
from classifier.taxonomy import CLEAN, risk_level
from classifier.verdict import Verdict

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DEFAULT_MODEL = "default"


def models_dir() -> Path:
    """Folder of bundled models: ``$VNGUARD_MODELS_DIR`` or ``models/`` beside the package."""
    override = os.environ.get("VNGUARD_MODELS_DIR")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "models"


def bundled_models() -> list[str]:
    root = models_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())


def as_text_list(texts: str | Iterable[str]) -> list[str]:
    """A single ``str`` becomes a list of one; every element must be a ``str``."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, bytes):
        raise TypeError("expected str or a sequence of str, got bytes; decode it first")
    items = list(texts)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"text at index {index} is {type(item).__name__}, expected str")
    return items


def package_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for package in ("vnguard", "scikit-learn", "numpy", "scipy", "underthesea", "torch", "transformers"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


class Classifier:
    """A loaded model: ``labels``, ``predict_proba``, ``predict``, ``check``, ``explain``.

    Parameters
    ----------
    backend : object
        A backend with ``outputs`` and ``predict_proba(list[str])``.
    task : {"multiclass", "multilabel"}
    thresholds : dict or None, default=None
        Multi-label: decision threshold per label (default 0.5).
    offsets : dict or None, default=None
        Multi-class: additive log-probability offset per class, tuned for macro-F1.
    manifest : dict or None, default=None
        The model's manifest (filled when loaded from or saved to a folder).
    span_tagger : SpanTagger or None, default=None
        Marks offensive and hateful words for :meth:`explain` (see :mod:`classifier.spans`);
        saved as the extra artifact ``spans.npz``.
    """

    def __init__(self, backend, *, task: str, thresholds: dict[str, float] | None = None,
                 offsets: dict[str, float] | None = None, manifest: dict | None = None,
                 path: Path | None = None, span_tagger=None) -> None:
        self.backend = backend
        self.task = task
        self.labels: list[str] = list(backend.outputs)
        self.thresholds = {label: 0.5 for label in self.labels} | dict(thresholds or {})
        self.offsets = {label: 0.0 for label in self.labels} | dict(offsets or {})
        self.manifest = manifest or {}
        self.path = path
        self.span_tagger = span_tagger
        self._explainer = None

    def __repr__(self) -> str:
        where = f" from {self.path}" if self.path else ""
        return f"<Classifier {self.task} {self.manifest.get('backend', self.backend.name)}{where}: {self.labels}>"

    @property
    def is_multilabel(self) -> bool:
        return self.task == MULTILABEL

    # -- prediction ---------------------------------------------------------------------------

    def predict_proba(self, texts: str | Iterable[str]) -> np.ndarray:
        """Probabilities, shape (n_texts, len(labels)); one row per input, never squeezed."""
        items = as_text_list(texts)
        if not items:
            return np.zeros((0, len(self.labels)))
        return np.asarray(self.backend.predict_proba(items), dtype=np.float64)

    def decide(self, proba: np.ndarray) -> list:
        """Turn probabilities into predictions (see :meth:`predict`)."""
        if self.is_multilabel:
            thresholds = np.asarray([self.thresholds[label] for label in self.labels])
            hits = proba >= thresholds
            return [[self.labels[j] for j in np.flatnonzero(row)] for row in hits]
        offsets = np.asarray([self.offsets[label] for label in self.labels])
        with np.errstate(divide="ignore"):
            scores = np.log(proba) + offsets
        return [self.labels[j] for j in scores.argmax(axis=1)]

    def predict(self, texts: str | Iterable[str]) -> list:
        """Multi-class: one class name per text. Multi-label: a list of flagged labels per text."""
        return self.decide(self.predict_proba(texts))

    def verdicts(self, proba: np.ndarray) -> list[Verdict]:
        result = []
        for row, decision in zip(proba, self.decide(proba), strict=True):
            probabilities = dict(zip(self.labels, map(float, row), strict=True))
            if self.is_multilabel:
                flagged, prediction = list(decision), None
            else:
                flagged, prediction = ([] if decision == CLEAN else [decision]), decision
            result.append(Verdict(probabilities, flagged, risk_level(flagged), prediction))
        return result

    def check(self, text: str, *, explain: bool = True) -> Verdict:
        """The verdict on one text, with evidence spans when ``explain`` is true."""
        if not isinstance(text, str):
            raise TypeError(f"check() expects one str, got {type(text).__name__}; use check_many for lists")
        verdict = self.verdicts(self.predict_proba([text]))[0]
        if explain and verdict.flagged:
            verdict.spans = self.explain(text, verdict=verdict)
        return verdict

    def check_many(self, texts: Iterable[str]) -> list[Verdict]:
        """Verdicts for many texts (without explanations, for speed)."""
        return self.verdicts(self.predict_proba(texts))

    def explain(self, text: str, *, verdict: Verdict | None = None) -> list:
        """Spans of ``text`` that support each flagged label (see :mod:`classifier.explain`)."""
        from classifier.explain import explain

        return explain(self, text, verdict=verdict)

    # -- persistence --------------------------------------------------------------------------

    def save(self, folder: str | Path, *, training: dict | None = None, metrics: dict | None = None,
             extra: dict | None = None) -> Path:
        """Write the model folder (artifact + ``manifest.json``); returns its path."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = list(self.backend.save(folder))
        if self.span_tagger is not None:
            files += self.span_tagger.save(folder)
        manifest = {
            "format_version": FORMAT_VERSION,
            "name": folder.name,
            "backend": self.backend.name,
            "task": self.task,
            "labels": self.labels,
            "thresholds": {k: round(float(v), 6) for k, v in self.thresholds.items()} if self.is_multilabel else {},
            "offsets": {k: round(float(v), 6) for k, v in self.offsets.items()} if not self.is_multilabel else {},
            "training": training if training is not None else self.manifest.get("training", {}),
            "metrics": metrics if metrics is not None else self.manifest.get("metrics", {}),
            "versions": package_versions(),
            "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "artifacts": {name: file_sha256(folder / name) for name in files},
        }
        manifest.update(extra or {})
        write_json_atomic(folder / MANIFEST, manifest)
        self.manifest, self.path = manifest, folder
        return folder


def resolve_model_path(name_or_path: str | Path | None) -> Path:
    """A bundled model name, or a folder path, -> the model folder."""
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL
    candidate = Path(name_or_path)
    if (candidate / MANIFEST).is_file():
        return candidate
    bundled = models_dir() / str(name_or_path)
    if isinstance(name_or_path, str) and "/" not in name_or_path and (bundled / MANIFEST).is_file():
        return bundled
    if candidate.is_dir():
        raise ModelError(f"no {MANIFEST} in this folder; is it a model written by `vnguard train`?", path=candidate)
    names = ", ".join(bundled_models()) or "(none)"
    raise ModelError(f"no model named {str(name_or_path)!r}: not a folder and not a bundled model "
                     f"(bundled: {names})")


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ModelError(f"manifest is not valid JSON: {error.msg}", path=folder / MANIFEST,
                         line=error.lineno, column=error.colno) from None
    for key in ("format_version", "backend", "task", "labels", "artifacts"):
        if key not in manifest:
            raise ModelError(f"manifest lacks {key!r}", path=folder / MANIFEST)
    if manifest["format_version"] > FORMAT_VERSION:
        raise ModelError(f"model format {manifest['format_version']} is newer than this vnguard "
                         f"understands ({FORMAT_VERSION}); upgrade vnguard", path=folder / MANIFEST)
    return manifest


def verify_artifacts(folder: Path, manifest: dict) -> None:
    """Refuse to load any artifact whose sha256 differs from the manifest's record."""
    for name, expected in manifest["artifacts"].items():
        path = folder / name
        if not path.exists():
            raise ModelError(f"artifact {name!r} listed in the manifest is missing", path=folder)
        actual = file_sha256(path) if path.is_file() else None
        if actual != expected:
            raise ModelError(f"sha256 of {name!r} does not match the manifest (expected {expected[:12]}…, "
                             f"found {str(actual)[:12]}…); the model was modified or corrupted; refusing to load",
                             path=path)


def _warn_on_version_change(manifest: dict) -> None:
    saved = manifest.get("versions", {}).get("scikit-learn")
    if manifest.get("backend") != "sklearn" or not saved:
        return
    from sklearn import __version__ as current

    if saved != current:
        warnings.warn(f"model saved with scikit-learn {saved}, loading with scikit-learn {current}; "
                      "predictions may differ slightly", UserWarning, stacklevel=3)


def load(name_or_path: str | Path | None = None) -> Classifier:
    """Load a model: ``None`` for the bundled default, a bundled model name, or a model folder.

    The sha256 of every artifact is checked against ``manifest.json`` before anything is read.
    """
    from classifier.backends import backend_class

    folder = resolve_model_path(name_or_path)
    manifest = read_manifest(folder)
    verify_artifacts(folder, manifest)
    _warn_on_version_change(manifest)
    backend = backend_class(manifest["backend"]).load(folder, manifest)
    task = manifest["task"]
    if task not in (MULTICLASS, MULTILABEL):
        raise ModelError(f"unknown task {task!r} in manifest", path=folder / MANIFEST)
    span_tagger = None
    from classifier import spans

    if spans.ARTIFACT in manifest["artifacts"]:
        span_tagger = spans.SpanTagger.load(folder)
    return Classifier(backend, task=task, thresholds=manifest.get("thresholds"), offsets=manifest.get("offsets"),
                      manifest=manifest, path=folder, span_tagger=span_tagger)
