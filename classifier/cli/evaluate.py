"""``vnguard evaluate``: metrics of a model on labelled data, as a table and as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from classifier.cli.common import console, handle_errors, load_model
from classifier.fileio import write_json_atomic
from classifier.loaders import DataFormat


def print_report(report) -> None:
    table = Table(title=f"{report.model or 'model'} on {report.data} ({report.rows:,} rows)", show_edge=False)
    for column in ("label", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, values in report.per_label.items():
        table.add_row(label, f"{values['precision']:.4f}", f"{values['recall']:.4f}", f"{values['f1']:.4f}",
                      str(values["support"]))
    if report.toxic:
        t = report.toxic
        table.add_row("toxic (offensive or hate)", f"{t['precision']:.4f}", f"{t['recall']:.4f}", f"{t['f1']:.4f}",
                      str(t["support"]), style="bold")
    console.print(table)
    line = f"macro-F1 {report.macro_f1:.4f}"
    if "macro_f1" in report.intervals:
        low, high = report.intervals["macro_f1"]
        line += f" (95% CI {low:.4f}–{high:.4f})"
    if report.accuracy is not None:
        line += f" · accuracy {report.accuracy:.4f}"
    if report.micro_f1 is not None:
        line += f" · micro-F1 {report.micro_f1:.4f}"
    console.print(line)


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def evaluate(
        data: Annotated[Path, typer.Option("--data", help="Labelled data.", exists=True, dir_okay=False)],
        model: Annotated[str | None, typer.Option("--model", "-m", help="Bundled model name or model folder.")] = None,
        data_format: Annotated[DataFormat, typer.Option("--format", help="Dataset format.")] = DataFormat.csv,
        text_col: Annotated[str | None, typer.Option("--text-col", help="Text column (csv/jsonl).")] = None,
        label_col: Annotated[str | None, typer.Option("--label-col", help="Label column (csv/jsonl).")] = None,
        json_path: Annotated[Path | None, typer.Option("--json", help="Also write the report as JSON here.",
                                                       dir_okay=False)] = None,
        bootstrap: Annotated[int, typer.Option("--bootstrap", help="Resamples for 95% intervals (0 = off).")] = 1000,
    ) -> None:
        """Evaluate a model: per-label precision/recall/F1, macro-F1, accuracy; optional JSON."""
        from classifier.evaluation import evaluate as run_evaluation
        from classifier.loaders import load_dataset

        classifier = load_model(model)
        dataset = load_dataset(data, data_format, text_col, label_col)
        report = run_evaluation(classifier, dataset, bootstrap=bootstrap)
        print_report(report)
        if json_path is not None:
            write_json_atomic(json_path, report.to_dict())
            console.print(f"report written to {json_path}")
