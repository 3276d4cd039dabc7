"""The nine risk labels, their Vietnamese names, definitions and severities.

Label ids are ASCII and stable; everything shown to people uses :attr:`Label.name_vi`
(or :attr:`Label.name_en` with ``lang="en"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Severity(IntEnum):
    """How serious a flagged label is; the risk level of a verdict is the highest one."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def level(self) -> str:
        return self.name.lower()


RISK_LEVELS: tuple[str, ...] = tuple(s.level for s in Severity)


@dataclass(frozen=True)
class Label:
    id: str
    name_vi: str
    name_en: str
    definition_vi: str
    definition_en: str
    severity: Severity

    def name(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" else self.name_vi

    def definition(self, lang: str = "vi") -> str:
        return self.definition_en if lang == "en" else self.definition_vi


_LABELS = (
    Label(
        "offensive", "Xúc phạm, tục tĩu", "Offensive language",
        "Ngôn từ tục tĩu, chửi thề hoặc lăng mạ.",
        "Profanity, vulgar slang or crude insults.",
        Severity.LOW,
    ),
    Label(
        "hate", "Thù ghét", "Hate speech",
        "Miệt thị một nhóm người vì vùng miền, dân tộc, tôn giáo, giới tính, xu hướng tính dục hay khuyết tật.",
        "Demeaning a group for region, ethnicity, religion, gender, sexual orientation or disability.",
        Severity.MEDIUM,
    ),
    Label(
        "harassment", "Quấy rối, bắt nạt", "Harassment or bullying",
        "Nhắm vào một người cụ thể để chế giễu, làm nhục, cô lập hoặc bắt nạt.",
        "Targeting a specific person to mock, humiliate, exclude or bully them.",
        Severity.MEDIUM,
    ),
    Label(
        "threat", "Đe doạ", "Threat",
        "Đe doạ gây hại, đánh đập, phát tán ảnh hay bí mật, hoặc tống tiền.",
        "Intent to cause harm, violence, to leak photos or secrets, or blackmail.",
        Severity.HIGH,
    ),
    Label(
        "sexual", "Nội dung tình dục", "Sexual content",
        "Lời lẽ, gạ gẫm hoặc đòi hỏi mang tính tình dục, kể cả xin ảnh riêng tư.",
        "Sexual talk, propositions or requests, including for private photos.",
        Severity.MEDIUM,
    ),
    Label(
        "grooming", "Dụ dỗ trẻ em", "Child grooming",
        "Người lớn tiếp cận, lấy lòng, dụ dỗ trẻ giữ bí mật, gặp riêng hoặc gửi ảnh.",
        "An adult building trust with a child towards secrecy, meetings or photos.",
        Severity.HIGH,
    ),
    Label(
        "self_harm", "Tự hại", "Self-harm",
        "Bày tỏ ý định tự tử, tự làm đau bản thân, hoặc xúi giục người khác tự hại.",
        "Expressing suicidal intent or self-injury, or urging someone to self-harm.",
        Severity.HIGH,
    ),
    Label(
        "personal_info", "Thông tin cá nhân", "Personal information",
        "Chia sẻ hoặc dò hỏi địa chỉ, số điện thoại, trường lớp, mật khẩu, mã OTP.",
        "Sharing or asking for address, phone, school, passwords or one-time codes.",
        Severity.MEDIUM,
    ),
    Label(
        "scam", "Lừa đảo", "Scam",
        "Lừa nhận quà, kim cương, trúng thưởng, việc nhẹ lương cao để lấy tiền hoặc tài khoản.",
        "Fraud with fake prizes, free game items or jobs to take money or accounts.",
        Severity.MEDIUM,
    ),
)

LABELS: dict[str, Label] = {label.id: label for label in _LABELS}
LABEL_IDS: tuple[str, ...] = tuple(LABELS)

#: Classes used by multi-class datasets (ViHSD, SafeSense); "clean" is not a risk label.
CLEAN = "clean"


def get_label(label_id: str) -> Label:
    """Return the :class:`Label` for ``label_id``; raise ``KeyError`` naming the valid ids."""
    try:
        return LABELS[label_id]
    except KeyError:
        raise KeyError(f"unknown label {label_id!r}; valid labels: {', '.join(LABEL_IDS)}") from None


def display_name(label_id: str, lang: str = "vi") -> str:
    """Human name of a label id, or the id itself for classes outside the taxonomy."""
    label = LABELS.get(label_id)
    if label is None:
        return {"clean": "Bình thường" if lang == "vi" else "Clean"}.get(label_id, label_id)
    return label.name(lang)


def risk_level(flagged: list[str] | tuple[str, ...]) -> str:
    """Overall risk level (``none | low | medium | high``) of a set of flagged labels."""
    severity = max((LABELS[f].severity for f in flagged if f in LABELS), default=Severity.NONE)
    return severity.level
