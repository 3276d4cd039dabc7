"""Model backends. Each backend class can ``save`` itself into a model folder and ``load`` from one.

A backend exposes ``predict_proba(texts) -> ndarray`` of shape (n, len(outputs)); the
:class:`~classifier.model.Classifier` around it turns probabilities into labels and verdicts.
"""

from __future__ import annotations

import importlib

from classifier.errors import ModelError

BACKENDS = {
    "sklearn": ("classifier.backends.sklearn_backend", "SklearnBackend"),
    "transformer": ("classifier.backends.transformer_backend", "TransformerBackend"),
}


def backend_class(name: str):
    """The backend class registered under ``name`` (imported lazily)."""
    try:
        module_name, class_name = BACKENDS[name]
    except KeyError:
        raise ModelError(f"unknown backend {name!r}; known backends: {', '.join(BACKENDS)}") from None
    return getattr(importlib.import_module(module_name), class_name)
