"""Whole-chat analysis: the documented dict, incremental onset, streaming, hard negatives, other flags."""

import json
from pathlib import Path

import numpy as np
import pytest

import classifier
from classifier.conversation import ConversationMonitor, analyze_conversation, read_chat
from classifier.conversation.parsers import Chat, ChatMessage
from classifier.errors import DataError
from classifier.normalize import fold_accents

REPO = Path(__file__).resolve().parent.parent
CHATS = Path(__file__).resolve().parent / "data" / "chats"
LABELS = ["offensive", "hate", "harassment", "threat", "sexual", "grooming", "self_harm", "personal_info", "scam"]


class KeywordModel:
    """A message-level model for tests: fixed probabilities for messages containing a keyword."""

    def __init__(self, rules=None, labels=LABELS):
        self.labels = list(labels)
        self.thresholds = {label: 0.5 for label in self.labels}
        self.rules = rules or {}

    def predict_proba(self, texts):
        rows = np.zeros((len(texts), len(self.labels)))
        for i, text in enumerate(texts):
            for keyword, scores in self.rules.items():
                if keyword in text:
                    for label, value in scores.items():
                        rows[i, self.labels.index(label)] = max(rows[i, self.labels.index(label)], value)
        return rows


QUIET = KeywordModel()

GROOMING = [
    {"from": "Hải Đăng", "text": "Chào em, anh xem clip em nhảy trên TikTok, em nhảy đẹp quá"},
    {"from": "Bống", "text": "dạ em cảm ơn anh"},
    {"from": "Hải Đăng", "text": "Em năm nay bao nhiêu tuổi rồi?"},
    {"from": "Bống", "text": "em 12 tuổi ạ"},
    {"from": "Hải Đăng", "text": "Anh mua tặng em cái tai nghe mới nhé, em thích màu gì"},
    {"from": "Bống", "text": "màu hồng ạ"},
    {"from": "Hải Đăng", "text": "Ok. Mà chuyện anh tặng quà đừng kể với bố mẹ nha, kết bạn Zalo anh đi"},
    {"from": "Bống", "text": "sao lại không kể ạ"},
    {"from": "Hải Đăng", "text": "Gửi anh ảnh em mặc đồ ngủ đi rồi anh gửi quà"},
    {"from": "Bống", "text": "em không gửi đâu"},
]


def test_documented_dict_with_the_default_model():
    result = classifier.analyze_conversation(GROOMING).to_dict()
    grooming = result["grooming"]
    assert {"risk", "flagged", "onset", "participant", "tactics"} <= set(grooming)
    assert isinstance(grooming["risk"], float) and 0.0 <= grooming["risk"] <= 1.0
    assert grooming["flagged"] is True and isinstance(grooming["onset"], int)
    assert grooming["participant"] == "Hải Đăng"
    for hit in grooming["tactics"]:
        assert set(hit) == {"tactic", "message", "evidence"}
        assert hit["evidence"] and hit["evidence"] in GROOMING[hit["message"]]["text"]
    assert {h["tactic"] for h in grooming["tactics"]} >= {"secrecy", "photo_request", "gifts", "private_app"}
    assert set(result["labels"]) == set(classifier.load().labels)
    assert all(isinstance(v, float) for v in result["labels"].values())
    assert [m["index"] for m in result["messages"]] == list(range(len(GROOMING)))
    assert [m["from"] for m in result["messages"]] == [m["from"] for m in GROOMING]
    assert set(result["messages"][0]["labels"]) == set(result["labels"])
    json.dumps(result)  # JSON-serialisable as is


def test_onset_is_computed_from_the_messages_so_far():
    full = analyze_conversation(GROOMING, model=QUIET)
    assert full.flagged and full.onset == 6  # the secrecy request, after age probing and a gift
    before = analyze_conversation(GROOMING[: full.onset], model=QUIET)
    assert not before.flagged and before.onset is None
    upto = analyze_conversation(GROOMING[: full.onset + 1], model=QUIET)
    assert upto.onset == full.onset
    risks = [m["risk"] for m in full.to_dict()["messages"]]
    assert max(risks[: full.onset]) < full.threshold <= risks[full.onset]


