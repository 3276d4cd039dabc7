"""``vnguard train``: train a model folder from a public dataset or your own CSV/JSONL."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from classifier.cli.common import console, handle_errors
from classifier.loaders import DataFormat


class Backend(str, Enum):
    sklearn = "sklearn"
    transformer = "transformer"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


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
        c: Annotated[float, typer.Option("--C", help="sklearn: inverse regularisation strength.")] = 4.0,
        min_df: Annotated[int, typer.Option("--min-df", help="sklearn: minimum document frequency.")] = 2,
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
        seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 13,
    ) -> None:
        """Train a model and write a folder that `classifier.load` and every command accept."""
        from classifier.loaders import load_dataset
        from classifier.training import SklearnOptions, train_model

        train_data = load_dataset(train_path, data_format, text_col, label_col)
        dev_data = load_dataset(dev_path, data_format, text_col, label_col) if dev_path else None
        if backend is Backend.sklearn:
            options = SklearnOptions(C=c, min_df=min_df)
        else:
            from classifier.backends.transformer_backend import TransformerOptions

            options = TransformerOptions(base_model=base_model, epochs=epochs, batch_size=batch_size, lr=lr,
                                         max_length=max_length, device=device.value, word_segment=word_segment,
                                         allow_download=allow_download, seed=seed)
        console.print(f"training {backend.value} on {len(train_data):,} rows ({train_data.task})…")
        model = train_model(train_data, dev_data, backend=backend.value, options=options, output=output)
        dev = model.manifest.get("metrics", {}).get("dev")
        if dev:
            console.print(f"dev macro-F1 {dev['macro_f1']:.4f}"
                          + (f" · accuracy {dev['accuracy']:.4f}" if "accuracy" in dev else ""))
        console.print(f"model written to {output}")
