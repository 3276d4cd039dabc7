"""Batch scoring (classifier.scoring and ``vnguard score``): formats, encodings, bad rows, order, resume."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from cli_helpers import assert_clean_error, invoke
from typer.testing import CliRunner

from classifier import scoring
from classifier.cli import app
from classifier.errors import DataError, MissingDependencyError
from classifier.scoring import (
    ChunkScorer,
    OnError,
    ScoreOptions,
    ScoringInterrupted,
    checkpoint_path,
    partial_path,
    score_file,
    sniff_delimiter,
)

TEXTS = ["mày ngu vl biết gì mà nói", "chúc mừng sinh nhật bạn nhé", "em ơi đừng kể với bố mẹ, gửi anh ảnh riêng tư đi",
         "tao biết nhà mày rồi, mai tao đánh chết mày", "Video hay quá ad ơi 😍 mong có phần 2",
         "inbox mình số 0912 345 678 để nhận quà", "hôm nay trời đẹp, đi đá bóng không", "đm thằng óc chó",
         "mai tan học anh đón em nhé, đừng cho mẹ biết", "cảm ơn cô giáo đã giúp đỡ ạ"]
SECRET = "bí mật riêng tư của người dùng"  # must never appear in an errors file

runner = CliRunner()


def rows(n: int) -> list[tuple[str, str]]:
    return [(f"id{i}", f"{TEXTS[i % len(TEXTS)]} {i}") for i in range(n)]


def write_csv(path: Path, data, header=("id", "text"), delimiter=",", encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(data)
    return path


def write_jsonl(path: Path, objects) -> Path:
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects), encoding="utf-8")
    return path


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_errors(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


cli = invoke


# --- formats -------------------------------------------------------------------------------------------------


def test_csv_scores_every_row_in_order_and_matches_the_model(tmp_path, default_model):
    source = write_csv(tmp_path / "in.csv", rows(25))
    out = tmp_path / "out.csv"
    summary = score_file(default_model, source, out, ScoreOptions(chunk_size=7))
    scored = read_csv(out)
    assert [r["id"] for r in scored] == [f"id{i}" for i in range(25)]
    assert list(scored[0])[:2] == ["id", "text"] and scored[0]["text"] == rows(1)[0][1]
    proba = default_model.predict_proba([text for _, text in rows(25)])
    decisions = default_model.predict([text for _, text in rows(25)])
    for row, expected, flagged in zip(scored, proba, decisions, strict=True):
        for label, value in zip(default_model.labels, expected, strict=True):
            assert abs(float(row[f"p_{label}"]) - value) <= 0.00005
        assert row["flagged"] == ";".join(flagged)
    assert summary.rows_read == summary.rows_scored == summary.rows_written == 25 and summary.errors == 0
    assert summary.flagged["offensive"] == sum("offensive" in d for d in decisions) > 0
    assert not partial_path(out).exists() and not checkpoint_path(out).exists()


def test_repeated_texts_get_their_own_rows(tmp_path, default_model):
    data = [(f"id{i}", TEXTS[i % 3]) for i in range(9)]
    out = tmp_path / "out.csv"
    score_file(default_model, write_csv(tmp_path / "in.csv", data), out)
    scored = read_csv(out)
    expected = default_model.predict_proba([text for _, text in data])
    assert [r["id"] for r in scored] == [i for i, _ in data]
    for row, probabilities in zip(scored, expected, strict=True):
        assert [float(row[f"p_{label}"]) for label in default_model.labels] == pytest.approx(probabilities, abs=5e-5)


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_delimiter_is_sniffed(tmp_path, default_model, delimiter):
    data = [(i, f"{text}, có dấu phẩy; và chấm phẩy | và gạch") for i, text in rows(6)]
    source = write_csv(tmp_path / "in.txt", data, delimiter=delimiter)
    out = tmp_path / "out.csv"
    score_file(default_model, source, out)
    assert [r["text"] for r in read_csv(out)] == [text for _, text in data]


def test_sniffing_prefers_the_delimiter_whose_header_has_the_text_column():
    lines = ["text;source\n", "xin chào, bạn;fb\n", "ok, ok, ok;yt\n"]
    assert sniff_delimiter(lines, "text") == ";"
    assert sniff_delimiter(["text\n", "một cột\n"], "text") == ","


def test_sep_option_and_tsv_output(tmp_path, default_model):
    source = write_csv(tmp_path / "in.csv", rows(4), delimiter=";")
    out = tmp_path / "out.tsv"
    score_file(default_model, source, out, ScoreOptions(sep="semicolon"))
    with open(out, encoding="utf-8", newline="") as handle:
        scored = list(csv.DictReader(handle, delimiter="\t"))
    assert [r["id"] for r in scored] == ["id0", "id1", "id2", "id3"] and "p_scam" in scored[0]
    with pytest.raises(DataError, match="one character"):
        score_file(default_model, source, tmp_path / "o.csv", ScoreOptions(sep=";;"))


def test_jsonl_in_and_out_keeps_fields_and_types(tmp_path, default_model):
    objects = [{"text": text, "id": i, "meta": {"src": "fb"}} for i, (_, text) in enumerate(rows(5))]
    source = write_jsonl(tmp_path / "in.jsonl", objects)
    out = tmp_path / "out.jsonl"
    score_file(default_model, source, out)
    scored = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in scored] == list(range(5)) and scored[0]["meta"] == {"src": "fb"}
    assert isinstance(scored[0]["p_offensive"], float) and isinstance(scored[0]["flagged"], list)
    assert "offensive" in scored[0]["flagged"] and scored[0]["risk"] in ("low", "medium", "high")


def test_jsonl_to_csv_and_csv_to_jsonl(tmp_path, default_model):
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": i, "text": t, "tags": ["a"]} for i, t in rows(3)])
    out = tmp_path / "out.csv"
    score_file(default_model, source, out)
    scored = read_csv(out)
    assert [r["id"] for r in scored] == ["id0", "id1", "id2"] and scored[0]["tags"] == '["a"]'
    back = tmp_path / "back.jsonl"
    score_file(default_model, out, back)
    lines = [json.loads(line) for line in back.read_text(encoding="utf-8").splitlines()]
    # Re-scoring a scored file replaces the score columns instead of duplicating them.
    assert [r["id"] for r in lines] == ["id0", "id1", "id2"] and list(lines[0]).count("p_offensive") == 1
    assert lines[0]["p_offensive"] == float(scored[0]["p_offensive"])


def test_empty_inputs(tmp_path, default_model):
    header_only = write_csv(tmp_path / "header.csv", [])
    summary = score_file(default_model, header_only, tmp_path / "out.csv")
    assert summary.rows_read == 0 and read_csv(tmp_path / "out.csv") == []
    assert (tmp_path / "out.csv").read_text().startswith("id,text,p_offensive")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty file"):
        score_file(default_model, empty, tmp_path / "o.csv")
    empty_jsonl = tmp_path / "empty.jsonl"
    empty_jsonl.write_bytes(b"")
    assert score_file(default_model, empty_jsonl, tmp_path / "o.jsonl").rows_read == 0
    assert (tmp_path / "o.jsonl").read_bytes() == b""


def test_json_array_gets_a_clear_error(tmp_path, default_model):
    source = tmp_path / "in.json"
    source.write_text(json.dumps([{"text": "chào"}]), encoding="utf-8")
    with pytest.raises(DataError, match="JSON array"):
        score_file(default_model, source, tmp_path / "out.csv")


def test_parquet_input(tmp_path, default_model):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    data = rows(9)
    table = pa.table({"id": [i for i, _ in data], "text": [t for _, t in data[:8]] + [None], "n": list(range(9))})
    source = tmp_path / "in.parquet"
    pq.write_table(table, source)
    out, errors = tmp_path / "out.csv", tmp_path / "errors.jsonl"
    summary = score_file(default_model, source, out, ScoreOptions(chunk_size=4, errors_path=errors))
    scored = read_csv(out)
    assert [r["id"] for r in scored] == [i for i, _ in data[:8]] and scored[3]["n"] == "3"
    assert summary.errors == 1 and read_errors(errors) == [
        {"line": None, "row": 9, "column": None, "error": "missing text (null or NaN)"}]
    with pytest.raises(DataError, match="Parquet output"):
        score_file(default_model, source, tmp_path / "out.parquet")


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path, default_model, monkeypatch):
    source = tmp_path / "in.parquet"
    source.write_bytes(b"PAR1" + b"\0" * 16 + b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(MissingDependencyError, match=r"vnguard\[parquet\]"):
        score_file(default_model, source, tmp_path / "out.csv")


def test_gzip_input(tmp_path, default_model):
    plain = write_csv(tmp_path / "in.csv", rows(3))
    packed = tmp_path / "in.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    score_file(default_model, plain, tmp_path / "a.csv")
    score_file(default_model, packed, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


# --- encodings -------------------------------------------------------------------------------------------------


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Vietnamese in Windows-1258: precomposed where the code page has the letter, else base + tone mark."""
    out = b""
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            tone = "".join(c for c in decomposed if c in TONE_MARKS)
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
            out += (base + tone).encode("cp1258")
    return out


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be-bom", "cp1258"])
def test_encodings_give_the_same_scores_as_utf8(tmp_path, default_model, encoding):
    data = [row for row in rows(12) if "😍" not in row[1]]  # Windows-1258 has no emoji
    reference = write_csv(tmp_path / "ref.csv", data)
    text = reference.read_text(encoding="utf-8")
    source = tmp_path / "in.csv"
    options = ScoreOptions()
    if encoding == "cp1258":
        source.write_bytes(to_cp1258(text))
        options.encoding = "cp1258"
    elif encoding == "utf-16-be-bom":
        source.write_bytes(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
    else:
        source.write_bytes(text.encode(encoding))
    score_file(default_model, reference, tmp_path / "ref.out.csv")
    score_file(default_model, source, tmp_path / "out.csv", options)
    expected, scored = read_csv(tmp_path / "ref.out.csv"), read_csv(tmp_path / "out.csv")
    assert [r["id"] for r in scored] == [r["id"] for r in expected]
    for got, want in zip(scored, expected, strict=True):
        assert unicodedata.normalize("NFC", got["text"]) == want["text"]
        assert [got[f"p_{label}"] for label in default_model.labels] == \
               [want[f"p_{label}"] for label in default_model.labels]


def test_wrong_encoding_is_reported_not_crashed(tmp_path, default_model):
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,text\n" + b"1," + to_cp1258("mày ngu quá") + b"\n2,hello ban\n")
    errors = tmp_path / "errors.jsonl"
    summary = score_file(default_model, source, tmp_path / "out.csv", ScoreOptions(errors_path=errors))
    assert summary.rows_scored == 1 and summary.error_kinds == {"undecodable": 1}
    assert read_errors(errors) == [{"line": 2, "row": 1, "column": 2, "error": scoring._UNDECODABLE_PROBLEM}]
    header = tmp_path / "header.csv"
    header.write_bytes(to_cp1258("mã,nội dung\n1,chào\n"))
    with pytest.raises(DataError, match="--encoding"):
        score_file(default_model, header, tmp_path / "o.csv", ScoreOptions(text_col="nội dung"))
    with pytest.raises(DataError, match="unknown encoding"):
        score_file(default_model, source, tmp_path / "o.csv", ScoreOptions(encoding="klingon"))


# --- bad rows ------------------------------------------------------------------------------------------------


def bad_csv(path: Path) -> Path:
    long_text = "a" * 1_000_001
    lines = [
        "id,text,note",                       # line 1
        f"1,{TEXTS[0]},x",                    # 2 ok
        '2,"unclosed quote,x',                # 3 broken quoting: swallows until the next quote
        f"3,{TEXTS[1]},x",                    # 4 (swallowed, re-read after the error)
        f'4,"{SECRET}, quoted"tail,x',        # 5 broken: text after the closing quote
        "5,chỉ có hai cột",                   # 6 too few fields
        "6,,x",                               # 7 empty text
        "7,NaN,x",                            # 8 NaN text
        f"8,{long_text},x",                   # 9 a 1 MB text
        f'9,"multi\nline {TEXTS[3]}",x',      # 10-11 ok, spans two lines
        "10,   ,x",                           # 12 blank text
        "",                                   # 13 blank line: ignored
        f"11,{TEXTS[4]},x",                   # 14 ok
    ]
    data = "\n".join(lines).encode("utf-8") + b"\n12,\xff\xfe " + SECRET.encode() + b",x\n13,ok ban,x\n"  # 15, 16
    path.write_bytes(data)
    return path


def test_bad_csv_rows_are_skipped_with_line_numbers_and_no_text(tmp_path, default_model):
    source, out, errors = bad_csv(tmp_path / "bad.csv"), tmp_path / "out.csv", tmp_path / "errors.jsonl"
    summary = score_file(default_model, source, out, ScoreOptions(errors_path=errors, id_col="id"))
    assert [r["id"] for r in read_csv(out)] == ["1", "3", "9", "11", "13"]
    found = read_errors(errors)
    assert [(e["line"], e.get("id")) for e in found] == [
        (3, None), (5, None), (6, "5"), (7, "6"), (8, "7"), (9, "8"), (12, "10"), (15, "12")]
    assert [e["column"] for e in found[3:]] == [2, 2, 2, 2, 2]
    assert "malformed CSV" in found[0]["error"] and found[2]["error"] == "expected 3 fields, found 2"
    assert found[3]["error"] == "empty text" and "NaN" in found[4]["error"] and "longer than" in found[5]["error"]
    assert "undecodable" in found[7]["error"]
    assert summary.errors == 8 and summary.rows_scored == 5 and summary.rows_read == 13
    assert summary.error_kinds == {"malformed": 3, "empty text": 2, "missing text": 1, "text too long": 1,
                                   "undecodable": 1}
    assert SECRET not in errors.read_text(encoding="utf-8") and "aaaa" not in errors.read_text(encoding="utf-8")


def test_bad_jsonl_rows(tmp_path, default_model):
    source = tmp_path / "bad.jsonl"
    source.write_bytes("\n".join([
        json.dumps({"id": 1, "text": TEXTS[0]}),     # 1 ok
        '{"id": 2, "text": "' + SECRET + '"',        # 2 invalid JSON
        "[1, 2]",                                    # 3 not an object
        json.dumps({"id": 4, "body": SECRET}),       # 4 no text field
        json.dumps({"id": 5, "text": None}),         # 5 null
        '{"id": 6, "text": NaN}',                    # 6 NaN
        json.dumps({"id": 7, "text": 42}),           # 7 not a string
        "",                                          # 8 blank: ignored
        json.dumps({"id": 9, "text": TEXTS[1]}),     # 9 ok
    ]).encode("utf-8") + b'\n{"id": 10, "text": "\xff"}\n')  # 10 undecodable
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    summary = score_file(default_model, source, out, ScoreOptions(errors_path=errors, id_col="id"))
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == [1, 9]
    found = read_errors(errors)
    assert [e["line"] for e in found] == [2, 3, 4, 5, 6, 7, 10]
    assert found[0]["error"].startswith("invalid JSON") and found[0]["column"] > 1
    assert [e.get("id") for e in found] == [None, None, "4", "5", "6", "7", None]
    assert summary.errors == 7 and SECRET not in errors.read_text(encoding="utf-8")


def test_on_error_fail_stops_keeps_work_and_resumes_after_the_fix(tmp_path, default_model):
    data = rows(30)
    broken = [*data[:17], ("bad", ""), *data[17:]]
    source = write_csv(tmp_path / "in.csv", broken)
    out = tmp_path / "out.csv"
    options = ScoreOptions(chunk_size=5, on_error=OnError.fail)
    with pytest.raises(DataError) as caught:
        score_file(default_model, source, out, options)
    error = caught.value
    assert (error.path, error.line, error.column) == (str(source), 19, 2)
    assert "empty text" in str(error) and "--resume" in str(error)
    kept = read_csv(partial_path(out))
    assert [r["id"] for r in kept] == [i for i, _ in data[:17]] and checkpoint_path(out).exists()
    assert not out.exists()
    write_csv(source, [*data[:17], ("bad", "đã sửa"), *data[17:]])
    score_file(default_model, source, out, ScoreOptions(chunk_size=5, on_error=OnError.fail, resume=True))
    score_file(default_model, source, tmp_path / "clean.csv", ScoreOptions(chunk_size=5))
    assert out.read_bytes() == (tmp_path / "clean.csv").read_bytes()


def test_fail_on_malformed_json_names_line_and_column(tmp_path, default_model):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "chào"}\n{"text": "chào",}\n', encoding="utf-8")
    with pytest.raises(DataError) as caught:
        score_file(default_model, source, tmp_path / "o.jsonl", ScoreOptions(on_error=OnError.fail))
    assert (caught.value.line, caught.value.column) == (2, 17) and "invalid JSON" in str(caught.value)


