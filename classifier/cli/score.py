"""``vnguard score``: score a CSV/TSV/JSONL/Parquet file (or stdin) for moderators."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from classifier.cli.common import console, err_console, fail, handle_errors, load_model
from classifier.scoring import FileFormat, OnError, ScoreOptions, score_file
from classifier.taxonomy import RISK_LEVELS


def _parse_thresholds(values: list[str]) -> dict[str, float]:
    thresholds = {}
    for value in values:
        label, _, number = value.partition("=")
        try:
            thresholds[label.strip()] = float(number)
        except ValueError:
            fail(f"--threshold expects LABEL=NUMBER, got {value!r}")
        if not 0.0 <= thresholds[label.strip()] <= 1.0:
            fail(f"--threshold {value!r}: the number must be between 0 and 1")
    return thresholds


def print_summary(summary, model, stream_console) -> None:
    from classifier.taxonomy import display_name

    table = Table(title="vnguard score", show_edge=False)
    table.add_column("label")
    table.add_column("tên")
    table.add_column("flagged", justify="right")
    table.add_column("%", justify="right")
    for label in model.labels:
        count = summary.flagged.get(label, 0)
        share = count / summary.rows_scored if summary.rows_scored else 0.0
        table.add_row(label, display_name(label), str(count), f"{share:.1%}")
    stream_console.print(table)
    stream_console.print(
        f"rows read {summary.rows_read:,} · scored {summary.rows_scored:,} · written {summary.rows_written:,} · "
        f"errors {summary.errors:,} · {summary.rate:,.0f} rows/s"
        + (f" · output {summary.output}" if summary.output else "")
    )


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def score(
        input: Annotated[str, typer.Argument(help="CSV, TSV, JSONL or Parquet file; '-' reads stdin.")],
        output: Annotated[str, typer.Option("--output", "-o", help="Output file (format by extension); '-' = stdout.")],
        model: Annotated[str | None, typer.Option("--model", "-m", help="Bundled model name or model folder.")] = None,
        text_col: Annotated[str, typer.Option("--text-col", help="Column (or JSON field) holding the text.")] = "text",
        id_col: Annotated[str | None, typer.Option("--id-col", help="Column to check exists and pass through.")] = None,
        input_format: Annotated[FileFormat, typer.Option("--format", help="Input format.")] = FileFormat.auto,
        output_format: Annotated[FileFormat, typer.Option("--output-format", help="Output format.")] = FileFormat.auto,
        sep: Annotated[str | None, typer.Option("--sep", help="CSV delimiter (sniffed by default).")] = None,
        encoding: Annotated[str | None, typer.Option("--encoding",
                                                     help="Input encoding, e.g. cp1258 (BOMs are detected).")] = None,
        threshold: Annotated[list[str] | None, typer.Option(
            "--threshold", "-t", help="Override a threshold: LABEL=0.7 (repeatable).")] = None,
        only_flagged: Annotated[bool, typer.Option("--only-flagged", help="Write only flagged rows.")] = False,
        min_risk: Annotated[str | None, typer.Option("--min-risk", help="Write only rows at or above: "
                                                     + ", ".join(RISK_LEVELS))] = None,
        on_error: Annotated[OnError, typer.Option("--on-error", help="Skip bad rows or stop.")] = OnError.skip,
        errors: Annotated[Path | None, typer.Option("--errors", help="Write bad rows' line/column/reason here "
                                                    "(JSONL, no text).")] = None,
        jobs: Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker processes (0 = all cores).")] = 0,
        chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Rows per chunk.")] = 4096,
        resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run.")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
    ) -> None:
        """Score every row of a file; adds p_<label>, flagged/prediction and risk columns."""
        classifier = load_model(model)
        options = ScoreOptions(
            text_col=text_col, id_col=id_col, input_format=input_format, output_format=output_format, sep=sep,
            encoding=encoding, chunk_size=chunk_size, jobs=jobs or (os.cpu_count() or 1),
            thresholds=_parse_thresholds(threshold or []), only_flagged=only_flagged, min_risk=min_risk,
            on_error=on_error, errors_path=errors, resume=resume,
        )
        show_progress = not quiet and sys.stderr.isatty()
        if show_progress:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            with Progress(TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                          TimeElapsedColumn(), TimeRemainingColumn(), console=err_console) as bar:
                task = bar.add_task("score", total=None, rate="")

                def progress(done: int, total: int | None) -> None:
                    speed = bar.tasks[0].speed
                    bar.update(task, completed=done, total=total, rate=f"{speed:,.0f} rows/s" if speed else "")

                summary = score_file(classifier, input, output, options, progress=progress)
        else:
            summary = score_file(classifier, input, output, options)
        if not quiet:
            print_summary(summary, classifier, err_console if output == "-" else console)
        if summary.errors and options.errors_path is None and not quiet:
            err_console.print(f"{summary.errors} row(s) skipped; use --errors FILE to list them")
