"""``vnguard train``: train a model folder from a public dataset or your own CSV/JSONL."""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from classifier.cli.common import console, err_console, handle_errors
from classifier.loaders import DataFormat


class Backend(str, Enum):
    sklearn = "sklearn"
    transformer = "transformer"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


@contextmanager
def transformer_progress():
    """Show the transformer backend's progress (one line per dev evaluation) on stderr while training."""
    import logging

    from rich.logging import RichHandler

    logger = logging.getLogger("classifier.backends.transformer_backend")
    handler = RichHandler(console=err_console, show_time=False, show_level=False, show_path=False)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def sklearn_options(config: Path | None, c: float | None, min_df: int | None):
    """Defaults, overridden by the --config JSON file, overridden by explicit flags."""
    import json

    from classifier.errors import DataError
    from classifier.training import SklearnOptions

    values: dict = {}
    if config is not None:
        try:
            values = json.loads(config.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise DataError(f"invalid JSON: {error.msg}", path=config, line=error.lineno, column=error.colno) from None
        if not isinstance(values, dict):
            raise DataError("expected a JSON object of options", path=config)
    if c is not None:
        values["C"] = c
    if min_df is not None:
        values["min_df"] = min_df
    return SklearnOptions.from_config(values)


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def train(
        train_path: Annotated[Path, typer.Option("--train", help="Training data.", exists=True, dir_okay=False)],
        output: Annotated[Path, typer.Option("--output", "-o", help="Model folder to write.", file_okay=False)],
        data_format: Annotated[DataFormat, typer.Option("--format", help="Dataset format.")] = DataFormat.csv,
        dev_path: Annotated[Path | None, typer.Option("--dev", help="Dev data for tuning thresholds/offsets.",
                                                      exists=True, dir_okay=False)] = None,
        text_col: Annotated[str | None, typer.Option("--text-col", help="Text column (csv/jsonl).")] = None,
        label_col: Annotated[str | None, typer.Option("--label-col", help="Label column; 'a;b' = multi-label.")] = None,
        backend: Annotated[Backend, typer.Option("--backend", help="Model backend.")] = Backend.sklearn,
        config: Annotated[Path | None, typer.Option("--config", help="sklearn: JSON file of training options "
                                                    "(C, class_weight, *_ngram_range, min_df, max_features, "
                                                    "augment_without_diacritics, hard_negative_weight, plain_labels, "
                                                    "expert_labels, expert_domain).",
                                                    exists=True, dir_okay=False)] = None,
        c: Annotated[float | None, typer.Option("--C", help="sklearn: inverse regularisation strength "
                                                "(default 2.0).")] = None,
        min_df: Annotated[int | None, typer.Option("--min-df", help="sklearn: minimum document frequency "
                                                   "(default 2).")] = None,
        cv_folds: Annotated[int, typer.Option("--cv-folds", min=0, help="sklearn: tune thresholds on out-of-fold "
                                              "predictions of this many folds over train + dev, then fit on "
                                              "both (0: tune on --dev).")] = 0,
        false_alarm_penalty: Annotated[float, typer.Option("--false-alarm-penalty", min=0.0, help="multi-label: "
                                                           "thresholds maximise F1 minus this times the share of "
                                                           "hard negatives (JSONL hard_negative) they flag.")] = 0.0,
        base_model: Annotated[str | None, typer.Option("--base-model", help="transformer: local folder of a "
                                                       "pretrained model (e.g. PhoBERT).")] = None,
        epochs: Annotated[float, typer.Option("--epochs", help="transformer: training epochs.")] = 3.0,
        batch_size: Annotated[int, typer.Option("--batch-size", help="transformer: batch size.")] = 16,
        lr: Annotated[float, typer.Option("--lr", help="transformer: learning rate.")] = 3e-5,
        max_length: Annotated[int, typer.Option("--max-length", help="transformer: max tokens.")] = 128,
        device: Annotated[Device, typer.Option("--device", help="transformer: device.")] = Device.auto,
        word_segment: Annotated[bool, typer.Option("--word-segment", help="transformer: segment words with "
                                                   "underthesea (PhoBERT expects it).")] = False,
        allow_download: Annotated[bool, typer.Option("--allow-download", help="transformer: let Hugging Face "
                                                     "download --base-model (off by default).")] = False,
        patience: Annotated[int, typer.Option("--patience", min=1, help="transformer: stop after this many dev "
                                              "evaluations (one per epoch) without a better macro-F1.")] = 2,
        seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 13,
    ) -> None:
        """Train a model and write a folder that `classifier.load` and every command accept."""
        from classifier.loaders import load_dataset
        from classifier.training import train_model

        train_data = load_dataset(train_path, data_format, text_col, label_col)
        dev_data = load_dataset(dev_path, data_format, text_col, label_col) if dev_path else None
        if backend is Backend.sklearn:
            options = sklearn_options(config, c, min_df)
        else:
            from classifier.backends.transformer_backend import TransformerOptions

            options = TransformerOptions(base_model=base_model, epochs=epochs, batch_size=batch_size, lr=lr,
                                         max_length=max_length, device=device.value, word_segment=word_segment,
                                         allow_download=allow_download, patience=patience, seed=seed)
        console.print(f"training {backend.value} on {len(train_data):,} rows ({train_data.task})…")
        with transformer_progress() if backend is Backend.transformer else nullcontext():
            model = train_model(train_data, dev_data, backend=backend.value, options=options, output=output,
                                cv_folds=cv_folds, false_alarm_penalty=false_alarm_penalty)
        metrics = model.manifest.get("metrics", {})
        for name, title in (("dev", "dev"), ("cross_validation", f"{cv_folds}-fold out-of-fold")):
            if report := metrics.get(name):
                console.print(f"{title} macro-F1 {report['macro_f1']:.4f}"
                              + (f" · accuracy {report['accuracy']:.4f}" if "accuracy" in report else ""))
        console.print(f"model written to {output}")
