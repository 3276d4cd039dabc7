"""The transformer backend end to end, on a tiny BERT built here: no download, CPU only."""

from __future__ import annotations

import csv
import json
import random
import shutil
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import classifier
from classifier.backends.transformer_backend import (
    SUBFOLDER,
    TransformerOptions,
    build_random_base_model,
    prepare_texts,
    training_targets,
)
from classifier.cli import app
from classifier.errors import MissingDependencyError, ModelError
from classifier.evaluation import evaluate
from classifier.explain import explain
from classifier.loaders import MULTICLASS, MULTILABEL, Dataset, load_csv, load_jsonl
from classifier.training import train_model

runner = CliRunner()

OPENERS = ["", "ê", "nghe này", "nói thật", "haha", "này"]
ENDINGS = ["", "nhé", "đấy", "luôn", "à", "nha"]
CLEAN = ["cả nhà đi chơi công viên", "lớp mình học bài chăm chỉ", "trời mưa nên ở nhà đọc sách",
         "mẹ nấu phở rất ngon", "bạn ấy giúp mình làm bài tập", "chúng mình xem phim vui lắm",
         "đội bóng trường thắng trận", "cô giáo khen cả lớp", "chúc mừng sinh nhật bạn"]
OFFENSIVE = ["đồ ngu vl", "đồ óc chó", "thằng khốn nạn", "câm mồm đi", "ngu như bò", "đồ mất dạy",
             "óc lợn thật", "cút đi đồ điên"]
THREAT = ["tao sẽ đánh chết mày", "mai tao chờ mày ở cổng trường", "coi chừng tao đốt nhà mày",
          "tao biết nhà mày ở đâu rồi", "liệu hồn mà giữ mạng", "tao cho người xử mày"]
GROOMING = ["đừng nói với bố mẹ nhé em", "gửi anh ảnh riêng tư đi em", "tối nay em ở nhà một mình à",
            "anh nạp thẻ cho em bí mật nha", "qua telegram nói chuyện riêng với anh",
            "tan học anh đón em đừng cho mẹ biết"]
TRAIN_ARGS = ["--backend", "transformer", "--max-length", "32", "--device", "cpu", "--patience", "10"]
# Hidden size 64: with 32, about one seed in four collapses two classes onto one output and
# stays there; these settings learned the synthetic phrases for every seed tried (1-8).
BASE_SIZE = {"hidden_size": 64, "intermediate_size": 128, "num_layers": 2, "num_heads": 2}
MULTICLASS_ARGS = ["--epochs", "10", "--batch-size", "4", "--lr", "5e-4"]
MULTILABEL_ARGS = [*MULTICLASS_ARGS, "--word-segment"]


def synthetic_rows(multilabel: bool, variants: int = 12, seed: int = 0) -> list[tuple[str, object]]:
    """Each core phrase with distinct opener/ending variants; shuffled."""
    rng = random.Random(seed)
    groups = [(CLEAN, []), (OFFENSIVE, ["offensive"]), (THREAT, ["threat"])]
    if multilabel:
        groups.append((GROOMING, ["grooming"]))
    rows = []
    for cores, labels in groups:
        for core in cores:
            texts: set[str] = set()
            while len(texts) < variants:
                texts.add(" ".join(part for part in (rng.choice(OPENERS), core, rng.choice(ENDINGS)) if part))
            rows.extend((text, labels if multilabel else (labels[0] if labels else "clean")) for text in sorted(texts))
    rng.shuffle(rows)
    return rows


def write_splits(folder: Path, multilabel: bool) -> dict[str, Path]:
    """60 % train, 20 % dev, 20 % test, as CSV (multi-class) or JSONL (multi-label)."""
    rows = synthetic_rows(multilabel)
    cut_dev, cut_test = int(len(rows) * 0.6), int(len(rows) * 0.8)
    parts = {"train": rows[:cut_dev], "dev": rows[cut_dev:cut_test], "test": rows[cut_test:]}
    paths = {}
    for name, part in parts.items():
        if multilabel:
            path = folder / f"{name}.jsonl"
            path.write_text("".join(json.dumps({"text": t, "labels": y}, ensure_ascii=False) + "\n" for t, y in part),
                            encoding="utf-8")
        else:
            path = folder / f"{name}.csv"
            with open(path, "w", encoding="utf-8", newline="") as handle:
                csv.writer(handle).writerows([("text", "label"), *part])
        paths[name] = path
    return paths


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    # Tiny models train fastest on one thread, and the test machine's cores are shared.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VNGUARD_TORCH_THREADS", "1")
        patch.setenv("VNGUARD_DEVICE", "cpu")
        yield


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    texts = [text for text, _ in synthetic_rows(True, seed=1)]
    return build_random_base_model(tmp_path_factory.mktemp("base") / "tiny-bert", texts, vocab_size=800, **BASE_SIZE)