def test_streaming_monitor_matches_the_batch_onset():
    monitor = ConversationMonitor(model=QUIET)
    states = [monitor.add(message) for message in GROOMING]
    assert [s.alert for s in states].count(True) == 1
    alert = next(s for s in states if s.alert)
    assert alert.index == monitor.onset == analyze_conversation(GROOMING, model=QUIET).onset
    assert alert.participant == "Hải Đăng" and {h.tactic for h in alert.tactics} >= {"secrecy"}
    assert all(s.flagged for s in states[alert.index:]) and not any(s.flagged for s in states[: alert.index])
    assert monitor.result().to_dict() == analyze_conversation(GROOMING, model=QUIET).to_dict()
    monitor.reset()
    assert monitor.onset is None and monitor.add(GROOMING[0]).index == 0


def test_streaming_monitor_with_the_default_model_matches_batch():
    monitor = ConversationMonitor()
    for message in GROOMING:
        monitor.add(message)
    assert monitor.onset == analyze_conversation(GROOMING).onset


def test_works_without_diacritics():
    plain = [{"from": fold_accents(m["from"]), "text": fold_accents(m["text"])} for m in GROOMING]
    result = analyze_conversation(plain, model=QUIET)
    assert result.flagged and result.participant == "Hai Dang"


@pytest.mark.parametrize("chat", [
    # A parent in the chat; the uncle's gift and photo request are family life.
    [{"from": "Chú Tâm", "text": "Bin ơi chú gửi quà sinh nhật, con mặc áo mới chụp cho chú xem nhé"},
     {"from": "Mẹ", "text": "Bin cảm ơn chú đi con"},
     {"from": "Bin", "text": "con cảm ơn chú ạ, con gửi ảnh rồi"}],
    # A surprise party kept from mum.
    [{"from": "chị Hai", "text": "đừng nói với mẹ nha, mình làm tiệc sinh nhật bất ngờ cho mẹ"},
     {"from": "Út", "text": "dạ em giữ bí mật"}],
    # A coach who keeps parents in the loop.
    [{"from": "Thầy Long", "text": "Thứ 7 em tập thêm ở sân trường, thầy đã nhắn mẹ em rồi"},
     {"from": "Khoa", "text": "dạ thầy"},
     {"from": "Thầy Long", "text": "Phụ huynh đưa đón các em đúng 8h nhé"}],
    # Same-age friends planning to meet.
    [{"from": "Hùng", "text": "mai tao qua nhà mày chơi game nha"},
     {"from": "Nam", "text": "ok, mẹ tao đi chợ về là được"}],
    # A child telling a counsellor what a stranger wrote.
    [{"from": "Ngọc", "text": "cô ơi có người lạ nhắn hỏi em ở nhà một mình không, rồi bảo em gửi ảnh"},
     {"from": "Cô Hà (tư vấn)", "text": "Em làm đúng khi kể với cô. Chụp màn hình rồi chặn, báo cáo tài khoản nhé"}],
])
def test_hard_negatives_are_not_flagged(chat):
    result = analyze_conversation(chat, model=QUIET)
    assert not result.flagged and result.onset is None and result.risk < result.threshold


def test_the_groomer_not_the_child_is_named():
    result = analyze_conversation(GROOMING, model=QUIET, child="Bống")
    assert result.participant == "Hải Đăng" and result.child == "Bống"
    assert result.to_dict()["participants"]["Bống"]["role"] == "child"
    with pytest.raises(DataError, match="not a participant"):
        analyze_conversation(GROOMING, model=QUIET, child="Tèo")


