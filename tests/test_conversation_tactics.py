"""Tactic cues: with and without diacritics, negation, questions, quotes, evidence offsets, ages."""

import pytest

from classifier.conversation.tactics import CONTEXT_KINDS, TACTICS, age_cues, cues, find_cues


def kinds(text):
    return {hit.kind for hit in find_cues(text)}


def test_cue_file_loads_with_known_kinds():
    loaded = cues()
    assert len(loaded) > 50
    assert {cue.kind for cue in loaded} <= set(TACTICS) | set(CONTEXT_KINDS)
    assert {cue.kind for cue in loaded} >= set(TACTICS)  # every tactic has cues
    assert all(0 < cue.weight <= 1 for cue in loaded)


@pytest.mark.parametrize("tactic, accented, plain", [
    ("secrecy", "Nhớ đừng kể với bố mẹ nhé", "nho dung ke voi bo me nhe"),
    ("secrecy", "đọc xong thì xóa tin nhắn đi", "doc xong thi xoa tin nhan di"),
    ("isolation", "Bố mẹ em chẳng hiểu em đâu", "bo me e chang hieu e dau"),
    ("probing", "Em đang ở nhà một mình à?", "e dang o nha mot minh a"),
    ("probing", "Em học lớp mấy rồi?", "e hoc lop may r"),
    ("gifts", "Anh nạp 500 kim cương cho em", "a nap 500 kc cho e"),
    ("private_app", "Kết bạn Zalo anh đi", "kb zalo a di"),
    ("meeting", "Mai tan học ra công viên gặp anh", "mai tan hoc ra cong vien gap a"),
    ("photo_request", "Gửi anh ảnh em mặc đồ ngủ đi", "gui a anh e mac do ngu di"),
    ("photo_request", "Tối nay bật cam cho anh xem nhé", "toi nay bat cam cho a xem nhe"),
    ("sexual_talk", "Em dậy thì chưa?", "e day thi chua"),
    ("sextortion", "Không gửi thì anh đăng ảnh em lên nhóm lớp", "ko gui thi a dang anh e len nhom lop"),
])
def test_cues_match_with_and_without_diacritics(tactic, accented, plain):
    assert tactic in kinds(accented)
    assert tactic in kinds(plain)


def test_a_negation_before_a_cue_cancels_it():
    assert "photo_request" in kinds("gửi ảnh của em cho anh đi")
    assert "photo_request" not in kinds("em không gửi ảnh của em đâu")
    assert "meeting" not in kinds("em chưa gặp anh bao giờ")


def test_probing_questions_count_but_answers_do_not():
    assert "probing" in kinds("bố mẹ em có hay đi làm về muộn không")
    assert "probing" not in kinds("bố mẹ em đi làm về muộn")


def test_quoted_and_reported_words():
    direct = max(h.weight for h in find_cues("đừng nói với bố mẹ nhé") if h.kind == "secrecy")
    quoted = max(h.weight for h in find_cues('cô dặn: ai bảo "đừng nói với bố mẹ nhé" là phải báo ngay')
                 if h.kind == "secrecy")
    assert quoted < direct
    assert "reported" in kinds("có người lạ nhắn hỏi em ở nhà một mình không")


def test_context_cues():
    assert "parents_informed" in kinds("Anh nói với mẹ em rồi, thứ 7 cả nhà cùng đi")
    assert "parents_informed" not in kinds("khỏi xin phép mẹ, đi nhanh thôi")
    assert "safety_talk" in kinds("chụp màn hình rồi báo cáo tài khoản đó")
    assert "benign_secret" in kinds("đừng nói với mẹ, mình làm tiệc sinh nhật bất ngờ")
    assert "self_harm" in kinds("tao không muốn sống nữa")
    assert "self_harm_idiom" in kinds("đề khó mệt muốn chết")
    assert "scam" in kinds("bạn gửi mã OTP vừa nhận để nhận quà")


def test_evidence_is_the_original_clause():
    text = "Chào em!! Anh tặng em skin nhé, mà ĐỪNG KỂ VỚI MẸ nha 😘"
    hits = {h.kind: h for h in find_cues(text)}
    secrecy = hits["secrecy"]
    assert text[secrecy.start:secrecy.end] == "ĐỪNG KỂ VỚI MẸ"
    assert secrecy.evidence == "mà ĐỪNG KỂ VỚI MẸ nha 😘"
    assert hits["gifts"].evidence == "Anh tặng em skin nhé"


def test_empty_and_harmless_text():
    assert find_cues("") == []
    assert find_cues("   ") == []
    assert not set(kinds("Chúc cả nhà cuối tuần vui vẻ")) & set(TACTICS)


def test_age_cues():
    child = age_cues("em 11 tuoi, lop 6 a")
    assert child.minor and 11 in child.ages and 6 in child.grades and not child.adult
    adult = age_cues("Anh 23 tuổi, đi làm rồi")
    assert adult.adult and not adult.minor
    assert age_cues("em học 7A4 trường bên cầu").grades == (7,)
    assert not age_cues("tối nay 9h anh gọi").minor
