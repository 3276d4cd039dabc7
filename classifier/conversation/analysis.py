"""Grooming risk across a whole chat, computed message by message, plus conversation-level flags.

How the grooming risk is scored
-------------------------------
For every participant ``p`` the analysis keeps the tactic cues ``p`` has used so far
(:mod:`classifier.conversation.tactics`). A tactic's strength combines its cues (strongest fully,
the next ones at half weight each time), and the participant's evidence is the noisy-OR of the
tactic strengths and of the message-level model (the mean of ``p``'s three highest grooming
probabilities, scaled by :data:`MODEL_WEIGHT`):

    evidence(p) = 1 - prod_t (1 - strength_t(p)) * (1 - MODEL_WEIGHT * model(p))

The evidence is then scaled by context: a child in the chat (ages, school grades) and ``p`` saying
they are an adult raise it; ``p`` being the child, a parent taking part, ``p`` keeping parents in
the loop, ``p`` giving safety advice lower it (see :func:`_context_factor`). Cues inside a message
that reports what someone else wrote, or inside quotation marks, count a quarter.

``risk(p, i)`` uses only messages ``0..i``; the chat's running risk is the highest ``risk(p, i)``,
the alert (``onset``) is the first ``i`` where it reaches :data:`THRESHOLD`, and the reported
``risk`` is the peak of the running risk. The streaming :class:`ConversationMonitor` and the batch
:func:`analyze_conversation` run the same code, so they give the same onset.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifier.conversation.parsers import Chat, ChatMessage, as_chat, coerce_message, read_chat
from classifier.conversation.tactics import TACTICS, AgeCues, CueHit, age_cues, find_cues
from classifier.errors import DataError
from classifier.normalize import normalize
from classifier.taxonomy import LABEL_IDS, risk_level

THRESHOLD = 0.5
MODEL_WEIGHT = 0.3
MODEL_TOP = 3
REPEAT_DECAY = 0.5
REPORTED_DISCOUNT = 0.25
#: Context factors (multiply a participant's evidence).
NO_CHILD_SEEN = 0.8
ADULT_WITH_CHILD = 1.2
IS_THE_CHILD = 0.3
PARENT_PRESENT = 0.4
PARENTS_INFORMED = 0.5
SAFETY_TALK = 0.6
#: Same-age register (mày/tao, tớ/cậu) and never an elder's (chú, bác, thầy, cháu).
PEER_TALK = 0.85
#: Conversation-level harassment: this many different senders of hostile messages aimed at others.
GANG_SIZE = 2

# Matched on the lower-case, accented display name: "Bo" is a nickname, "Bố" is a father.
_PARENT_NAME = re.compile(r"^(?:mẹ|má|mạ|bố|ba|cha|tía|bầm|mom|mum|dad|mommy|daddy|phụ huynh|ông nội|ông ngoại|"
                          r"bà nội|bà ngoại)(?:\s|$)|\((?:phụ huynh|mẹ|bố|ba|má)[^)]*\)$")
_PEER_WORDS = frozenset({"mày", "tao", "tớ", "cậu"})
_ELDER_WORDS = frozenset({"chú", "bác", "thầy", "cháu", "dượng"})
_CHILD_NAME = re.compile(r"(?:^|\s)(?:bé|nhóc|baby|kid)(?:\s|$)")


@functools.cache
def _default_model():
    from classifier.model import load

    return load()


def resolve_model(model):
    """``None`` -> the bundled default (loaded once); a name or folder -> :func:`classifier.load`."""
    if model is None:
        return _default_model()
    if isinstance(model, str) or hasattr(model, "__fspath__"):
        from classifier.model import load

        return load(model)
    if not hasattr(model, "predict_proba") or not hasattr(model, "labels"):
        raise TypeError(f"model must be a Classifier, a model name or a folder, got {type(model).__name__}")
    return model


# --- results -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TacticHit:
    """One tactic cue by one participant: the tactic, the message index and the quoted evidence."""

    tactic: str
    message: int
    evidence: str
    participant: str
    weight: float

    def to_dict(self) -> dict:
        return {"tactic": self.tactic, "message": self.message, "evidence": self.evidence}


@dataclass
class MonitorState:
    """What :meth:`ConversationMonitor.add` returns after each message.

    ``risk`` is the running risk after this message; ``flagged`` says whether the alert has been
    raised so far, ``alert`` whether it was raised by this very message (at ``onset``);
    ``participant`` is the suspected groomer; ``tactics`` are the cues found in this message.
    """

    index: int
    risk: float
    flagged: bool
    alert: bool
    onset: int | None
    participant: str | None
    tactics: list[TacticHit]


@dataclass
class ConversationAnalysis:
    """The analysis of a whole chat; :meth:`to_dict` gives the documented JSON shape."""

    risk: float
    flagged: bool
    onset: int | None
    participant: str | None
    tactics: list[TacticHit]
    labels: dict[str, float]
    flags: list[str]
    messages: list[dict]
    participants: dict[str, dict]
    harassment: dict
    sources: dict = field(default_factory=dict)
    child: str | None = None
    threshold: float = THRESHOLD
    skipped: int = 0

    @property
    def risk_level(self) -> str:
        return risk_level(self.flags)

    def to_dict(self) -> dict:
        return {
            "grooming": {
                "risk": round(float(self.risk), 4),
                "flagged": bool(self.flagged),
                "onset": self.onset,
                "participant": self.participant,
                "tactics": [hit.to_dict() for hit in self.tactics],
                "threshold": self.threshold,
                "child": self.child,
            },
            "labels": {label: round(float(value), 4) for label, value in self.labels.items()},
            "flags": list(self.flags),
            "flag_sources": self.sources,
            "risk": self.risk_level,
            "harassment": self.harassment,
            "participants": self.participants,
            "messages": self.messages,
        }


# --- per-participant evidence ---------------------------------------------------------------------------

@dataclass
class _Participant:
    name: str
    is_parent: bool = False
    named_child: bool = False
    hits: list[TacticHit] = field(default_factory=list)
    grooming_probs: list[float] = field(default_factory=list)
    informed: int = 0
    safety: int = 0
    adult: bool = False
    minor_answers: int = 0
    messages: int = 0
    peer_words: int = 0
    elder_words: int = 0

    def strength(self, tactic: str) -> float:
        weights = sorted((h.weight for h in self.hits if h.tactic == tactic), reverse=True)
        keep = 1.0
        for rank, weight in enumerate(weights):
            keep *= 1.0 - weight * REPEAT_DECAY**rank
        return 1.0 - keep

    def model_score(self) -> float:
        top = sorted(self.grooming_probs, reverse=True)[:MODEL_TOP]
        return float(np.mean(top)) if top else 0.0

    def evidence(self) -> float:
        keep = 1.0 - MODEL_WEIGHT * self.model_score()
        for tactic in TACTICS:
            keep *= 1.0 - self.strength(tactic)
        return 1.0 - keep


def _is_parent_name(name: str) -> bool:
    import unicodedata

    return bool(_PARENT_NAME.search(unicodedata.normalize("NFC", name).strip().lower()))


class ConversationMonitor:
    """Streaming grooming monitor for platforms: feed messages one by one with :meth:`add`.

    Parameters
    ----------
    model : Classifier, str or None, default=None
        The message-level model (``None``: the bundled default).
    child : str or None, default=None
        Display name of the child in the chat, when known (a parent sharing their child's chat).
    threshold : float, default=THRESHOLD
        Running risk at which the monitor raises its alert.

    Attributes
    ----------
    onset_ : int or None
        Index of the message that raised the alert (``None`` until then).
    peak_ : float
        Highest running risk so far.
    leader_ : str or None
        The participant with the highest risk (the suspected groomer once flagged).

    Examples
    --------
    >>> monitor = ConversationMonitor()
    >>> for message in incoming:                     # doctest: +SKIP
    ...     state = monitor.add({"from": message.sender, "text": message.text})
    ...     if state.alert:
    ...         notify_moderators(state.participant, state.tactics)
    """

    def __init__(self, model=None, child: str | None = None, threshold: float = THRESHOLD) -> None:
        self.model = model
        self.child = child
        self.threshold = threshold

    def reset(self) -> ConversationMonitor:
        """Forget the messages so far (the model is loaded once, on the first message or reset)."""
        if not hasattr(self, "model_"):
            self.model_ = resolve_model(self.model)
        self.labels_ = [label for label in self.model_.labels if label != "clean"]
        self.messages_: list[ChatMessage] = []
        self.probabilities_: list[dict[str, float]] = []
        self.participants_: dict[str, _Participant] = {}
        self.running_risk_: list[float] = []
        self.message_tactics_: list[list[str]] = []
        self.message_cues_: list[list[CueHit]] = []
        self.minor_seen_ = self.child is not None
        self.onset_: int | None = None
        self.peak_ = 0.0
        self.leader_: str | None = None
        self._pending_age_question: tuple[str, int] | None = None
        return self

    # -- streaming ---------------------------------------------------------------------------------

    def add(self, message, probabilities: dict[str, float] | None = None) -> MonitorState:
        """Add the next message (``{"from", "text"}`` or a :class:`ChatMessage`); returns the running state.

        ``probabilities`` (the message-level model's output for this message) may be given when
        already computed, e.g. in batch.
        """
        if not hasattr(self, "model_"):
            self.reset()
        index = len(self.messages_)
        message = coerce_message(message, index)
        if probabilities is None:
            row = self.model_.predict_proba([message.text])[0]
            probabilities = dict(zip(self.model_.labels, map(float, row), strict=True))
        self.messages_.append(message)
        self.probabilities_.append({label: float(probabilities[label]) for label in self.labels_})
        person = self._participant(message.sender)
        person.messages += 1
        if "grooming" in probabilities:
            person.grooming_probs.append(float(probabilities["grooming"]))
        words = normalize(message.text).split()
        person.peer_words += sum(word in _PEER_WORDS for word in words)
        person.elder_words += sum(word in _ELDER_WORDS for word in words)
        new_hits = self._read_cues(person, message.text, index)
        self._read_ages(person, message.text, index, self.message_cues_[-1])
        self.message_tactics_.append(sorted({hit.tactic for hit in new_hits}))
        risk, leader = self._current_risk()
        self.running_risk_.append(risk)
        alert = False
        if risk >= self.threshold and self.onset_ is None:
            self.onset_, alert = index, True
        if risk > self.peak_:
            self.peak_, self.leader_ = risk, leader or self.leader_
        elif self.leader_ is None:
            self.leader_ = leader
        return MonitorState(index, risk, self.onset_ is not None, alert, self.onset_, self.leader_, new_hits)

    def _participant(self, name: str) -> _Participant:
        if name not in self.participants_:
            parent = _is_parent_name(name) and name != self.child
            named_child = name == self.child or (not parent and bool(_CHILD_NAME.search(name.lower())))
            self.participants_[name] = _Participant(name, is_parent=parent, named_child=named_child)
        return self.participants_[name]

    def _read_cues(self, person: _Participant, text: str, index: int) -> list[TacticHit]:
        cue_hits: list[CueHit] = find_cues(text)
        kinds = {hit.kind for hit in cue_hits}
        self.message_cues_.append(cue_hits)
        discount = REPORTED_DISCOUNT if "reported" in kinds else 1.0
        person.informed += "parents_informed" in kinds
        person.safety += "safety_talk" in kinds
        harmless_secret = REPORTED_DISCOUNT if "benign_secret" in kinds else 1.0
        new = [TacticHit(hit.kind, index, hit.evidence, person.name,
                         hit.weight * discount * (harmless_secret if hit.kind == "secrecy" else 1.0))
               for hit in cue_hits if hit.kind in TACTICS]
        person.hits.extend(new)
        return new

    def _read_ages(self, person: _Participant, text: str, index: int, hits: list[CueHit]) -> None:
        cues: AgeCues = age_cues(text, hits)
        if cues.adult and not cues.minor:
            person.adult = True
        if cues.minor:
            self.minor_seen_ = True
            pending = self._pending_age_question
            if pending is not None and pending[0] != person.name and index - pending[1] <= 2:
                person.minor_answers += 1
        if any(hit.tactic == "probing" and hit.message == index for hit in person.hits):
            self._pending_age_question = (person.name, index)

    def _child_name(self) -> str | None:
        if self.child is not None:
            return self.child
        best = max(self.participants_.values(), key=lambda p: (p.minor_answers + 2 * p.named_child, -p.messages),
                   default=None)
        return best.name if best is not None and (best.minor_answers or best.named_child) else None

    def _context_factor(self, person: _Participant, child: str | None) -> float:
        factor = 1.0
        if not self.minor_seen_:
            factor *= NO_CHILD_SEEN
        elif person.adult and person.name != child:
            factor *= ADULT_WITH_CHILD
        if person.name == child:
            factor *= IS_THE_CHILD
        if person.is_parent:
            factor *= IS_THE_CHILD
        elif any(p.is_parent for p in self.participants_.values()):
            factor *= PARENT_PRESENT
        if person.peer_words and not person.elder_words:
            factor *= PEER_TALK
        if person.informed:
            factor *= PARENTS_INFORMED
        if person.safety:
            factor *= SAFETY_TALK ** min(person.safety, 2)
        return factor

    def _current_risk(self) -> tuple[float, str | None]:
        child = self._child_name()
        best, leader = 0.0, None
        for person in self.participants_.values():
            if not person.hits and person.model_score() == 0.0:
                continue
            risk = min(1.0, person.evidence() * self._context_factor(person, child))
            if risk > best:
                best, leader = risk, person.name
        return best, (leader if best > 0 and self.participants_[leader].hits else None)

    def _addressee(self, person: _Participant, child: str | None) -> str | None:
        """Whom ``person``'s tactic cues were aimed at: the child when known, else who answered them."""
        if not person.hits:
            return None
        if child is not None and child != person.name:
            return child
        answers: dict[str, int] = {}
        for index in sorted({hit.message for hit in person.hits}):
            later = (m.sender for m in self.messages_[index + 1:] if m.sender != person.name)
            earlier = (m.sender for m in reversed(self.messages_[:index]) if m.sender != person.name)
            other = next(later, None) or next(earlier, None)
            if other is not None:
                answers[other] = answers.get(other, 0) + 1
        return max(answers, key=answers.get) if answers else None

    # -- results -----------------------------------------------------------------------------------

    @property
    def onset(self) -> int | None:
        return getattr(self, "onset_", None)

    def result(self, skipped: int = 0) -> ConversationAnalysis:
        """The analysis of the messages added so far."""
        if not hasattr(self, "model_"):
            self.reset()
        participant = self.leader_
        if participant is None and self.participants_:
            participant = self._current_risk()[1]
        tactics = sorted((h for h in self.participants_[participant].hits), key=lambda h: (h.message, h.tactic)) \
            if participant is not None else []
        labels, flags, harassment, sources = _conversation_labels(self, self.peak_)
        messages = [
            {"index": i, "from": m.sender, "labels": {k: round(v, 4) for k, v in probs.items()},
             "risk": round(self.running_risk_[i], 4), "tactics": self.message_tactics_[i]}
            for i, (m, probs) in enumerate(zip(self.messages_, self.probabilities_, strict=True))
        ]
        child = self._child_name()
        participants = {
            name: {"messages": p.messages,
                   "risk": round(min(1.0, p.evidence() * self._context_factor(p, child)), 4),
                   "tactics": sorted({h.tactic for h in p.hits}, key=TACTICS.index),
                   "directed_at": self._addressee(p, child),
                   "role": "child" if name == child else "parent" if p.is_parent else None,
                   "said_adult": p.adult}
            for name, p in self.participants_.items()
        }
        return ConversationAnalysis(
            risk=self.peak_, flagged=self.onset_ is not None, onset=self.onset_, participant=participant,
            tactics=tactics, labels=labels, flags=flags, messages=messages, participants=participants,
            harassment=harassment, sources=sources, child=child, threshold=self.threshold, skipped=skipped)


# --- conversation-level labels ------------------------------------------------------------------------

def _top_mean(values: list[float], k: int = 2) -> float:
    top = sorted(values, reverse=True)[:k]
    return float(np.mean(top)) if top else 0.0


def _message_scores(monitor: ConversationMonitor, label: str,
                    idiom: str | None = None) -> list[tuple[float, float] | None]:
    """Per message: ``(model probability for label, strongest lexicon cue for label)``; ``None`` for
    messages that do not count (reported words, safety advice, and for self-harm idioms)."""
    scores: list[tuple[float, float] | None] = []
    for hits, probs in zip(monitor.message_cues_, monitor.probabilities_, strict=True):
        kinds = {hit.kind for hit in hits}
        if kinds & {"reported", "safety_talk"} or (idiom is not None and idiom in kinds):
            scores.append(None)
            continue
        cue = max((hit.weight for hit in hits if hit.kind == label), default=0.0)
        scores.append((probs.get(label, 0.0), cue))
    return scores


def _cue_label_score(monitor: ConversationMonitor, label: str, idiom: str | None = None) -> float:
    """A label that lexicon cues speak for (self-harm disclosures, scams), from the messages that count.

    The higher of the model's mean over the two highest counted messages and the best message
    that has a cue, scored as the noisy-OR of cue and model.
    """
    counted = [score for score in _message_scores(monitor, label, idiom) if score is not None]
    with_cue = [1.0 - (1.0 - cue) * (1.0 - probability) for probability, cue in counted if cue]
    return max(max(with_cue, default=0.0), _top_mean([probability for probability, _ in counted]))


def _conversation_labels(monitor: ConversationMonitor, grooming_risk: float) -> tuple[dict, list, dict, dict]:
    thresholds = getattr(monitor.model_, "thresholds", {}) or {}
    columns = {label: [p[label] for p in monitor.probabilities_] for label in monitor.labels_}
    labels: dict[str, float] = {}
    for label in LABEL_IDS:
        if label == "grooming":
            labels[label] = grooming_risk
        elif label in columns:
            labels[label] = _top_mean(columns[label])
    if "self_harm" in labels:
        labels["self_harm"] = _cue_label_score(monitor, "self_harm", idiom="self_harm_idiom")
    if "scam" in labels:
        labels["scam"] = _cue_label_score(monitor, "scam")
    harassment = _harassment(monitor, thresholds)
    if "harassment" in labels and len(harassment["senders"]) >= GANG_SIZE:
        labels["harassment"] = max(labels["harassment"], thresholds.get("harassment", 0.5) + 0.1 *
                                   (len(harassment["senders"]) - 1))
    labels = {label: min(1.0, value) for label, value in labels.items()}
    flags = [label for label, value in labels.items()
             if (label == "grooming" and monitor.onset_ is not None)
             or (label != "grooming" and value >= thresholds.get(label, 0.5))]
    sources = {}
    for label in flags:
        if label == "grooming":
            continue
        idiom = "self_harm_idiom" if label == "self_harm" else None
        if label in ("self_harm", "scam"):
            scores = [None if s is None else 1.0 - (1.0 - s[1]) * (1.0 - s[0])
                      for s in _message_scores(monitor, label, idiom)]
        else:
            scores = columns[label]
        counted = [(score, i) for i, score in enumerate(scores) if score is not None]
        if counted:
            index = max(counted)[1]
            sources[label] = {"message": index, "from": monitor.messages_[index].sender}
    return labels, flags, harassment, sources


def _harassment(monitor: ConversationMonitor, thresholds: dict) -> dict:
    """Who sent harassing messages (at the model's threshold), and who, if anyone, received them."""
    hostile: dict[str, int] = {}
    for message, probs in zip(monitor.messages_, monitor.probabilities_, strict=True):
        if probs.get("harassment", 0.0) >= thresholds.get("harassment", 0.5):
            hostile[message.sender] = hostile.get(message.sender, 0) + 1
    senders = sorted(hostile, key=lambda name: -hostile[name])
    others = [name for name in monitor.participants_ if name not in hostile]
    target = monitor.child if monitor.child in others else (others[0] if len(others) == 1 else None)
    return {"senders": senders if len(senders) >= GANG_SIZE else senders[:1], "target": target if senders else None}


# --- batch entry point ----------------------------------------------------------------------------------

def analyze_conversation(messages, model=None, *, child: str | None = None,
                         threshold: float = THRESHOLD) -> ConversationAnalysis:
    """Grooming risk, tactic timeline and early alert for a whole chat, plus conversation-level flags.

    Parameters
    ----------
    messages : list of dict, Chat, dict or Path
        ``[{"from": name, "text": message, "time": optional ISO 8601}, ...]`` in chronological
        order, a :class:`~classifier.conversation.parsers.Chat`, ``{"messages": [...]}``, or the
        :class:`~pathlib.Path` of a chat file (read with :func:`~classifier.conversation.read_chat`).
    model : Classifier, str or None, default=None
        The message-level model (``None``: the bundled default).
    child : str or None, default=None
        Display name of the child, when known.
    threshold : float, default=THRESHOLD
        Running risk at which the alert is raised.

    Returns
    -------
    ConversationAnalysis
        ``.to_dict()`` gives ``{"grooming": {...}, "labels": {...}, "messages": [...]}`` and more.
    """
    if isinstance(messages, Path):
        messages = read_chat(messages)
    chat: Chat = as_chat(messages)
    if child is not None and child not in chat.participants:
        raise DataError(f"child {child!r} is not a participant; participants: {', '.join(chat.participants)}",
                        path=chat.path)
    monitor = ConversationMonitor(model, child=child, threshold=threshold).reset()
    if chat.messages:
        proba = monitor.model_.predict_proba([m.text for m in chat.messages])
        for message, row in zip(chat.messages, proba, strict=True):
            monitor.add(message, dict(zip(monitor.model_.labels, map(float, row), strict=True)))
    return monitor.result(skipped=chat.skipped)