# --- parallel order, resume ------------------------------------------------------------------------------------------


_ORIGINAL_WORKER = scoring._score_in_worker


def slow_first_chunks(rows_, texts):
    """Worker stand-in: early chunks finish last, and every call records the worker's pid."""
    first = int(rows_[0][0].removeprefix("id"))
    time.sleep(0.3 if first < 10 else 0.0)
    with open(os.environ["VNGUARD_TEST_PIDS"], "a") as handle:
        handle.write(f"{os.getpid()}\n")
    return _ORIGINAL_WORKER(rows_, texts)


def test_two_jobs_keep_input_order_and_match_one_job(tmp_path, default_model, monkeypatch):
    source = write_csv(tmp_path / "in.csv", rows(40))
    pids = tmp_path / "pids.txt"
    monkeypatch.setenv("VNGUARD_TEST_PIDS", str(pids))
    monkeypatch.setattr(scoring, "_score_in_worker", slow_first_chunks)
    score_file(default_model, source, tmp_path / "one.csv", ScoreOptions(chunk_size=5, jobs=1))
    summary = score_file(default_model, source, tmp_path / "two.csv", ScoreOptions(chunk_size=5, jobs=2))
    assert (tmp_path / "two.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert summary.rows_written == 40
    workers = set(pids.read_text().split())
    assert len(workers) == 2 and str(os.getpid()) not in workers


def die_on_chunk_three(rows_, texts):
    """Worker stand-in that dies like a process killed for memory on the chunk starting at id10."""
    if rows_[0][0] == "id10":
        os._exit(137)
    return _ORIGINAL_WORKER(rows_, texts)


def test_a_dead_worker_is_a_clear_error_not_a_hang(tmp_path, default_model, monkeypatch):
    source = write_csv(tmp_path / "in.csv", rows(30))
    out = tmp_path / "out.csv"
    monkeypatch.setattr(scoring, "_score_in_worker", die_on_chunk_three)
    with pytest.raises(scoring.VnguardError, match=r"worker process died.*--resume"):
        score_file(default_model, source, out, ScoreOptions(chunk_size=5, jobs=2))
    monkeypatch.undo()
    summary = score_file(default_model, source, out, ScoreOptions(chunk_size=5, jobs=2, resume=True))
    assert summary.resumed_from == 10
    assert [r["id"] for r in read_csv(out)] == [f"id{i}" for i in range(30)]


class InterruptAfter:
    """Makes ChunkScorer raise KeyboardInterrupt at its ``n``-th call (a user pressing Ctrl-C)."""

    def __init__(self, n: int, error=KeyboardInterrupt) -> None:
        self.n, self.calls, self.error = n, 0, error
        self.original = ChunkScorer.__call__

    def __call__(self, scorer, rows_, texts):
        self.calls += 1
        if self.calls == self.n:
            raise self.error()
        return self.original(scorer, rows_, texts)


def interrupt_after(monkeypatch, n: int) -> None:
    """Patch ChunkScorer so that its ``n``-th call is interrupted (undo with ``monkeypatch.undo()``)."""
    interrupt = InterruptAfter(n)
    monkeypatch.setattr(ChunkScorer, "__call__", lambda self, r, t: interrupt(self, r, t))


def test_resume_after_ctrl_c_is_byte_identical(tmp_path, default_model, monkeypatch):
    data = rows(40)
    data[6] = ("id6", "")  # an error before the interruption
    data[33] = ("id33", " ")  # and one after
    source = write_csv(tmp_path / "in.csv", data)
    out, errors = tmp_path / "out.csv", tmp_path / "errors.jsonl"
    options = ScoreOptions(chunk_size=6, errors_path=errors, min_risk="low")
    interrupt_after(monkeypatch, 4)
    with pytest.raises(ScoringInterrupted) as caught:
        score_file(default_model, source, out, options)
    assert caught.value.summary.rows_read == 18 and caught.value.resumable
    assert caught.value.partial == partial_path(out) and not out.exists()
    # A crash after writing but before the checkpoint leaves extra bytes: resume must cut them off.
    with open(partial_path(out), "ab") as handle:
        handle.write(b"half a row,0.1")
    with open(partial_path(errors), "ab") as handle:
        handle.write(b'{"line": 99')
    monkeypatch.undo()
    with pytest.raises(DataError, match="--resume"):
        score_file(default_model, source, out, options)
    summary = score_file(default_model, source, out, ScoreOptions(chunk_size=6, errors_path=errors, min_risk="low",
                                                                  resume=True))
    assert summary.resumed_from == 18 and summary.rows_read == 40 and summary.errors == 2
    reference, reference_errors = tmp_path / "ref.csv", tmp_path / "ref-errors.jsonl"
    expected = score_file(default_model, source, reference, ScoreOptions(chunk_size=6, errors_path=reference_errors,
                                                                          min_risk="low"))
    assert out.read_bytes() == reference.read_bytes()
    assert errors.read_bytes() == reference_errors.read_bytes()
    assert summary.flagged == expected.flagged and summary.rows_written == expected.rows_written
    assert not checkpoint_path(out).exists() and not partial_path(out).exists()


def test_full_disk_is_a_clear_error_and_resumable(tmp_path, default_model, monkeypatch):
    source = write_csv(tmp_path / "in.csv", rows(12))
    out = tmp_path / "out.csv"
    original, calls = scoring._Sink.write, []

    def write(sink, data):
        calls.append(len(data))
        if len(calls) == 3:  # header, chunk 1, then the disk is full
            raise OSError(28, "No space left on device", str(partial_path(out)))
        original(sink, data)

    monkeypatch.setattr(scoring._Sink, "write", write)
    with pytest.raises(DataError, match=r"No space left on device.*--resume"):
        score_file(default_model, source, out, ScoreOptions(chunk_size=4))
    monkeypatch.undo()
    assert score_file(default_model, source, out, ScoreOptions(chunk_size=4, resume=True)).resumed_from == 4
    assert [r["id"] for r in read_csv(out)] == [f"id{i}" for i in range(12)]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_resume_jsonl_and_parquet(tmp_path, default_model, monkeypatch, suffix):
    data = [{"id": i, "text": text if i != 5 else None} for i, (_, text) in enumerate(rows(23))]
    source = tmp_path / f"in{suffix}"
    if suffix == ".parquet":
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(data), source)
    else:
        write_jsonl(source, data)
    out = tmp_path / "out.jsonl"
    interrupt_after(monkeypatch, 3)
    with pytest.raises(ScoringInterrupted):
        score_file(default_model, source, out, ScoreOptions(chunk_size=4))
    monkeypatch.undo()
    assert score_file(default_model, source, out, ScoreOptions(chunk_size=4, resume=True)).resumed_from == 8
    score_file(default_model, source, tmp_path / "ref.jsonl", ScoreOptions(chunk_size=4))
    assert out.read_bytes() == (tmp_path / "ref.jsonl").read_bytes()
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [i for i in range(23) if i != 5]


