"""What a parent or moderator should do next, in calm words (Vietnamese by default, English too).

Never alarmist on clean text, never blaming the child; the national child-protection hotline 111
(Tổng đài quốc gia bảo vệ trẻ em, free, 24/7) is named wherever a child may be at risk.
"""

from __future__ import annotations

from classifier.taxonomy import display_name

HOTLINE = "111"

_HEADLINES = {
    "vi": {
        "none": "Không thấy dấu hiệu nguy hiểm trong tin nhắn này.",
        "low": "Tin nhắn có lời lẽ thô tục, mức độ rủi ro thấp.",
        "medium": "Tin nhắn có dấu hiệu đáng lo ngại, nên để ý.",
        "high": "Tin nhắn có dấu hiệu nguy hiểm, cần hành động.",
    },
    "en": {
        "none": "No sign of risk in this message.",
        "low": "The message contains crude language; low risk.",
        "medium": "The message shows worrying signs worth attention.",
        "high": "The message shows signs of danger; act on it.",
    },
}

_ADVICE = {
    "vi": {
        "grooming": "Có dấu hiệu người lạ dụ dỗ trẻ. Bình tĩnh nói chuyện với con, khen con đã chia sẻ, "
                    "không trách con. Chụp màn hình và giữ lại tin nhắn làm bằng chứng, không tự đối chất với "
                    "người đó, chặn và báo cáo tài khoản trên nền tảng. Gọi Tổng đài quốc gia bảo vệ trẻ em "
                    f"{HOTLINE} (miễn phí, 24/7) để được hỗ trợ.",
        "sexual": "Nội dung mang tính tình dục. Không gửi ảnh riêng tư cho bất kỳ ai; giữ bằng chứng, chặn và "
                  f"báo cáo tài khoản. Nếu người nhận là trẻ em, gọi {HOTLINE}.",
        "threat": "Có lời đe doạ. Giữ lại bằng chứng (ảnh chụp màn hình, thời gian), không trả lời khiêu khích. "
                  f"Nếu có nguy hiểm trước mắt hãy gọi Công an 113; với trẻ em, gọi {HOTLINE}.",
        "self_harm": "Người viết có thể đang gặp khủng hoảng. Hãy ở bên, lắng nghe không phán xét, hỏi thẳng "
                     f"về ý định tự hại. Gọi {HOTLINE} (trẻ em) hoặc 115 nếu nguy hiểm tức thời.",
        "harassment": "Có dấu hiệu bắt nạt. Động viên con, không trả đũa; lưu bằng chứng, báo cáo với nền tảng "
                      f"và giáo viên chủ nhiệm. Nếu kéo dài hoặc nghiêm trọng, gọi {HOTLINE}.",
        "hate": "Nội dung miệt thị một nhóm người. Không chia sẻ lại; báo cáo với nền tảng.",
        "personal_info": "Có chia sẻ hoặc dò hỏi thông tin cá nhân. Nhắc con không cho người lạ biết địa chỉ, "
                         "trường lớp, số điện thoại, mật khẩu hay mã OTP.",
        "scam": "Có dấu hiệu lừa đảo. Không bấm vào đường link, không đăng nhập, không đưa mã OTP hay mã thẻ cào.",
        "offensive": "Có lời lẽ tục tĩu. Có thể nhắc nhở về cách cư xử lịch sự trên mạng.",
    },
    "en": {
        "grooming": "Signs of an adult grooming a child. Talk calmly with the child, thank them for sharing and "
                    "never blame them. Keep screenshots as evidence, do not confront the person alone, block and "
                    "report the account. Call Vietnam's national child-protection hotline "
                    f"{HOTLINE} (free, 24/7).",
        "sexual": "Sexual content. Never send private photos to anyone; keep evidence, block and report. If the "
                  f"recipient is a child, call {HOTLINE}.",
        "threat": "A threat. Keep evidence (screenshots, times) and do not reply to provocation. If there is "
                  f"immediate danger call the police on 113; for a child, call {HOTLINE}.",
        "self_harm": "The writer may be in crisis. Stay with them, listen without judging, ask directly about "
                     f"self-harm. Call {HOTLINE} (children) or 115 in an emergency.",
        "harassment": "Signs of bullying. Support the child, do not retaliate; keep evidence and report to the "
                      f"platform and the teacher. If it persists or is serious, call {HOTLINE}.",
        "hate": "Content demeaning a group. Do not share it; report it to the platform.",
        "personal_info": "Personal information shared or requested. Remind the child never to give strangers "
                         "their address, school, phone number, passwords or one-time codes.",
        "scam": "Signs of a scam. Do not click links, log in, or give one-time codes or card codes.",
        "offensive": "Crude language. A reminder about polite behaviour online may help.",
    },
}

