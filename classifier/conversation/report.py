"""A readable report on a chat for parents and moderators (Vietnamese by default, English too).

Calm wording, never blaming the child; names hotline 111 wherever a child may be at risk (the
tone and hotline of :mod:`classifier.guidance`).
"""

from __future__ import annotations

from classifier.conversation.tactics import TACTICS
from classifier.guidance import HOTLINE, advice
from classifier.taxonomy import display_name

MAX_EVIDENCE_PER_TACTIC = 3
#: Below the alert threshold, tactics are still listed (as "worth watching") from this risk on.
WATCH_FROM = 0.25

TACTIC_NAMES = {
    "vi": {
        "flattery": "Lấy lòng, khen ngợi, tạo niềm tin",
        "probing": "Dò hỏi tuổi, trường lớp, nơi ở, lúc ở nhà một mình",
        "gifts": "Tặng quà, tiền, vật phẩm game",
        "isolation": "Tách trẻ khỏi gia đình, bạn bè",
        "secrecy": "Đòi giữ bí mật, giấu bố mẹ, xoá tin nhắn",
        "private_app": "Rủ sang ứng dụng hoặc kênh nhắn riêng",
        "meeting": "Hẹn gặp ngoài đời",
        "photo_request": "Xin ảnh, đòi bật camera hoặc gọi video",
        "sexual_talk": "Nói chuyện mang tính tình dục",
        "sextortion": "Đe doạ phát tán ảnh, tống tiền",
    },
    "en": {
        "flattery": "Flattery and trust building",
        "probing": "Probing for age, school, address, being home alone",
        "gifts": "Gifts, money, game items",
        "isolation": "Isolating the child from family and friends",
        "secrecy": "Secrecy, hiding from parents, deleting messages",
        "private_app": "Moving to a private app or channel",
        "meeting": "Asking to meet in person",
        "photo_request": "Asking for photos, camera or video calls",
        "sexual_talk": "Sexual talk",
        "sextortion": "Threats to share images, blackmail",
    },
}

_TEXT = {
    "vi": {
        "title": "Phân tích cuộc trò chuyện ({n} tin nhắn, {p} người)",
        "skipped": "({n} tin nhắn không có chữ — ảnh, nhãn dán, cuộc gọi — không được tính)",
        "flagged": "KẾT LUẬN: Có dấu hiệu dụ dỗ trẻ em (mức rủi ro {risk:.0%}).",
        "who": "Người có dấu hiệu: “{who}”. Cảnh báo bật lên từ tin nhắn thứ {onset}.",
        "not_flagged": "KẾT LUẬN: Không thấy dấu hiệu dụ dỗ trẻ em trong cuộc trò chuyện này (mức rủi ro {risk:.0%}).",
        "tactics": "Các dấu hiệu tìm thấy:",
        "watch": "Một vài câu nên để ý (chưa đủ để cảnh báo):",
        "message": "tin nhắn thứ {i}",
        "child": "Trẻ trong cuộc trò chuyện: “{child}”.",
        "todo": "Nên làm gì:",
        "steps": [
            "Giữ lại bằng chứng: chụp màn hình, lưu lại tệp cuộc trò chuyện; không xoá tin nhắn.",
            "Không tự đối chất hay nhắn lại cho người này một mình; không hẹn gặp họ.",
            "Báo cáo và chặn tài khoản trên nền tảng (Facebook, Zalo, TikTok, trò chơi...).",
            f"Gọi Tổng đài quốc gia bảo vệ trẻ em {HOTLINE} (miễn phí, 24/7) để được tư vấn; "
            "nếu có nguy hiểm trước mắt, gọi Công an 113.",
            "Nói chuyện bình tĩnh với con: cảm ơn con đã chia sẻ, nói rõ con không có lỗi, không trách mắng "
            "hay tịch thu điện thoại của con.",
        ],
        "others": "Các dấu hiệu khác trong cuộc trò chuyện:",
        "gang": "Nhiều người cùng nhắm vào một người: {senders}{target}.",
        "source": "{label}: rõ nhất ở tin nhắn thứ {i} của “{who}”.",
        "gang_target": " → “{target}”",
        "calm": "Nếu con vẫn thấy lo lắng về ai đó trên mạng, hãy lắng nghe con và giữ liên lạc; "
                f"Tổng đài {HOTLINE} luôn sẵn sàng hỗ trợ.",
    },
    "en": {
        "title": "Chat analysis ({n} messages, {p} people)",
        "skipped": "({n} message(s) without text — photos, stickers, calls — left out)",
        "flagged": "VERDICT: Signs of child grooming (risk {risk:.0%}).",
        "who": "Person showing the signs: “{who}”. The alert was raised at message {onset}.",
        "not_flagged": "VERDICT: No sign of child grooming in this chat (risk {risk:.0%}).",
        "tactics": "Signs found:",
        "watch": "A few lines worth watching (not enough for an alert):",
        "message": "message {i}",
        "child": "Child in the chat: “{child}”.",
        "todo": "What to do:",
        "steps": [
            "Keep the evidence: take screenshots and save the chat file; do not delete messages.",
            "Do not confront or message this person alone, and never arrange to meet them.",
            "Report and block the account on the platform (Facebook, Zalo, TikTok, the game...).",
            f"Call Vietnam's national child-protection hotline {HOTLINE} (free, 24/7) for advice; in immediate "
            "danger call the police on 113.",
            "Talk calmly with the child: thank them for sharing, make clear it is not their fault, do not scold "
            "them or take their phone away.",
        ],
        "others": "Other signs in the chat:",
        "gang": "Several people targeting one person: {senders}{target}.",
        "source": "{label}: clearest in message {i}, from “{who}”.",
        "gang_target": " → “{target}”",
        "calm": "If the child is still worried about someone online, listen and stay close; "
                f"the {HOTLINE} hotline is there to help.",
    },
}