def test_resume_refuses_other_options_or_changed_input(tmp_path, default_model, monkeypatch):
    source = write_csv(tmp_path / "in.csv", rows(20))
    out = tmp_path / "out.csv"
    interrupt_after(monkeypatch, 3)
    with pytest.raises(ScoringInterrupted):
        score_file(default_model, source, out, ScoreOptions(chunk_size=4))
    monkeypatch.undo()
    with pytest.raises(DataError, match="thresholds"):
        score_file(default_model, source, out, ScoreOptions(chunk_size=4, resume=True, thresholds={"scam": 0.2}))
    changed = rows(20)
    changed[1] = ("id1", "đã đổi nội dung")
    write_csv(source, changed)
    with pytest.raises(DataError, match="differs"):
        score_file(default_model, source, out, ScoreOptions(chunk_size=4, resume=True))
    # Rows after the checkpoint may change (that is how a bad row gets fixed).
    changed = rows(20)
    changed[15] = ("id15", "đã đổi nội dung")
    write_csv(source, changed)
    score_file(default_model, source, out, ScoreOptions(chunk_size=2, resume=True))
    assert [r["id"] for r in read_csv(out)] == [f"id{i}" for i in range(20)]


def test_resume_with_two_jobs_after_interruption(tmp_path, default_model, monkeypatch):
    source = write_csv(tmp_path / "in.csv", rows(30))
    out = tmp_path / "out.csv"

    def write_then_interrupt(summary, position, total):
        if summary.rows_read >= 12:
            raise KeyboardInterrupt

    with pytest.raises(ScoringInterrupted):
        score_file(default_model, source, out, ScoreOptions(chunk_size=4, jobs=2), progress=write_then_interrupt)
    summary = score_file(default_model, source, out, ScoreOptions(chunk_size=4, jobs=2, resume=True))
    assert summary.resumed_from == 12
    score_file(default_model, source, tmp_path / "ref.csv", ScoreOptions(chunk_size=4))
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()


