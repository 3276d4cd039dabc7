"""The vnguard command line, through Typer's CliRunner."""

import csv
import json

import pytest
from cli_helpers import assert_clean_error, invoke

from classifier import __version__

run = invoke


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_check_vietnamese_verdict_with_hotline_for_grooming():
    result = run("check", "em ơi đừng kể với bố mẹ nhé, gửi anh ảnh riêng tư đi")
    assert result.exit_code == 0, result.output
    assert "Dụ dỗ trẻ em" in result.output
    assert "111" in result.output


def test_check_clean_text_is_calm():
    result = run("check", "Chúc cả nhà cuối tuần vui vẻ nhé")
    assert result.exit_code == 0
    assert "Không thấy dấu hiệu nguy hiểm" in result.output
    assert "111" not in result.output


def test_check_json_and_english():
    result = run("check", "--json", "mày ngu vl")
    data = json.loads(result.output)
    assert "offensive" in data["flagged"] and data["risk"] in ("low", "medium")
    english = run("check", "--lang", "en", "tao biết nhà mày, mai tao đánh chết mày")
    assert "Threat" in english.output


def test_check_reads_stdin():
    result = run("check", "-", input="mày ngu vl")
    assert result.exit_code == 0 and "Xúc phạm" in result.output


def test_score_csv_adds_columns(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,text\n1,mày ngu vl\n2,chúc mừng sinh nhật\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run("score", source, "--output", out, "--jobs", 1)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert {"p_offensive", "p_grooming", "flagged", "risk"} <= set(rows[0])
    assert "offensive" in rows[0]["flagged"].split(";")
    assert rows[1]["flagged"] == "" and rows[1]["risk"] == "none"


def test_score_jsonl(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "mày ngu vl", "n": 1}\n{"text": "ổn mà", "n": 2}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run("score", source, "-o", out, "-j", 1).exit_code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["n"] for r in rows] == [1, 2] and "p_scam" in rows[0]


def test_score_missing_file_and_column(tmp_path):
    assert_clean_error(run("score", tmp_path / "nope.csv", "-o", tmp_path / "o.csv"), "file not found")
    source = tmp_path / "in.csv"
    source.write_text("id,message\n1,chào\n", encoding="utf-8")
    assert_clean_error(run("score", source, "-o", tmp_path / "o.csv"), "message", "columns found")
    assert not (tmp_path / "o.csv").exists()


def test_models_lists_default():
    result = run("models")
    assert result.exit_code == 0 and "default" in result.output


def test_train_evaluate_load_round_trip(tmp_path, tiny_csv):
    model_dir = tmp_path / "model"
    result = run("train", "--train", tiny_csv, "--dev", tiny_csv, "--format", "csv", "--output", model_dir)
    assert result.exit_code == 0, result.output
    report = tmp_path / "report.json"
    result = run("evaluate", "--model", model_dir, "--data", tiny_csv, "--format", "csv", "--json", report,
                 "--bootstrap", 50)
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.output
    data = json.loads(report.read_text())
    assert data["macro_f1"] > 0.8 and set(data["per_label"]) == {"clean", "offensive"}
    assert "accuracy" in data and len(data["intervals_95"]["macro_f1"]) == 2
    check = run("check", "--model", model_dir, "--json", "mày ngu vl")
    assert json.loads(check.output)["prediction"] == "offensive"


def test_train_bad_format_is_clean_error(tmp_path, tiny_csv):
    result = run("train", "--train", tiny_csv, "--format", "vihsd", "--output", tmp_path / "m")
    assert_clean_error(result, "free_text")


def test_evaluate_bad_model_is_clean_error(tmp_path, tiny_csv):
    assert_clean_error(run("evaluate", "--model", tmp_path, "--data", tiny_csv), "manifest.json")


@pytest.mark.shared
def test_evaluate_default_on_vihos_dev(shared, tmp_path):
    out = tmp_path / "r.json"
    result = run("evaluate", "--data", shared / "vihos" / "dev.csv", "--format", "vihos", "--json", out,
                 "--bootstrap", 0)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["toxic"]["f1"] >= 0.8