def tactic_name(tactic: str, lang: str = "vi") -> str:
    return TACTIC_NAMES["en" if lang == "en" else "vi"].get(tactic, tactic)


def _tactic_lines(analysis, lang: str, text: dict) -> list[str]:
    lines = []
    by_tactic: dict[str, list] = {}
    for hit in analysis.tactics:
        by_tactic.setdefault(hit.tactic, []).append(hit)
    for tactic in sorted(by_tactic, key=TACTICS.index):
        hits = by_tactic[tactic]
        lines.append(f"  • {tactic_name(tactic, lang)}:")
        seen = set()
        for hit in hits:
            if hit.evidence in seen or len(seen) >= MAX_EVIDENCE_PER_TACTIC:
                continue
            seen.add(hit.evidence)
            lines.append(f"      – {text['message'].format(i=hit.message + 1)}: “{hit.evidence}”")
    return lines


def render_report(analysis, lang: str = "vi", *, participants: int | None = None) -> str:
    """The report as plain text (one string, lines separated by newlines)."""
    lang = "en" if lang == "en" else "vi"
    text = _TEXT[lang]
    count = len(analysis.messages)
    people = participants if participants is not None else len(analysis.participants)
    lines = [text["title"].format(n=count, p=people)]
    if analysis.skipped:
        lines.append(text["skipped"].format(n=analysis.skipped))
    lines.append("")
    if analysis.flagged:
        lines.append(text["flagged"].format(risk=analysis.risk))
        if analysis.participant is not None:
            lines.append(text["who"].format(who=analysis.participant, onset=analysis.onset + 1))
        if analysis.child is not None and analysis.child != analysis.participant:
            lines.append(text["child"].format(child=analysis.child))
        lines += ["", text["tactics"], *_tactic_lines(analysis, lang, text), "", text["todo"]]
        lines += [f"  {number}. {step}" for number, step in enumerate(text["steps"], start=1)]
    else:
        lines.append(text["not_flagged"].format(risk=analysis.risk))
        if analysis.tactics and analysis.risk >= WATCH_FROM:
            lines += ["", text["watch"], *_tactic_lines(analysis, lang, text)]
    others = [label for label in analysis.flags if label != "grooming"]
    if others:
        lines += ["", text["others"]]
        senders = analysis.harassment.get("senders", [])
        if "harassment" in others and len(senders) >= 2:
            target = analysis.harassment.get("target")
            lines.append("  • " + text["gang"].format(
                senders=", ".join(f"“{s}”" for s in senders),
                target=text["gang_target"].format(target=target) if target else ""))
        for label in others:
            source = analysis.sources.get(label)
            if source is not None and label != "harassment":
                lines.append("  • " + text["source"].format(label=display_name(label, lang), i=source["message"] + 1,
                                                           who=source["from"]))
        lines += [f"  → {line}" for line in advice(others, lang)]
    elif not analysis.flagged and analysis.risk >= WATCH_FROM:
        lines += ["", text["calm"]]
    return "\n".join(lines)
