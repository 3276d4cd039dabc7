"""Training options: hard-negative weighting and cross-validated threshold tuning."""

import json

import numpy as np
import pytest
from cli_helpers import assert_clean_error, invoke

from classifier.errors import DataError
from classifier.loaders import combine, load_csv, load_jsonl
from classifier.training import SklearnOptions, out_of_fold_proba, train_model

LOOK_ALIKE = "mẹ hỏi con đang ở đâu, mẹ qua đón"


def jsonl_with_hard_negatives(tmp_path, tiny_rows):
    """The tiny multi-label rows plus benign look-alikes of grooming, marked as hard negatives."""
    path = tmp_path / "hard.jsonl"
    look_alikes = [LOOK_ALIKE, "bố hỏi con ở đâu để bố đón", "cô hỏi em ở đâu, cô gửi bài", "mẹ đón con ở cổng nhé"]
    with open(path, "w", encoding="utf-8") as handle:
        for text, labels in tiny_rows:
            handle.write(json.dumps({"text": text, "labels": labels}, ensure_ascii=False) + "\n")
        for i, text in enumerate(look_alikes * 2):
            handle.write(json.dumps({"text": f"{text} {i}", "labels": [], "hard_negative": True},
                                    ensure_ascii=False) + "\n")
    return path


@pytest.fixture
def hard_jsonl(tmp_path):
    from conftest import tiny_rows

    return jsonl_with_hard_negatives(tmp_path, tiny_rows(multilabel=True))


def test_jsonl_keeps_hard_negative_flags_through_subset_and_combine(hard_jsonl, tiny_jsonl):
    data = load_jsonl(hard_jsonl, label_col="labels")
    assert sum(data.hard_negative) == 8 and not any(data.hard_negative[:-8])
    assert data.subset([len(data) - 1, 0]).hard_negative == [True, False]
    plain = load_jsonl(tiny_jsonl, label_col="labels")
    assert plain.hard_negative is None
    merged = combine([plain, data])
    assert merged.hard_negative == [False] * len(plain) + data.hard_negative


def test_hard_negative_weight_lowers_scores_of_look_alikes(hard_jsonl):
    data = load_jsonl(hard_jsonl, label_col="labels")
    plain = train_model(data, options=SklearnOptions(hard_negative_weight=1.0), span_tagger=False)
    weighted = train_model(data, options=SklearnOptions(hard_negative_weight=5.0), span_tagger=False)
    column = plain.labels.index("grooming")
    assert weighted.predict_proba(LOOK_ALIKE)[0, column] < plain.predict_proba(LOOK_ALIKE)[0, column]
    assert weighted.manifest["training"]["options"]["hard_negative_weight"] == 5.0


def test_out_of_fold_probabilities_come_from_models_that_did_not_see_the_row(tiny_jsonl):
    data = load_jsonl(tiny_jsonl, label_col="labels")
    options = SklearnOptions()
    proba, labels = out_of_fold_proba(data, options, 3)
    assert proba.shape == (len(data), len(labels)) and labels == data.trainable_indicator()[0]
    full = train_model(data, options=options, span_tagger=False).predict_proba(data.texts)
    # A model scores its own training rows more confidently than rows it never saw.
    truth, _ = data.indicator(labels)
    assert np.abs(proba - truth).mean() > np.abs(full - truth).mean()
    again, _ = out_of_fold_proba(data, options, 3)
    np.testing.assert_array_equal(proba, again)


def test_cv_folds_tunes_on_out_of_fold_and_fits_on_train_plus_dev(tiny_jsonl, tmp_path):
    data = load_jsonl(tiny_jsonl, label_col="labels")
    train, dev = data.subset(range(0, len(data) - 10)), data.subset(range(len(data) - 10, len(data)))
    model = train_model(train, dev, cv_folds=3, output=tmp_path / "cv", span_tagger=False)
    metrics = model.manifest["metrics"]
    assert "dev" not in metrics and metrics["cross_validation"]["folds"] == 3
    assert metrics["cross_validation"]["rows"] == len(data)
    manifest = json.loads((tmp_path / "cv" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["training"]["cv_folds"] == 3
    assert set(manifest["thresholds"]) == set(model.labels)


def test_cv_folds_multiclass_tunes_offsets(tiny_csv):
    data = load_csv(tiny_csv)
    model = train_model(data, cv_folds=3, span_tagger=False)
    assert set(model.offsets) == set(model.labels)
    assert 0 <= model.manifest["metrics"]["cross_validation"]["macro_f1"] <= 1


@pytest.mark.parametrize("folds", [1, 10_000])
def test_impossible_fold_counts_are_clear_errors(tiny_jsonl, folds):
    data = load_jsonl(tiny_jsonl, label_col="labels")
    with pytest.raises(DataError, match="folds"):
        train_model(data, cv_folds=folds, span_tagger=False)


def test_cv_folds_needs_the_sklearn_backend(tiny_jsonl):
    data = load_jsonl(tiny_jsonl, label_col="labels")
    with pytest.raises(DataError, match="sklearn backend"):
        train_model(data, backend="transformer", cv_folds=3)


def test_cli_train_with_cv_folds(tiny_jsonl, tmp_path):
    result = invoke("train", "--train", tiny_jsonl, "--format", "jsonl", "--cv-folds", 3, "--output", tmp_path / "m")
    assert result.exit_code == 0, result.output
    assert "3-fold out-of-fold macro-F1" in result.output
    result = invoke("train", "--train", tiny_jsonl, "--format", "jsonl", "--cv-folds", 1, "--output", tmp_path / "m1")
    assert_clean_error(result, "folds")


def test_plain_labels_change_only_their_own_heads(tiny_jsonl):
    data = load_jsonl(tiny_jsonl, label_col="labels")
    texts = ["may ngu vl", "anh cho em kim cuong, dung noi voi bo me", "hôm nay trời đẹp"]
    balanced = train_model(data, options=SklearnOptions(), span_tagger=False).predict_proba(texts)
    plain = train_model(data, options=SklearnOptions(plain_labels=("offensive",)), span_tagger=False)
    proba = plain.predict_proba(texts)
    offensive, grooming = plain.labels.index("offensive"), plain.labels.index("grooming")
    np.testing.assert_allclose(proba[:, grooming], balanced[:, grooming], rtol=1e-6)
    assert np.abs(proba[:, offensive] - balanced[:, offensive]).max() > 1e-3
    assert SklearnOptions.from_config({"plain_labels": ["offensive"]}).plain_labels == ("offensive",)
