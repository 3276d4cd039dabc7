"""The offensive/hate span tagger: metric, tokens to spans, offsets, persistence, training integration."""

import json
import random
import unicodedata

import numpy as np
import pytest

import classifier
from classifier.errors import ModelError
from classifier.loaders import Dataset, combine, load_vihos
from classifier.normalize import analyze
from classifier.spans import (
    ARTIFACT,
    SpanTagger,
    join_tokens,
    lexicon_labels,
    mean_span_f1,
    span_annotated_rows,
    span_f1,
    span_offsets,
    tagger_for,
    token_targets,
)
from classifier.training import train_model

# --- the metric -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("gold", "predicted", "expected"), [
    ([], [], 1.0),
    ([], [3, 4], 0.0),
    ([3, 4], [], 0.0),
    ([0, 1, 2, 3], [0, 1, 2, 3], 1.0),
    ([0, 1, 2, 3], [2, 3, 4, 5], 0.5),
    ([0, 1], [5, 6], 0.0),
    ([0, 1, 2, 3], [1], 0.4),
    ([1, 1, 2], [2, 2], 2 / 3),
])
def test_span_f1_hand_made_cases(gold, predicted, expected):
    assert span_f1(gold, predicted) == pytest.approx(expected)


def test_mean_span_f1_averages_per_comment():
    gold = [[], [0, 1, 2, 3], [5, 6]]
    predicted = [[], [2, 3, 4, 5], []]
    assert mean_span_f1(gold, predicted) == pytest.approx((1.0 + 0.5 + 0.0) / 3)
    assert mean_span_f1([], []) == 0.0
    with pytest.raises(ValueError, match="2 gold"):
        mean_span_f1([[], []], [[]])


# --- tokens, targets, spans --------------------------------------------------------------------------


def test_token_targets_follow_the_majority_of_characters():
    text = "thằng này ngu vãi"
    tokens = analyze(text).tokens
    gold = [10, 11, 12, 14]  # "ngu" and one character of "vãi"
    assert token_targets(tokens, gold).tolist() == [0, 0, 1, 0]
    assert token_targets(tokens, range(14, 16)).tolist() == [0, 0, 0, 1]


def test_join_tokens_bridges_spaces_but_not_punctuation():
    text = "đồ  óc chó, ngu"
    tokens = analyze(text).tokens
    runs = join_tokens(text, tokens, [True, True, True, True], [0.9, 0.8, 0.7, 0.6])
    assert [(text[s:e], w) for s, e, w in runs] == [("đồ  óc chó", 0.9), ("ngu", 0.6)]
    assert span_offsets(runs) == [*range(0, 10), 12, 13, 14]


def test_join_tokens_merges_teencode_expansions_sharing_one_surface():
    text = "vl thật"
    tokens = analyze(text).tokens
    assert [t.norm for t in tokens][:2] == ["vãi", "lồn"]
    runs = join_tokens(text, tokens, [False, True, False], [0.1, 0.9, 0.1])
    assert [(s, e) for s, e, _ in runs] == [(0, 2)]


def test_lexicon_labels_cover_phrases():
    hits = lexicon_labels(["gui", "anh", "anh", "rieng", "tu"])
    assert "grooming" in hits[3] and "grooming" in hits[4] and not hits[0]


# --- a tagger trained on a small synthetic corpus -------------------------------------------------------

_CLEAN = ["hôm nay trời đẹp quá", "mai đi học nhớ mang áo mưa", "bài hát này nghe hay ghê", "cảm ơn bạn nhiều nhé",
          "cuối tuần cả nhà đi chơi công viên", "món phở này ngon thật", "chiều nay đá bóng không",
          "chúc mừng sinh nhật bạn", "shop giao hàng nhanh lắm", "con nhớ ăn cơm đúng giờ"]
_TOXIC = ["ngu", "óc chó", "đm", "vl", "khốn nạn", "mặt l0n", "n g u", "đ.m", "NGUUU"]