def test_accepts_parsed_chats_and_message_objects():
    chat = read_chat(CHATS / "messenger_message_1.json")
    parsed = analyze_conversation(chat, model=QUIET)
    assert parsed.flagged and parsed.participant == "Quân Lê" and parsed.skipped == 1
    objects = [ChatMessage(m["from"], m["text"]) for m in GROOMING]
    assert analyze_conversation(objects, model=QUIET).onset == analyze_conversation(GROOMING, model=QUIET).onset
    assert analyze_conversation({"messages": GROOMING}, model=QUIET).flagged
    assert analyze_conversation(CHATS / "list.json", model=QUIET).flagged
    assert analyze_conversation(Chat([]), model=QUIET).to_dict()["grooming"]["flagged"] is False
    with pytest.raises(DataError, match="lacks 'text'"):
        analyze_conversation([{"from": "An"}], model=QUIET)


def test_several_people_harassing_one():
    model = KeywordModel({"ngu": {"harassment": 0.9, "offensive": 0.8}, "cút": {"harassment": 0.8}})
    chat = [{"from": "Tí", "text": "thằng Béo ngu thật"}, {"from": "Tèo", "text": "cút khỏi nhóm đi"},
            {"from": "Béo", "text": "mình làm gì các bạn đâu"}, {"from": "Na", "text": "ngu thì im đi"}]
    result = analyze_conversation(chat, model=model).to_dict()
    assert "harassment" in result["flags"] and not result["grooming"]["flagged"]
    assert set(result["harassment"]["senders"]) == {"Tí", "Tèo", "Na"}
    assert result["harassment"]["target"] == "Béo"


def test_self_harm_disclosure_but_not_idioms():
    disclosure = [{"from": "Mai", "text": "tao mệt lắm, tao không muốn sống nữa"},
                  {"from": "Lan", "text": "Mai ơi tao gọi cho mày liền, mày đang ở đâu"}]
    assert "self_harm" in analyze_conversation(disclosure, model=QUIET).flags
    idioms = [{"from": "An", "text": "đề Toán khó muốn chết luôn"}, {"from": "Bình", "text": "cười chết mất"}]
    model = KeywordModel({"chết": {"self_harm": 0.9}})
    assert "self_harm" not in analyze_conversation(idioms, model=model).flags
    # One message the model alone scores high, with no disclosure in words, is not enough.
    spike = [{"from": "An", "text": "ko muốn"}, {"from": "Bình", "text": "ok"}, {"from": "An", "text": "đi ngủ đây"}]
    assert "self_harm" not in analyze_conversation(spike, model=KeywordModel({"ko muốn": {"self_harm": 0.95}})).flags
    result = analyze_conversation(disclosure, model=QUIET).to_dict()
    assert result["flag_sources"]["self_harm"] == {"message": 0, "from": "Mai"}


def test_scam_flag_from_cues():
    scam = [{"from": "GM_Game", "text": "Bạn trúng 9999 kim cương! Gửi mã OTP vừa nhận để nhận quà"},
            {"from": "Bo", "text": "mã ở đâu ạ"}]
    result = analyze_conversation(scam, model=QUIET)
    assert "scam" in result.flags and not result.flagged


def test_a_multiclass_model_without_grooming_label():
    model = KeywordModel(labels=["clean", "offensive", "hate"])
    result = analyze_conversation(GROOMING, model=model).to_dict()
    assert result["grooming"]["flagged"]  # the tactic cues alone
    assert set(result["labels"]) == {"offensive", "hate", "grooming"}
    assert set(result["messages"][0]["labels"]) == {"offensive", "hate"}


def test_fixed_held_out_split_of_the_conversations():
    rows = [json.loads(line) for line in (REPO / "datasets/conversations/conversations.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    split = json.loads((REPO / "datasets/conversations/split.json").read_text(encoding="utf-8"))
    held, tune = set(split["heldout"]), set(split["tune"])
    assert not held & tune and held | tune == {row["id"] for row in rows}
    for kind in {row["kind"] for row in rows}:
        ids = [row["id"] for row in rows if row["kind"] == kind]
        share = sum(i in held for i in ids) / len(ids)
        assert 0.2 <= share <= 0.4, kind