def train_tiny(folder: Path, tiny_base: Path, multilabel: bool) -> tuple[Path, dict[str, Path]]:
    """Train the tiny model on synthetic splits written to ``folder``; returns the model folder and the splits."""
    paths = write_splits(folder, multilabel=multilabel)
    result = run("train", "--train", paths["train"], "--dev", paths["dev"], "--format",
                 "jsonl" if multilabel else "csv", "--base-model", tiny_base, *TRAIN_ARGS,
                 *(MULTILABEL_ARGS if multilabel else MULTICLASS_ARGS), "--output", folder / "model")
    assert result.exit_code == 0, result.output
    return folder / "model", paths


@pytest.fixture(scope="module")
def multiclass(tmp_path_factory, tiny_base):
    return train_tiny(tmp_path_factory.mktemp("multiclass"), tiny_base, multilabel=False)


@pytest.fixture(scope="module")
def multilabel(tmp_path_factory, tiny_base):
    return train_tiny(tmp_path_factory.mktemp("multilabel"), tiny_base, multilabel=True)


def test_multiclass_model_folder_learns_and_reloads_to_the_same_dev_metrics(multiclass):
    folder, paths = multiclass
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["backend"] == "transformer" and manifest["task"] == MULTICLASS
    artifacts = set(manifest["artifacts"])
    assert {f"{SUBFOLDER}/model.safetensors", f"{SUBFOLDER}/config.json", f"{SUBFOLDER}/vnguard_transformer.json",
            f"{SUBFOLDER}/tokenizer.json"} <= artifacts
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in artifacts)
    assert manifest["training"]["options"]["base_model"] and manifest["training"]["options"]["word_segment"] is False

    model = classifier.load(folder)
    assert model.labels == ["clean", "offensive", "threat"]
    dev = load_csv(paths["dev"])
    report = evaluate(model, dev)
    # Dev metrics were computed in memory right after training; the reloaded model must reproduce them.
    assert round(report.macro_f1, 4) == manifest["metrics"]["dev"]["macro_f1"]
    test = evaluate(model, load_csv(paths["test"]))
    assert test.macro_f1 >= 0.9, test.to_dict()
    log = model.backend.info["training_log"]
    assert log["device"] == "cpu" and log["autocast"] is None and log["steps"] >= 1
    assert len(log["history"]) >= 1


def test_training_is_seeded_and_reload_gives_identical_probabilities(tmp_path, tiny_base):
    rows = synthetic_rows(False, variants=4)
    data = Dataset([t for t, _ in rows], [y for _, y in rows], MULTICLASS, ["clean", "offensive", "threat"])
    options = TransformerOptions(base_model=str(tiny_base), epochs=2, batch_size=8, lr=3e-3, device="cpu", seed=5)
    first = train_model(data, None, backend="transformer", options=options, output=tmp_path / "a")
    second = train_model(data, None, backend="transformer", options=options)
    texts = [t for t, _ in synthetic_rows(False, variants=2, seed=9)] + ["", "Ê   MÀY ngu VL!!!"]
    proba = first.predict_proba(texts)
    assert np.array_equal(proba, second.predict_proba(texts))
    assert np.array_equal(proba, classifier.load(tmp_path / "a").predict_proba(texts))
    assert np.allclose(proba.sum(axis=1), 1.0)
    # Batches are sorted by length and padded dynamically; the order of the output must be the input's.
    one_by_one = np.vstack([first.predict_proba(text) for text in texts])
    assert np.allclose(proba, one_by_one, atol=1e-5)
    other_seed = train_model(data, None, backend="transformer",
                             options=TransformerOptions(**{**vars(options), "seed": 6}))
    assert not np.allclose(proba, other_seed.predict_proba(texts))


