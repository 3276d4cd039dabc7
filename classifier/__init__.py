"""vnguard: offline Vietnamese classifiers for grooming, cyberbullying and other risky content.

>>> import classifier
>>> model = classifier.load()                  # the bundled default model
>>> model.predict(["mày ngu vl", "chúc mừng sinh nhật con"])
>>> model.check("gửi anh ảnh riêng tư đi, đừng nói với ai nhé").to_dict()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "LABELS",
    "Classifier",
    "Verdict",
    "VnguardError",
    "__version__",
    "analyze_conversation",
    "load",
    "normalize",
]

if TYPE_CHECKING:
    from classifier.conversation import analyze_conversation
    from classifier.errors import VnguardError
    from classifier.model import Classifier, load
    from classifier.normalize import normalize
    from classifier.taxonomy import LABELS
    from classifier.verdict import Verdict

# Heavy modules (scikit-learn, torch) load only when first used.
_LAZY = {
    "load": "classifier.model",
    "Classifier": "classifier.model",
    "Verdict": "classifier.verdict",
    "VnguardError": "classifier.errors",
    "normalize": "classifier.normalize",
    "LABELS": "classifier.taxonomy",
    "analyze_conversation": "classifier.conversation",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'classifier' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
