"""``vnguard chat`` through Typer's CliRunner."""

import json
from pathlib import Path

from cli_helpers import assert_clean_error, invoke

CHATS = Path(__file__).resolve().parent / "data" / "chats"


def run(*args, input=None):
    return invoke("chat", *args, input=input)


def test_vietnamese_report_on_a_messenger_export():
    result = run(CHATS / "messenger_message_1.json")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Có dấu hiệu dụ dỗ trẻ em" in out and "“Quân Lê”" in out
    assert "mặc đồ ngủ" in out  # quoted evidence, mojibake repaired
    for advice in ("Giữ lại bằng chứng", "Không tự đối chất", "Báo cáo", "111", "không trách"):
        assert advice in out
    assert "1 tin nhắn không có chữ" in out


def test_json_output_is_the_documented_dict():
    result = run(CHATS / "telegram_result.json", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["grooming"]["flagged"] is True and data["grooming"]["participant"] == "Rồng Lửa 99"
    assert isinstance(data["grooming"]["onset"], int) and data["grooming"]["tactics"]
    assert len(data["messages"]) == 6 and "labels" in data


def test_english_report_and_a_calm_negative():
    english = run(CHATS / "list.json", "--lang", "en")
    assert english.exit_code == 0 and "Signs of child grooming" in english.output
    assert "hotline 111" in english.output and "not their fault" in english.output
    calm = run(CHATS / "chat.json")
    assert calm.exit_code == 0 and "Không thấy dấu hiệu dụ dỗ trẻ em" in calm.output
    assert "111" not in calm.output


def test_csv_columns_child_and_format_options():
    result = run(CHATS / "chat.csv", "--from-col", "nguoi_gui", "--text-col", "noi_dung", "--child", "Mít",
                 "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["grooming"]["participant"] == "chú Hòa" and data["grooming"]["child"] == "Mít"
    text = run(CHATS / "transcript_plain.txt", "--format", "text")
    assert text.exit_code == 0 and "2 người" in text.output


def test_stdin_transcript():
    result = run("-", "--json", input="[20:01] Khách lạ: em ở nhà một mình à?\n[20:02] Na: dạ\n"
                                       "[20:03] Khách lạ: bật cam cho anh xem đi, đừng nói với bố mẹ\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["grooming"]["flagged"] is True


def test_clean_errors(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"messages": [\n  {"from": "An" "text": "x"}\n]}', encoding="utf-8")
    assert_clean_error(run(broken), f"{broken}:2:", "invalid JSON")
    assert_clean_error(run(CHATS / "chat.json", "--child", "Tèo"), "not a participant", "Nam")
    assert_clean_error(run(CHATS / "telegram_result.json", "--format", "messenger"), "sender_name")
    assert_clean_error(run(tmp_path / "missing.txt"), "file not found")
    assert_clean_error(run(CHATS / "chat.csv", "--text-col", "nope"), "missing column 'nope'")