def test_multilabel_word_segmented_model(multilabel):
    folder, paths = multilabel
    model = classifier.load(folder)
    assert model.task == MULTILABEL and model.labels == ["grooming", "offensive", "threat"]
    assert model.backend.word_segment is True
    assert model.backend.prepare(["Chúc mừng SINH NHẬT bạn"]) == ["chúc_mừng sinh_nhật bạn"]
    assert set(model.thresholds) == set(model.labels)
    test = evaluate(model, load_jsonl(paths["test"], label_col="labels"))
    assert test.macro_f1 >= 0.75, test.to_dict()


def test_score_evaluate_and_check_commands(multilabel, tmp_path):
    folder, paths = multilabel
    model = classifier.load(folder)
    texts = ["tao sẽ đánh chết mày đấy", "mẹ nấu phở rất ngon", "đồ óc chó", "gửi anh ảnh riêng tư đi em"]
    source = tmp_path / "posts.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([("id", "text"), *enumerate(texts)])
    outputs = []
    for jobs in (1, 2):  # 2 forks worker processes: torch must not deadlock in them
        out = tmp_path / f"scored{jobs}.csv"
        result = run("score", source, "-o", out, "--model", folder, "--jobs", jobs, "--chunk-size", 1, "--quiet")
        assert result.exit_code == 0, result.output
        outputs.append(list(csv.DictReader(out.open(encoding="utf-8"))))
    assert outputs[0] == outputs[1]
    assert [row["id"] for row in outputs[0]] == ["0", "1", "2", "3"]
    proba = model.predict_proba(texts)
    for row, expected, flagged in zip(outputs[0], proba, model.predict(texts), strict=True):
        assert np.allclose([float(row[f"p_{label}"]) for label in model.labels], expected, atol=1e-4)
        assert row["flagged"] == ";".join(flagged)

    report_path = tmp_path / "report.json"
    result = run("evaluate", "--model", folder, "--data", paths["test"], "--format", "jsonl", "--json", report_path,
                 "--bootstrap", 0)
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    expected = evaluate(model, load_jsonl(paths["test"], label_col="labels"))
    assert set(report["per_label"]) == {"grooming", "offensive", "threat"}
    assert report["macro_f1"] == round(expected.macro_f1, 4)

    text = "nghe này tao biết nhà mày ở đâu rồi"
    result = run("check", "--model", folder, "--json", text)
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert verdict["flagged"] == model.predict(text)[0]
    assert np.allclose([verdict["probabilities"][label] for label in model.labels], model.predict_proba(text)[0],
                       atol=1e-4)


def test_explain_spans_point_into_the_original_text(multilabel):
    model = classifier.load(multilabel[0])
    text = "Ê, gửi anh ẢNH riêng tư đi em 😍 nhé!!!"
    top = model.labels[int(model.predict_proba(text)[0].argmax())]
    spans = model.explain(text, verdict=model.check(text, explain=False)) or explain(model, text, labels=[top])
    assert spans
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start : span.end] == span.text
        assert span.label in model.labels and span.weight >= 0


def test_early_stopping_keeps_the_best_evaluation(tmp_path, tiny_base):
    rows = synthetic_rows(False, variants=2)
    data = Dataset([t for t, _ in rows], [y for _, y in rows], MULTICLASS, ["clean", "offensive", "threat"])
    # With a zero learning rate dev macro-F1 never improves after the first evaluation.
    options = TransformerOptions(base_model=str(tiny_base), epochs=5, lr=0.0, device="cpu", eval_steps=1, patience=2)
    model = train_model(data, data.subset(range(10)), backend="transformer", options=options)
    log = model.backend.info["training_log"]
    assert log["stopped_early"] and log["steps"] == 3 and log["best_step"] == 1
    assert [point["step"] for point in log["history"]] == [1, 2, 3]


