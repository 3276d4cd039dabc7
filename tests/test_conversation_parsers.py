"""Chat readers: realistic exports and transcripts from tests/data/chats, and malformed input."""

import json
from pathlib import Path

import pytest

from classifier.conversation.parsers import (
    Chat,
    ChatFormat,
    as_chat,
    parse_chat_text,
    parse_telegram,
    parse_transcript,
    read_chat,
    repair_mojibake,
)
from classifier.errors import DataError

CHATS = Path(__file__).resolve().parent / "data" / "chats"


def test_messenger_export_is_repaired_reversed_and_skips_photos():
    chat = read_chat(CHATS / "messenger_message_1.json")
    assert chat.format == "messenger"
    assert chat.participants == ["Quân Lê", "Bé Su"]
    assert chat.skipped == 1  # the photo without text
    assert len(chat) == 8
    assert chat.messages[0].sender == "Quân Lê" and chat.messages[0].text.startswith("Chào em, anh thấy")
    assert chat.messages[-1].text == "em không gửi đâu, em nói với mẹ đây"
    times = [m.time for m in chat.messages]
    assert times == sorted(times) and times[0].startswith("2024-06-03T")
    assert all("Ã" not in m.text and "Ä" not in m.text for m in chat.messages)


def test_mojibake_repair_only_where_it_applies():
    original = "Đừng kể với bố mẹ nhé 😍"
    broken = original.encode("utf-8").decode("latin-1")
    assert broken != original and repair_mojibake(broken) == original
    assert repair_mojibake(original) == original  # already fine: characters above U+00FF
    assert repair_mojibake("plain ascii") == "plain ascii"
    assert repair_mojibake("café") == "café"  # genuine latin-1 text is not valid UTF-8 bytes


def test_newer_messenger_export_fields():
    data = {"participants": ["Lan", "Tú"], "threadName": "Lan", "messages": [
        {"senderName": "Tú", "text": "ok hẹn mai", "timestamp": 1717400120000, "type": "text", "isUnsent": False},
        {"senderName": "Lan", "text": "", "timestamp": 1717400060000, "media": [{"uri": "a.jpg"}]},
        {"senderName": "Lan", "text": "mai học nhóm nha", "timestamp": 1717400000000, "isUnsent": False}]}
    chat = parse_chat_text(json.dumps(data, ensure_ascii=False), ChatFormat.auto, "message_1.json")
    assert chat.format == "messenger" and chat.skipped == 1
    assert [m.text for m in chat.messages] == ["mai học nhóm nha", "ok hẹn mai"]


def test_telegram_export_joins_entities_and_skips_service_and_stickers():
    chat = read_chat(CHATS / "telegram_result.json")
    assert chat.format == "telegram" and chat.title == "Rồng Lửa 99"
    assert chat.skipped == 2
    assert [m.sender for m in chat.messages] == ["Rồng Lửa 99", "Tí Nị", "Rồng Lửa 99", "Tí Nị", "Rồng Lửa 99",
                                                 "Tí Nị"]
    assert chat.messages[2].text == "anh tặng em 500 kim cương nè, mà em bao nhiêu tuổi?"
    assert chat.messages[4].text.endswith("nhớ đừng nói với ai")
    assert chat.messages[0].time == "2024-06-01T20:01:10"


def test_telegram_full_export_needs_one_chat():
    one = json.loads((CHATS / "telegram_result.json").read_text(encoding="utf-8"))
    assert len(parse_telegram({"chats": {"list": [one]}})) == 6
    with pytest.raises(DataError, match="holds 2 chats"):
        parse_telegram({"chats": {"list": [one, one]}}, "result.json")


def test_stamped_transcript_with_multiline_messages():
    chat = read_chat(CHATS / "transcript_stamped.txt")
    assert chat.format == "text"
    assert [m.sender for m in chat.messages] == ["Cô Hạnh (GVCN)", "Mẹ Bảo Ngọc", "Cô Hạnh (GVCN)", "Bảo Ngọc"]
    assert chat.messages[0].text.splitlines() == ["Chào cả lớp, tối nay cô nhắc lịch kiểm tra:",
                                                  "- Thứ Hai: Toán 15 phút", "- Thứ Tư: Văn"]
    # Only stamped lines start messages, so "Lưu ý: ..." stays inside the teacher's message.
    assert "Lưu ý: các em không chia sẻ" in chat.messages[2].text
    assert chat.messages[1].time == "19:03" and chat.messages[0].line == 1


