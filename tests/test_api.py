"""The library contract: classifier.load, predict / predict_proba / check, model folders."""

import json
import shutil
import unicodedata
import warnings

import numpy as np
import pytest

import classifier
from classifier.errors import ModelError
from classifier.loaders import load_csv, load_jsonl
from classifier.taxonomy import LABEL_IDS
from classifier.training import train_model


def test_default_model_has_all_nine_labels(default_model):
    assert default_model.labels == list(LABEL_IDS)
    assert default_model.task == "multilabel"
    assert default_model.manifest["name"] == "default"


def test_str_counts_as_list_of_one(default_model):
    single = default_model.predict_proba("mày ngu vl")
    listed = default_model.predict_proba(["mày ngu vl"])
    assert single.shape == (1, len(default_model.labels))
    np.testing.assert_array_equal(single, listed)
    assert default_model.predict("mày ngu vl") == default_model.predict(["mày ngu vl"])
    assert len(default_model.predict("xin chào")) == 1


@pytest.mark.parametrize("texts", [[], [""], ["", "  ", "😀"], ["a"] * 7])
def test_output_length_equals_input_length(default_model, texts):
    proba = default_model.predict_proba(texts)
    assert proba.shape == (len(texts), len(default_model.labels))
    assert len(default_model.predict(texts)) == len(texts)
    assert np.all((proba >= 0) & (proba <= 1))


def test_tuple_and_generator_inputs(default_model):
    texts = ("chào", "mày ngu")
    np.testing.assert_array_equal(default_model.predict_proba(texts), default_model.predict_proba(iter(texts)))


def test_non_string_items_are_rejected(default_model):
    with pytest.raises(TypeError, match="index 1"):
        default_model.predict_proba(["ok", None])
    with pytest.raises(TypeError):
        default_model.predict_proba(b"bytes")


def test_nfc_and_nfd_give_identical_probabilities(default_model):
    text = "Tiếng Việt: mày đừng nói với bố mẹ nhé, gửi ảnh riêng tư đi"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    np.testing.assert_array_equal(default_model.predict_proba(text), default_model.predict_proba(nfd))


def test_missing_diacritics_and_teencode_still_flag(default_model):
    assert "offensive" in default_model.predict("may ngu vl")[0]
    assert "offensive" in default_model.predict("m.à.y n g u v.l")[0]


def test_check_verdict_contract(default_model):
    verdict = default_model.check("Mai ra cổng trường tao đánh chết mày")
    data = verdict.to_dict()
    assert set(data) >= {"probabilities", "flagged", "risk", "spans"}
    assert set(data["probabilities"]) == set(default_model.labels)
    assert "threat" in data["flagged"] and data["risk"] == "high"
    for span in data["spans"]:
        assert "Mai ra cổng trường tao đánh chết mày"[span["start"]:span["end"]] == span["text"]
    clean = default_model.check("Chúc mừng sinh nhật con gái yêu của mẹ")
    assert clean.flagged == [] and clean.risk == "none" and clean.spans == []


def test_check_rejects_lists(default_model):
    with pytest.raises(TypeError, match="check_many"):
        default_model.check(["a", "b"])


def test_multiclass_round_trip(tmp_path, tiny_csv):
    data = load_csv(tiny_csv)
    model = train_model(data, data, output=tmp_path / "m")
    loaded = classifier.load(tmp_path / "m")
    assert loaded.task == "multiclass"
    assert sorted(loaded.labels) == ["clean", "offensive"]
    np.testing.assert_allclose(loaded.predict_proba(data.texts), model.predict_proba(data.texts), rtol=1e-6)
    preds = loaded.predict(["mày ngu vl", "chúc mừng sinh nhật"])
    assert preds == ["offensive", "clean"]
    assert all(isinstance(p, str) for p in preds)
    verdict = loaded.check("mày ngu vl")
    assert verdict.prediction == "offensive" and verdict.flagged == ["offensive"]


def test_multilabel_round_trip_and_manifest(tmp_path, tiny_jsonl):
    data = load_jsonl(tiny_jsonl, label_col="labels")
    train_model(data, data, output=tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    for key in ("format_version", "backend", "task", "labels", "thresholds", "training", "metrics", "versions",
                "artifacts"):
        assert key in manifest
    assert manifest["task"] == "multilabel"
    assert manifest["training"]["train"][0]["sha256"] == data.sha256
    assert set(manifest["thresholds"]) == set(manifest["labels"])
    assert "scikit-learn" in manifest["versions"]
    loaded = classifier.load(str(tmp_path / "m"))
    result = loaded.predict(["gửi anh ảnh riêng tư đi em", "hôm nay trời đẹp quá"])
    assert "grooming" in result[0] and result[1] == []


def test_tampered_artifact_is_refused(tmp_path, tiny_csv):
    train_model(load_csv(tiny_csv), output=tmp_path / "m")
    artifact = tmp_path / "m" / "model.npz"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        classifier.load(tmp_path / "m")


def test_other_sklearn_version_warns_with_both_versions(tmp_path, tiny_csv):
    train_model(load_csv(tiny_csv), output=tmp_path / "m")
    manifest_path = tmp_path / "m" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["versions"]["scikit-learn"] = "0.0.1"
    manifest_path.write_text(json.dumps(manifest))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        classifier.load(tmp_path / "m")
    messages = [str(w.message) for w in caught]
    assert any("0.0.1" in m and "scikit-learn" in m for m in messages)


def test_unknown_model_name_and_bare_folder(tmp_path):
    with pytest.raises(ModelError, match="bundled"):
        classifier.load("no-such-model")
    with pytest.raises(ModelError, match=r"manifest\.json"):
        classifier.load(tmp_path)


def test_bundled_model_by_name_and_copy(tmp_path, default_model):
    copy = tmp_path / "copy"
    shutil.copytree(default_model.path, copy)
    np.testing.assert_array_equal(classifier.load(copy).predict_proba("chào"), default_model.predict_proba("chào"))
    assert classifier.load("default").labels == default_model.labels


def test_training_is_deterministic(tmp_path, tiny_jsonl):
    data = load_jsonl(tiny_jsonl, label_col="labels")
    a = train_model(data, data)
    b = train_model(data, data)
    np.testing.assert_array_equal(a.predict_proba(data.texts), b.predict_proba(data.texts))
    assert a.thresholds == b.thresholds