# --- options ---------------------------------------------------------------------------------------------------------


def test_thresholds_only_flagged_and_min_risk(tmp_path, default_model):
    source = write_csv(tmp_path / "in.csv", rows(20))
    everything = tmp_path / "all.csv"
    score_file(default_model, source, everything, ScoreOptions(thresholds={"grooming": 0.0}))
    assert all("grooming" in r["flagged"].split(";") and r["risk"] == "high" for r in read_csv(everything))
    flagged = tmp_path / "flagged.csv"
    summary = score_file(default_model, source, flagged, ScoreOptions(only_flagged=True))
    baseline = read_csv(tmp_path / "all.csv")
    kept = read_csv(flagged)
    assert kept and all(r["flagged"] for r in kept) and summary.rows_written == len(kept) < 20
    assert summary.rows_scored == 20 and len(baseline) == 20
    high = tmp_path / "high.csv"
    score_file(default_model, source, high, ScoreOptions(min_risk="high"))
    assert read_csv(high) and all(r["risk"] == "high" for r in read_csv(high))
    with pytest.raises(DataError, match="unknown label"):
        score_file(default_model, source, high, ScoreOptions(thresholds={"spam": 0.5}))


def test_multiclass_model_writes_prediction(tmp_path, tiny_csv):
    from classifier.loaders import load_csv
    from classifier.training import train_model

    model = train_model(load_csv(tiny_csv), output=tmp_path / "m")
    source = write_csv(tmp_path / "in.csv", rows(6))
    out = tmp_path / "out.csv"
    summary = score_file(model, source, out)
    scored = read_csv(out)
    assert {"p_clean", "p_offensive", "prediction", "risk"} <= set(scored[0])
    assert [r["prediction"] for r in scored] == model.predict([t for _, t in rows(6)])
    assert summary.flagged.get("offensive", 0) == sum(r["prediction"] == "offensive" for r in scored)
    with pytest.raises(DataError, match="multi-label"):
        score_file(model, source, out, ScoreOptions(thresholds={"offensive": 0.3}))


