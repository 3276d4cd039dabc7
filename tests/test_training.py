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


def two_domain_jsonl(tmp_path):
    """Mild, untargeted swearing: clean in the comment rows, offensive in the chat rows (as the sources differ)."""
    path = tmp_path / "domains.jsonl"
    comment_topics = ["bài viết này", "clip này", "trận đấu hôm qua", "ca sĩ này", "phim này", "món này"]
    chat_topics = ["ê tụi mày", "ê bro", "nhóm mình ơi", "ê ku", "bạn ơi", "alo tụi bây"]
    rows = []
    for i, topic in enumerate(comment_topics * 3):
        rows.append({"text": f"{topic} vui vl {i}", "labels": [], "domain": "comments"})
        rows.append({"text": f"{topic} đồ ngu như chó {i}", "labels": ["offensive"], "domain": "comments"})
        rows.append({"text": f"{topic} rất hay, cảm ơn {i}", "labels": [], "domain": "comments"})
    for i, topic in enumerate(chat_topics * 3):
        rows.append({"text": f"{topic} vui vl {i}", "labels": ["offensive"], "domain": "chat"})
        rows.append({"text": f"{topic} tối nay đi học nhóm không {i}", "labels": [], "domain": "chat"})
        rows.append({"text": f"{topic} anh cho em kim cương, đừng nói với bố mẹ {i}", "labels": ["grooming"],
                     "domain": "chat"})
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return path


def test_domains_come_from_loaders_and_survive_subset_and_combine(tmp_path, tiny_jsonl):
    data = load_jsonl(two_domain_jsonl(tmp_path), label_col="labels")
    assert set(data.domains) == {"comments", "chat"}
    assert data.subset([1, 0]).domains == [data.domains[1], data.domains[0]]
    plain = load_jsonl(tiny_jsonl, label_col="labels")
    assert set(plain.row_domains()) == {"tiny"}
    assert combine([plain, data]).domains == plain.row_domains() + data.domains
    (tmp_path / "bad.jsonl").write_text('{"text": "a", "labels": [], "domain": 3}\n', encoding="utf-8")
    with pytest.raises(DataError, match="domain") as error:
        load_jsonl(tmp_path / "bad.jsonl", label_col="labels")
    assert error.value.line == 1


def test_expert_heads_judge_each_domain_by_its_own_annotation(tmp_path):
    data = load_jsonl(two_domain_jsonl(tmp_path), label_col="labels")
    options = dict(plain_labels=("offensive",), augment_without_diacritics=False)
    general = train_model(data, options=SklearnOptions(**options), span_tagger=False, output=tmp_path / "g")
    mixed = train_model(data, options=SklearnOptions(**options, expert_labels=("offensive",)), span_tagger=False,
                        output=tmp_path / "m")
    offensive = mixed.labels.index("offensive")
    comment, chat = "phim này vui vl", "ê bro vui vl"
    before = general.predict_proba([comment, chat])[:, offensive]
    after = mixed.predict_proba([comment, chat])[:, offensive]
    # The comment annotators called this clean: the expert lowers it; the chat reading barely moves.
    assert after[0] < before[0] - 0.05
    assert abs(after[1] - before[1]) < abs(after[0] - before[0])
    grooming = mixed.labels.index("grooming")
    text = "anh cho em kim cương"
    np.testing.assert_allclose(mixed.predict_proba(text)[:, grooming], general.predict_proba(text)[:, grooming])
    estimator = mixed.backend.estimator
    share = estimator.domain_share(estimator.featurizer_.transform([comment, chat]))
    assert share[0] > 0.5 > share[1]
    # Saved without pickle and reloaded with the same probabilities.
    from classifier import load

    reloaded = load(tmp_path / "m")
    np.testing.assert_allclose(reloaded.predict_proba([comment, chat]), mixed.predict_proba([comment, chat]),
                               rtol=1e-6)
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["training"]["options"]["expert_labels"] == ["offensive"]


def test_expert_contributions_add_up_to_the_mixed_score(tmp_path):
    from classifier.explain import linear_contributions, words_of

    data = load_jsonl(two_domain_jsonl(tmp_path), label_col="labels")
    model = train_model(data, options=SklearnOptions(expert_labels=("offensive",)), span_tagger=False)
    estimator = model.backend.estimator
    for text in ("phim này vui vl", "ê bro vui vl", "đồ ngu như chó"):
        norms = [" ".join(t.norm for t in word) for word in words_of(text)]
        parts = linear_contributions(model, norms, model.labels)
        features = estimator.featurizer_.transform([" ".join(norms)])
        _, intercept = estimator.linear_weights(features, range(len(model.labels)))
        np.testing.assert_allclose(parts.sum(axis=1), estimator.decision_function([text])[0] - intercept,
                                   rtol=1e-4, atol=1e-4)