POLICE = "113"
AMBULANCE = "115"

_CONTACTS = {
    "vi": {
        HOTLINE: f"{HOTLINE} — Tổng đài quốc gia bảo vệ trẻ em (miễn phí, 24/7): gọi khi con bị người lạ dụ dỗ, "
                 "xin ảnh, đe doạ hay bắt nạt, hoặc khi cha mẹ cần người tư vấn cách giúp con.",
        POLICE: f"{POLICE} — Công an: gọi ngay nếu con đang gặp nguy hiểm trước mắt, như bị hẹn gặp, bị theo dõi, "
                "bị đe doạ đánh hay tống tiền.",
        AMBULANCE: f"{AMBULANCE} — Cấp cứu: gọi ngay nếu có người vừa hoặc sắp tự làm hại bản thân.",
    },
    "en": {
        HOTLINE: f"{HOTLINE} — Vietnam's national child-protection hotline (free, 24/7): call when a child is "
                 "being groomed, asked for photos, threatened or bullied, or when you want advice on how to help.",
        POLICE: f"{POLICE} — Police: call at once if the child is in immediate danger, e.g. asked to meet, "
                "followed, threatened with violence or blackmailed.",
        AMBULANCE: f"{AMBULANCE} — Emergency medical service: call at once if someone has harmed or is about to "
                   "harm themselves.",
    },
}

#: Numbers worth knowing, per label, in the order they are shown.
_CALLS = {
    "grooming": (HOTLINE, POLICE),
    "threat": (POLICE, HOTLINE),
    "self_harm": (AMBULANCE, HOTLINE),
    "sexual": (HOTLINE,),
}

_NOTHING_FOUND = {
    "vi": "Bộ lọc không phải lúc nào cũng đúng: nếu con vẫn thấy không thoải mái với tin nhắn, hãy lắng nghe con.",
    "en": "No filter is always right: if the child still feels uneasy about the message, listen to them.",
}

#: Order in which advice is shown: most serious first.
_PRIORITY = ["grooming", "self_harm", "threat", "sexual", "harassment", "scam", "personal_info", "hate",
             "offensive"]


def headline(risk: str, lang: str = "vi") -> str:
    """One calm sentence summing up a risk level."""
    return _HEADLINES[_lang(lang)].get(risk, _HEADLINES[_lang(lang)]["none"])


def advice(flagged: list[str], lang: str = "vi") -> list[str]:
    """Advice lines for the flagged labels, most serious first; empty for clean text."""
    table = _ADVICE[_lang(lang)]
    ordered = sorted((f for f in flagged if f in table), key=_PRIORITY.index)
    return [f"{display_name(label, lang)}: {table[label]}" for label in ordered]


def meanings(flagged: list[str], lang: str = "vi") -> list[str]:
    """What each flagged label means, most serious first ("Dụ dỗ trẻ em: Người lớn tiếp cận…")."""
    from classifier.taxonomy import LABELS

    ordered = sorted((f for f in flagged if f in LABELS), key=_PRIORITY.index)
    return [f"{display_name(label, lang)}: {LABELS[label].definition(lang)}" for label in ordered]


def contacts(flagged: list[str], lang: str = "vi") -> list[str]:
    """Whom to call and when (111, 113, 115) for the flagged labels; empty when none calls for it."""
    numbers: list[str] = []
    for label in sorted((f for f in flagged if f in _CALLS), key=_PRIORITY.index):
        numbers.extend(n for n in _CALLS[label] if n not in numbers)
    return [_CONTACTS[_lang(lang)][number] for number in numbers]


def reassurance(lang: str = "vi") -> str:
    """The calm note shown with a clean verdict."""
    return _NOTHING_FOUND[_lang(lang)]


def guidance(flagged: list[str], risk: str, lang: str = "vi") -> dict:
    """Everything a parent reads about a verdict: headline, meanings, advice and contacts."""
    data = {"headline": headline(risk, lang), "meanings": meanings(flagged, lang), "advice": advice(flagged, lang),
            "contacts": contacts(flagged, lang)}
    if not flagged:
        data["note"] = reassurance(lang)
    return data


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "vi"