def test_training_targets_weights_and_masks():
    data = Dataset(["a", "b", "c", "d"], ["x", "x", "x", "y"], MULTICLASS, ["x", "y"])
    outputs, targets, mask, weights = training_targets(data)
    assert outputs == ["x", "y"] and targets.tolist() == [0, 0, 0, 1] and mask is None
    assert np.allclose(weights, [4 / (2 * 3), 4 / (2 * 1)])

    known = [frozenset({"p", "q", "r"})] * 2 + [frozenset({"p"})] * 3
    data = Dataset(list("abcde"), [["p", "q"], [], ["p"], [], []], MULTILABEL, ["p", "q", "r"], known=known)
    outputs, targets, mask, weights = training_targets(data)
    assert outputs == ["p", "q"]  # r has no positive row
    assert targets.tolist() == [[1, 1], [0, 0], [1, 0], [0, 0], [0, 0]]
    assert mask.tolist() == [[True, True], [True, True], [True, False], [True, False], [True, False]]
    assert np.allclose(weights, [3 / 2, 1 / 1])  # negatives / positives among the rows annotating each label


def test_prepare_texts_normalises_but_keeps_diacritics():
    nfd = unicodedata.normalize("NFD", "Mày NGUUUU vl, xem https://x.vn")
    assert prepare_texts([nfd]) == ["mày ngu vãi lồn xem xxurl"]
    assert prepare_texts(["Chào   BẠN!"], normalize=False) == ["Chào   BẠN!"]


def test_missing_torch_names_the_install_command(monkeypatch, multiclass, tmp_path):
    folder, paths = multiclass
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'vnguard\[transformer\]'"):
        classifier.load(folder)
    result = run("train", "--train", paths["train"], "--format", "csv", "--base-model", folder, *TRAIN_ARGS,
                 "--output", tmp_path / "out")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "vnguard[transformer]" in result.output
    assert not (tmp_path / "out").exists()


def test_offline_by_default(monkeypatch, multiclass, tmp_path):
    _, paths = multiclass
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    common = ["train", "--train", paths["train"], "--format", "csv", *TRAIN_ARGS, "--output", tmp_path / "out"]
    result = run(*common, "--base-model", "vnguard-tests/no-such-model")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--allow-download" in result.output and "hf download vnguard-tests/no-such-model" in result.output
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = run(*common, "--base-model", "vnguard-tests/no-such-model", "--allow-download")
    assert result.exit_code == 1 and "HF_HUB_OFFLINE" in result.output
    result = run(*common, "--base-model", tmp_path / "no-such-folder")
    assert result.exit_code == 1 and "not found" in result.output
    result = run(*common)
    assert result.exit_code == 1 and "--base-model" in result.output


def test_unlisted_or_modified_files_are_refused(multiclass, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(multiclass[0], copy)
    (copy / SUBFOLDER / "pytorch_model.bin").write_bytes(b"not a pickle, but never read either")
    with pytest.raises(ModelError, match="not listed in the manifest"):
        classifier.load(copy)
    (copy / SUBFOLDER / "pytorch_model.bin").unlink()
    config = copy / SUBFOLDER / "config.json"
    config.write_text(config.read_text(encoding="utf-8").replace('"clean"', '"sạch"'), encoding="utf-8")
    with pytest.raises(ModelError, match="sha256"):
        classifier.load(copy)


def test_cuda_request_on_a_machine_without_gpu_is_a_clear_error(tiny_base):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    rows = synthetic_rows(False, variants=1)
    data = Dataset([t for t, _ in rows], [y for _, y in rows], MULTICLASS, ["clean", "offensive", "threat"])
    with pytest.raises(MissingDependencyError, match="--device cpu"):
        train_model(data, None, backend="transformer",
                    options=TransformerOptions(base_model=str(tiny_base), device="cuda"))


def test_gpu_check_script_dry_run_on_cpu(capsys):
    import importlib.util

    script = Path(__file__).resolve().parent.parent / "scripts" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", script)
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    gpu_check.main(["--device", "cpu", "--size", "tiny", "--steps", "3", "--batch-size", "8"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["device"] == "cpu" and summary["steps"] == 3 and summary["autocast"] is None
    assert summary["reload_same_device_max_diff"] == 0.0 and summary["reload_cpu_max_diff"] == 0.0