def test_expert_labels_need_two_domains_and_multi_label_data(tmp_path, tiny_jsonl, tiny_csv):
    one_domain = load_jsonl(tiny_jsonl, label_col="labels")
    with pytest.raises(DataError, match="inside and outside domain 'comments'"):
        train_model(one_domain, options=SklearnOptions(expert_labels=("offensive",)), span_tagger=False)
    with pytest.raises(DataError, match="have no training data"):
        train_model(load_jsonl(two_domain_jsonl(tmp_path), label_col="labels"),
                    options=SklearnOptions(expert_labels=("threat",)), span_tagger=False)
    with pytest.raises(DataError, match="multi-label"):
        train_model(load_csv(tiny_csv), options=SklearnOptions(expert_labels=("offensive",)), span_tagger=False)


def test_cli_train_with_expert_labels(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"expert_labels": ["offensive"], "expert_domain": "comments"}), encoding="utf-8")
    result = invoke("train", "--train", two_domain_jsonl(tmp_path), "--format", "jsonl", "--config", config,
                    "--output", tmp_path / "m")
    assert result.exit_code == 0, result.output
    config.write_text(json.dumps({"expert_labels": ["offensive"], "expert_domain": "forum"}), encoding="utf-8")
    result = invoke("train", "--train", two_domain_jsonl(tmp_path), "--format", "jsonl", "--config", config,
                    "--output", tmp_path / "m2")
    assert_clean_error(result, "domains found: chat, comments")


def test_false_alarm_penalty_raises_thresholds_that_flag_look_alikes():
    from classifier.training import tune_threshold

    rng = np.random.default_rng(0)
    truth = np.r_[np.ones(50), np.zeros(150)].astype(int)
    proba = np.r_[rng.uniform(0.4, 1.0, 50), rng.uniform(0.0, 0.6, 150)]
    look_alikes = rng.uniform(0.4, 0.7, 40)
    plain = tune_threshold(proba, truth)
    assert tune_threshold(proba, truth, false_alarm_penalty=0.0, look_alikes=look_alikes) == plain
    strict = tune_threshold(proba, truth, false_alarm_penalty=2.0, look_alikes=look_alikes)
    assert strict > plain
    assert np.mean(look_alikes >= strict) < np.mean(look_alikes >= plain)
    # Without look-alikes the penalty has nothing to count.
    assert tune_threshold(proba, truth, false_alarm_penalty=2.0, look_alikes=np.zeros(0)) == plain

    # Per label: rows marked hard_negative are the look-alikes; a dict penalises only the labels it names.
    from classifier.loaders import Dataset
    from classifier.training import tune_thresholds

    labels = ["grooming", "scam"]
    rows = len(truth) + len(look_alikes)
    targets = [labels if t else [] for t in truth] + [[] for _ in look_alikes]
    dev = Dataset([""] * rows, targets, "multilabel", labels, hard_negative=[False] * len(truth) + [True] * 40)
    scores = np.r_[proba, look_alikes]
    model = type("Stub", (), {"labels": labels})()
    both = np.column_stack([scores, scores])
    gold = np.r_[truth, np.zeros(40, dtype=int)]
    loose, tight = tune_threshold(scores, gold), tune_threshold(scores, gold, false_alarm_penalty=2.0,
                                                                 look_alikes=look_alikes)
    assert tight > loose
    assert tune_thresholds(model, dev, both) == {"grooming": loose, "scam": loose}
    assert tune_thresholds(model, dev, both, false_alarm_penalty={"scam": 2.0}) == {"grooming": loose, "scam": tight}
    assert tune_thresholds(model, dev, both, false_alarm_penalty=2.0) == {"grooming": tight, "scam": tight}


def test_train_with_false_alarm_penalty_lowers_no_threshold(hard_jsonl, tmp_path):
    data = load_jsonl(hard_jsonl, label_col="labels")
    plain = train_model(data, cv_folds=3, span_tagger=False)
    strict = train_model(data, cv_folds=3, span_tagger=False, false_alarm_penalty=5.0)
    assert all(strict.thresholds[label] >= plain.thresholds[label] for label in plain.labels)
    assert strict.manifest["training"]["false_alarm_penalty"] == 5.0
    with pytest.raises(DataError, match="false_alarm_penalty"):
        train_model(data, span_tagger=False, false_alarm_penalty=-1)
    result = invoke("train", "--train", hard_jsonl, "--format", "jsonl", "--cv-folds", 3,
                    "--false-alarm-penalty", 5, "--output", tmp_path / "m")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["thresholds"] == {k: pytest.approx(v) for k, v in strict.thresholds.items()}
