"""The answer to "is this message risky?": probabilities, flagged labels, risk level, evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

from classifier.taxonomy import display_name


@dataclass
class Span:
    """A piece of the ORIGINAL text that supports a flagged label."""

    start: int
    end: int
    text: str
    label: str
    weight: float

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text, "label": self.label,
                "weight": round(float(self.weight), 4)}


@dataclass
class Verdict:
    """The verdict on one text.

    Attributes
    ----------
    probabilities : dict
        Probability per model output (label id, or class name for multi-class models).
    flagged : list of str
        Labels at or above their threshold (for multi-class models: the predicted class unless it
        is ``clean``).
    risk : str
        ``none``, ``low``, ``medium`` or ``high``: the highest severity among ``flagged``.
    spans : list of Span
        Evidence in the original text, filled by :meth:`Classifier.check` when explanations are on.
    """

    probabilities: dict[str, float]
    flagged: list[str]
    risk: str
    prediction: str | None = None
    spans: list[Span] = field(default_factory=list)

    @property
    def is_flagged(self) -> bool:
        return bool(self.flagged)

    def flagged_names(self, lang: str = "vi") -> list[str]:
        return [display_name(label, lang) for label in self.flagged]

    def to_dict(self) -> dict:
        data = {
            "probabilities": {k: round(float(v), 4) for k, v in self.probabilities.items()},
            "flagged": list(self.flagged),
            "risk": self.risk,
            "spans": [span.to_dict() for span in self.spans],
        }
        if self.prediction is not None:
            data["prediction"] = self.prediction
        return data