def test_progress_reports_bytes_of_the_file(tmp_path, default_model):
    source = write_csv(tmp_path / "in.csv", rows(12))
    calls = []
    score_file(default_model, source, tmp_path / "o.csv", ScoreOptions(chunk_size=5),
               progress=lambda summary, position, total: calls.append((summary.rows_read, position, total)))
    assert [c[0] for c in calls] == [5, 10, 12]
    assert all(c[2] == source.stat().st_size for c in calls) and calls[-1][1] == source.stat().st_size


def test_output_paths_are_checked(tmp_path, default_model):
    source = write_csv(tmp_path / "in.csv", rows(2))
    with pytest.raises(DataError, match="overwrite the input"):
        score_file(default_model, source, source)
    with pytest.raises(DataError, match="does not exist"):
        score_file(default_model, source, tmp_path / "missing" / "out.csv")
    with pytest.raises(DataError, match="columns found: 'id', 'text'"):
        score_file(default_model, source, tmp_path / "o.csv", ScoreOptions(text_col="message"))
    with pytest.raises(DataError, match="did you mean --text-col 'text'"):
        score_file(default_model, source, tmp_path / "o.csv", ScoreOptions(text_col="Text"))
    with pytest.raises(DataError, match="never holds message text"):
        score_file(default_model, source, tmp_path / "o.csv", ScoreOptions(id_col="text"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


# --- command line ---------------------------------------------------------------------------------------------------


def test_cli_scores_with_options_and_summary(tmp_path):
    source = write_csv(tmp_path / "in.csv", rows(10), header=("post_id", "body"))
    out, errors = tmp_path / "out.csv", tmp_path / "errors.jsonl"
    result = cli("score", source, "-o", out, "--text-col", "body", "--id-col", "post_id", "-t", "scam=0.01",
                 "--only-flagged", "--min-risk", "medium", "--errors", errors, "-j", 1)
    assert result.exit_code == 0, result.output
    scored = read_csv(out)
    assert scored and all(r["risk"] in ("medium", "high") for r in scored)
    assert "Lừa đảo" in result.output and "rows read 10" in result.output and "rows/s" in result.output
    assert errors.read_text() == ""
    quiet = cli("score", source, "-o", out, "--text-col", "body", "-q", "-j", 1)
    assert quiet.exit_code == 0 and quiet.output == ""


def test_cli_errors_are_one_clean_line(tmp_path):
    source = write_csv(tmp_path / "in.csv", rows(2))
    assert_clean_error(cli("score", source, "-o", tmp_path / "o.csv", "--text-col", "body"), "columns found", "text")
    assert_clean_error(cli("score", source, "-o", tmp_path / "nope" / "o.csv"), "does not exist")
    assert_clean_error(cli("score", source, "-o", source), "refusing to overwrite")
    assert_clean_error(cli("score", source, "-o", tmp_path / "o.csv", "-t", "grooming"), "LABEL=NUMBER")
    assert_clean_error(cli("score", source, "-o", tmp_path / "o.parquet"), "Parquet output")
    bad = bad_csv(tmp_path / "bad.csv")
    result = cli("score", bad, "-o", tmp_path / "o.csv", "--on-error", "fail")
    assert_clean_error(result, "bad.csv:3", "malformed CSV", "--resume")
    skipped = cli("score", bad, "-o", tmp_path / "o2.csv")
    assert skipped.exit_code == 0 and "8 bad row(s) skipped" in skipped.output and "--errors" in skipped.output


def test_cli_stdin_to_stdout(tmp_path):
    data = "".join(json.dumps({"text": t, "n": i}, ensure_ascii=False) + "\n" for i, (_, t) in enumerate(rows(4)))
    result = runner.invoke(app, ["score", "-", "-o", "-", "-q"], input=data.encode("utf-8"))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["n"] for r in lines] == [0, 1, 2, 3] and "p_grooming" in lines[0]
    csv_in = io.StringIO()
    csv.writer(csv_in).writerows([("id", "text"), *rows(3)])
    result = runner.invoke(app, ["score", "-", "-o", "-"], input=csv_in.getvalue().encode("utf-16"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("id,text,p_offensive")
    assert "rows read 3" in result.stderr
    assert_clean_error(runner.invoke(app, ["score", "-", "-o", str(tmp_path / "o.csv"), "--resume"], input=""),
                       "stdin")


def test_cli_ctrl_c_says_how_to_resume(tmp_path, monkeypatch):
    source = write_csv(tmp_path / "in.csv", rows(12))
    out = tmp_path / "out.csv"
    interrupt_after(monkeypatch, 2)
    result = cli("score", source, "-o", out, "--chunk-size", 4, "-j", 1)
    assert result.exit_code == 130 and "Traceback" not in result.output
    assert "interrupted after 4 rows" in result.output and "--resume" in result.output
    assert str(partial_path(out)) in result.output.replace("\n", "")
    monkeypatch.undo()
    assert_clean_error(cli("score", source, "-o", out, "--chunk-size", 4, "-j", 1), "--resume")
    resumed = cli("score", source, "-o", out, "--chunk-size", 4, "-j", 1, "--resume")
    assert resumed.exit_code == 0 and "resumed after 4" in resumed.output
    assert [r["id"] for r in read_csv(out)] == [f"id{i}" for i in range(12)]


def test_real_ctrl_c_with_workers_then_resume(tmp_path, default_model):
    import signal

    source = write_csv(tmp_path / "in.csv", rows(12000))  # long enough to be caught mid-way on a fast machine
    out = tmp_path / "out.csv"
    command = [sys.executable, "-c", "from classifier.cli import main; main()", "score", str(source), "-o", str(out),
               "--chunk-size", "100", "-j", "2", "-q"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not checkpoint_path(out).exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr.decode()
    assert b"Traceback" not in stderr and b"--resume" in stderr
    assert partial_path(out).exists() and not out.exists()
    score_file(default_model, source, out, ScoreOptions(resume=True, jobs=2))
    score_file(default_model, source, tmp_path / "ref.csv", ScoreOptions(jobs=2))
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()


def test_stdout_closed_early_does_not_traceback(tmp_path):
    source = write_csv(tmp_path / "in.csv", rows(3000))
    command = [sys.executable, "-c", "from classifier.cli import main; main()", "score", str(source), "-o", "-",
               "--chunk-size", "500", "-j", "2"]
    producer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = producer.stdout.readline()
    producer.stdout.close()  # what `| head -1` does
    _, stderr = producer.communicate(timeout=120)
    assert first.startswith(b"id,text,p_offensive")
    assert b"Traceback" not in stderr and b"Error" not in stderr, stderr.decode()
    assert producer.returncode == 0