def synthetic(n: int, seed: int) -> tuple[list[str], list[list[int]]]:
    """Clean sentences, half of them with a toxic word inserted; gold offsets of that word."""
    rng = random.Random(seed)
    texts, spans = [], []
    for i in range(n):
        words = rng.choice(_CLEAN).split()
        if i % 2:
            texts.append(" ".join(words))
            spans.append([])
            continue
        toxic = rng.choice(_TOXIC)
        position = rng.randint(0, len(words))
        start = len(" ".join(words[:position])) + (1 if position else 0)
        texts.append(" ".join([*words[:position], toxic, *words[position:]]))
        spans.append(list(range(start, start + len(toxic))))
    return texts, spans


@pytest.fixture(scope="module")
def tagger() -> SpanTagger:
    return SpanTagger().fit(*synthetic(160, seed=1))


def test_tagger_finds_the_inserted_words(tagger):
    texts, gold = synthetic(40, seed=2)
    assert mean_span_f1(gold, tagger.predict_offsets(texts)) >= 0.9
    assert tagger.predict_offsets(["hôm nay trời đẹp quá"]) == [[]]


@pytest.mark.parametrize(("text", "expected"), [
    (unicodedata.normalize("NFD", "mai đi học óc chó quá"), ["óc chó"]),
    (unicodedata.normalize("NFD", "Mặt l0n, khốn nạn"), ["Mặt l0n", "khốn nạn"]),
    ("bài hát này vl", ["vl"]),
    ("thằng n g u này", ["n g u"]),
    ("cảm ơn đ.m nhé", ["đ.m"]),
    ("😡😡 ngu thật", ["ngu"]),
    ("👨‍👩‍👧 cả nhà ngu", ["ngu"]),
    ("ngu ngu ngu", ["ngu ngu ngu"]),
    ("ngu, hôm nay ngu", ["ngu", "ngu"]),
    ("NGUUU quá", ["NGUUU"]),
])
def test_tagger_offsets_point_into_the_original_text(tagger, text, expected):
    runs = tagger.predict_spans([text], gate=False)[0]
    pieces = [text[start:end] for start, end, _ in runs]
    assert [unicodedata.normalize("NFC", p) for p in pieces] == [unicodedata.normalize("NFC", e) for e in expected]
    for start, end, weight in runs:
        assert 0 <= start < end <= len(text) and 0.0 <= weight <= 1.0
    if text.count("ngu") > 1:  # repeated words: every occurrence at its own place
        assert len({start for start, _, _ in runs}) == len(runs)


def test_tagger_handles_empty_batches_and_texts_without_words(tagger):
    assert tagger.predict_spans([]) == [] and tagger.tag([]) == []
    assert tagger.predict_offsets(["", "!!!", "ngu"], gate=False) == [[], [], [0, 1, 2]]


def test_tagger_state_round_trip_without_pickle(tagger, tmp_path):
    params, arrays = tagger.get_state()
    json.dumps(params)
    assert all(isinstance(a, np.ndarray) and a.dtype != object for a in arrays.values())
    texts, _ = synthetic(20, seed=3)
    rebuilt = SpanTagger.from_state(params, arrays)
    assert rebuilt.predict_spans(texts) == tagger.predict_spans(texts)
    tagger.save(tmp_path)
    with np.load(tmp_path / ARTIFACT, allow_pickle=False) as archive:
        assert "config" in archive.files
    loaded = SpanTagger.load(tmp_path)
    for a, b in zip(loaded.tag(texts), tagger.tag(texts), strict=True):
        assert a.tokens == b.tokens and a.comment == pytest.approx(b.comment)
        np.testing.assert_allclose(a.proba, b.proba, rtol=1e-6)


def test_unreadable_tagger_is_a_model_error(tmp_path):
    (tmp_path / ARTIFACT).write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="span tagger"):
        SpanTagger.load(tmp_path)