def test_plain_transcript_continuation_lines_and_emoji():
    chat = read_chat(CHATS / "transcript_plain.txt")
    assert [m.sender for m in chat.messages] == ["Minh Khôi", "Tuấn Anh", "Minh Khôi", "Tuấn Anh"]
    assert chat.messages[1].text == "ok, mấy giờ\nsân trường nha"
    assert chat.messages[3].text == "👍"


@pytest.mark.parametrize("text, line", [("không có ai nói gì cả\nchỉ là ghi chú\n", 1),
                                        ("\nghi chú đầu tiên\nAn: chào\n", 2)])
def test_transcript_without_message_lines_is_an_error(text, line):
    with pytest.raises(DataError) as caught:
        parse_transcript(text, "note.txt")
    assert caught.value.path == "note.txt" and caught.value.line == line


def test_transcript_wrapped_url_is_not_a_sender():
    chat = parse_transcript("An: xem link này\nhttps://example.xyz/a: hay lắm\nBình: ok\n")
    assert [m.sender for m in chat.messages] == ["An", "Bình"]
    assert "https://example.xyz/a: hay lắm" in chat.messages[0].text


def test_generic_json_object_and_list():
    chat = read_chat(CHATS / "chat.json")
    assert chat.format == "json" and len(chat) == 4 and chat.messages[0].time.endswith("+07:00")
    listed = read_chat(CHATS / "list.json")
    assert [m.sender for m in listed.messages] == ["acc_la_123", "Hạ Vy", "acc_la_123", "Hạ Vy"]


def test_json_syntax_error_names_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"messages": [\n  {"from": "An", "text": "chào"},\n  {"from": "Bình" "text": "hi"}\n]}\n',
                    encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_chat(path)
    error = caught.value
    assert error.path == str(path) and error.line == 3 and error.column == 19
    assert str(error).startswith(f"{path}:3:19: invalid JSON")


@pytest.mark.parametrize("messages, fragment", [
    ([{"from": "An", "text": "chào"}, {"from": "Bình"}], "message 1: lacks 'text'"),
    ([{"text": "chào"}], "message 0: lacks 'from'"),
    ([{"from": "An", "text": 5}], "'text' must be a string"),
    ([{"from": "An", "text": "chào", "time": "hôm qua"}], "not ISO 8601"),
    (["chào"], "expected an object"),
    ({"chat": []}, "'messages' list"),
    ("chào", "expected a list of messages"),
])
def test_malformed_messages(messages, fragment):
    with pytest.raises(DataError, match=fragment):
        as_chat(messages)


def test_csv_with_named_columns_and_guessed_columns(tmp_path):
    chat = read_chat(CHATS / "chat.csv", from_col="nguoi_gui", text_col="noi_dung", time_col="thoi_gian")
    assert chat.format == "csv" and len(chat) == 4 and chat.skipped == 1
    assert chat.messages[0].sender == "chú Hòa" and chat.messages[0].time == "2024-03-09 21:10"
    assert chat.messages[0].line == 2
    guessed = read_chat(CHATS / "chat.csv")
    assert [m.text for m in guessed.messages] == [m.text for m in chat.messages]
    other = tmp_path / "c.csv"
    other.write_text("who,what\nAn,chào\n", encoding="utf-8")
    with pytest.raises(DataError, match="no from column") as caught:
        read_chat(other)
    assert caught.value.line == 1
    with pytest.raises(DataError, match="missing column 'noi_dung'"):
        read_chat(other, from_col="who", text_col="noi_dung")
    bad = tmp_path / "bad.csv"
    bad.write_text("from,text\nAn,chào\n,ai đây\n", encoding="utf-8")
    with pytest.raises(DataError, match="empty sender") as caught:
        read_chat(bad)
    assert (caught.value.line, caught.value.column) == (3, 1)


def test_wrong_format_and_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="sender_name"):
        read_chat(CHATS / "telegram_result.json", ChatFormat.messenger)
    with pytest.raises(DataError, match="file not found"):
        read_chat(tmp_path / "missing.json")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("An: chào bạn".encode("cp1258", errors="replace") + b"\xe9\xff")
    with pytest.raises(DataError, match="not valid UTF-8"):
        read_chat(latin)
    empty = tmp_path / "empty.json"
    empty.write_text('{"messages": []}', encoding="utf-8")
    with pytest.raises(DataError, match="no text messages"):
        read_chat(empty)


def test_auto_detection_of_stdin_text():
    assert parse_chat_text("[08:15] An: chào\n[08:16] Bình: hi\n").format == "text"
    assert parse_chat_text('[{"from": "An", "text": "chào"}]').format == "json"
    assert isinstance(parse_chat_text("An: chào"), Chat)
