import json

import numpy as np
import pytest

from classifier.errors import DataError
from classifier.loaders import (
    MULTICLASS,
    MULTILABEL,
    combine,
    load_csv,
    load_dataset,
    load_jsonl,
    load_safesense,
    load_vihos,
    load_vihsd,
    to_multilabel,
)


def write(path, text, encoding="utf-8"):
    path.write_text(text, encoding=encoding)
    return path


def test_vihsd_three_classes(tmp_path):
    path = write(tmp_path / "v.csv", "free_text,label_id\r\nchào bạn,0\r\nngu vl,1\r\nbọn bắc kỳ,2\r\n")
    data = load_vihsd(path)
    assert data.task == MULTICLASS
    assert data.targets == ["clean", "offensive", "hate"]
    assert data.labels == ["clean", "offensive", "hate"]
    assert len(data.sha256) == 64


def test_vihsd_bad_label_names_line_and_column(tmp_path):
    path = write(tmp_path / "v.csv", "free_text,label_id\nchào,0\nxin chào,7\n")
    with pytest.raises(DataError) as info:
        load_vihsd(path)
    assert info.value.line == 3 and info.value.column == 2
    assert str(info.value).startswith(f"{path}:3:2:")


def test_missing_column_lists_found_columns(tmp_path):
    path = write(tmp_path / "v.csv", "text,label\nchào,0\n")
    with pytest.raises(DataError, match="missing column 'free_text'; columns found: text, label"):
        load_vihsd(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_safesense(tmp_path / "nope.csv")


def test_vihos_spans_give_offensive_and_are_kept(tmp_path):
    path = write(tmp_path / "h.csv", 'content,index_spans\nthằng ngu,"[6, 7, 8]"\nchào bạn,[]\n')
    data = load_vihos(path)
    assert data.task == MULTILABEL
    assert data.targets == [["offensive"], []]
    assert data.spans == [[6, 7, 8], []]
    y, mask = data.indicator(["offensive", "hate"])
    assert y.tolist() == [[1, 0], [0, 0]]
    assert mask.tolist() == [[True, False], [True, False]]


def test_vihos_malformed_spans(tmp_path):
    path = write(tmp_path / "h.csv", 'content,index_spans\nabc,"[1, x]"\n')
    with pytest.raises(DataError, match="index_spans"):
        load_vihos(path)


def test_safesense_to_multilabel_hate_is_offensive_too(tmp_path):
    path = write(tmp_path / "s.csv", "text,label\nổn,0\nngu,1\nbọn nó,2\n")
    data = to_multilabel(load_safesense(path))
    assert data.targets == [[], ["offensive"], ["offensive", "hate"]]


def test_generic_csv_multiclass_and_multilabel(tmp_path):
    multi = write(tmp_path / "m.csv", "msg,tags\nchào,\nđe doạ,threat;harassment\n")
    data = load_csv(multi, "msg", "tags")
    assert data.task == MULTILABEL
    assert data.targets == [[], ["threat", "harassment"]]
    single = write(tmp_path / "s.csv", "text,label\nchào,clean\nngu,toxic\n")
    assert load_csv(single).task == MULTICLASS


def test_jsonl_lists_and_errors(tmp_path):
    good = tmp_path / "g.jsonl"
    good.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"text": "chào", "labels": []}, {"text": "gửi ảnh đi", "labels": ["sexual", "grooming"]}]) + "\n")
    data = load_dataset(good, "jsonl")
    assert data.targets == [[], ["sexual", "grooming"]]
    bad = write(tmp_path / "b.jsonl", '{"text": "a", "labels": []}\n{"text": "b", labels: []}\n')
    with pytest.raises(DataError) as info:
        load_jsonl(bad, label_col="labels")
    assert info.value.line == 2 and info.value.column is not None


def test_utf8_bom_and_utf16(tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes("text,label\nchào,a\n".encode("utf-8-sig"))
    assert load_csv(bom).texts == ["chào"]
    utf16 = tmp_path / "u16.csv"
    utf16.write_bytes("text,label\nchào,a\n".encode("utf-16"))
    assert load_csv(utf16).texts == ["chào"]


def test_invalid_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"text,label\n\xff\xfe\xfa,a\n")
    with pytest.raises(DataError, match="not valid UTF-8"):
        load_csv(path)


def test_combine_keeps_what_each_source_annotates(tmp_path):
    a = load_vihos(write(tmp_path / "h.csv", 'content,index_spans\nngu,"[0,1,2]"\n'))
    b = to_multilabel(load_safesense(write(tmp_path / "s.csv", "text,label\nbọn nó,2\n")))
    both = combine([a, b])
    y, mask = both.indicator(["offensive", "hate"])
    assert y.tolist() == [[1, 0], [1, 1]]
    assert mask.tolist() == [[True, False], [True, True]]
    assert isinstance(y, np.ndarray)
    # Public datasets are social-media comments; the authored corpus is chat (expert heads use this).
    from classifier.corpus import SeedRow, seed_dataset

    chat = seed_dataset([SeedRow(id="x-1", text="ê mày", labels=[], hard_negative=False, tags=[], file="f", line=1)])
    assert combine([both, chat]).domains == ["comments", "comments", "chat"]


@pytest.mark.shared
def test_public_datasets_parse(shared):
    assert len(load_vihsd(shared / "vihsd" / "train.csv")) == 24048
    assert len(load_vihsd(shared / "vihsd" / "dev.csv")) == 2672
    vihos = load_vihos(shared / "vihos" / "train.csv")
    assert len(vihos) == 7775
    assert all(max(s) < len(t) for t, s in zip(vihos.texts, vihos.spans, strict=True) if s)
    assert len(load_safesense(shared / "safesense" / "train.csv")) == 10095