def test_fit_needs_toxic_and_clean_comments():
    with pytest.raises(ValueError, match="comments with spans"):
        SpanTagger().fit(["a", "b", "c", "d"], [[0], [0], [], []])


# --- model folders and training -------------------------------------------------------------------------


def vihos_dataset(texts, spans) -> Dataset:
    return Dataset(list(texts), [["offensive"] if s else [] for s in spans], "multilabel", ["offensive"],
                   name="vihos", known=[frozenset({"offensive"})] * len(texts), spans=[list(s) for s in spans])


def test_model_folder_round_trip_with_span_tagger(tmp_path, tagger):
    train = vihos_dataset(*synthetic(60, seed=4))
    model = train_model(train, span_tagger=tagger, output=tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert ARTIFACT in manifest["artifacts"] and manifest["training"]["span_tagger"] == {"source": "given"}
    loaded = classifier.load(tmp_path / "m")
    assert loaded.span_tagger is not None
    text = "thằng n g u này"
    assert loaded.span_tagger.predict_spans([text]) == model.span_tagger.predict_spans([text])
    spans = loaded.explain(text)
    assert spans and {s.label for s in spans} <= set(loaded.check(text).flagged)
    assert any(s.text == "n g u" and s.label == "offensive" for s in spans)
    # A tampered span artifact is refused like any other artifact.
    with open(tmp_path / "m" / ARTIFACT, "ab") as handle:
        handle.write(b"x")
    with pytest.raises(ModelError, match="sha256"):
        classifier.load(tmp_path / "m")


def test_training_on_vihos_format_fits_a_tagger_and_reports_dev_span_f1(tmp_path):
    texts, spans = synthetic(120, seed=5)
    path = tmp_path / "vihos.csv"
    rows = ["content,index_spans"] + [f'"{t}","{json.dumps(s)}"' for t, s in zip(texts, spans, strict=True)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = load_vihos(path)
    model = train_model(data.subset(range(90)), data.subset(range(90, 120)), output=tmp_path / "m")
    assert model.span_tagger is not None
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["training"]["span_tagger"]["source"] == "fitted"
    assert manifest["training"]["span_tagger"]["rows"] == 90
    assert manifest["metrics"]["dev_spans"]["rows"] == 30
    assert manifest["metrics"]["dev_spans"]["span_f1"] >= 0.8
    assert train_model(data, span_tagger=False).span_tagger is None


def test_span_annotated_rows_skip_toxic_rows_without_spans():
    vihos = vihos_dataset(["mày ngu", "chào bạn"], [[4, 5, 6], []])
    other = Dataset(["đồ khốn", "trời đẹp", "gửi ảnh đi"], [["offensive"], [], ["grooming"]], "multilabel",
                    ["offensive", "grooming"], known=[frozenset({"offensive", "grooming"})] * 3)
    texts, spans = span_annotated_rows(combine([vihos, other]))
    assert texts == ["mày ngu", "chào bạn", "trời đẹp", "gửi ảnh đi"]
    assert spans == [[4, 5, 6], [], [], []]
    assert span_annotated_rows(other) is None
    assert tagger_for(other) == (None, {})
    tiny = vihos_dataset(["mày ngu", "chào"], [[4, 5, 6], []])
    assert tagger_for(tiny)[1]["source"] == "skipped"


# --- ViHOS -------------------------------------------------------------------------------------------------


@pytest.mark.shared
def test_tagger_on_a_vihos_subset_beats_predicting_nothing(shared):
    train = load_vihos(shared / "vihos" / "train.csv").subset(range(1000))
    dev = load_vihos(shared / "vihos" / "dev.csv").subset(range(300))
    tagger = SpanTagger().fit(train.texts, train.spans)
    nothing = mean_span_f1(dev.spans, [[] for _ in dev.texts])
    assert mean_span_f1(dev.spans, tagger.predict_offsets(dev.texts, gate=False)) >= max(0.65, nothing + 0.08)
