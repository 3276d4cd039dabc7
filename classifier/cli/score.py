"""``vnguard score``: score a CSV/TSV/JSONL/Parquet file (or stdin) for moderators."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from classifier.cli.common import console, err_console, fail, handle_errors, load_model
from classifier.scoring import (
    STDIO,
    FileFormat,
    OnError,
    ScoreOptions,
    ScoringInterrupted,
    checkpoint_path,
    score_file,
)
from classifier.taxonomy import CLEAN, RISK_LEVELS

RiskLevel = Enum("RiskLevel", {level: level for level in RISK_LEVELS}, type=str)
OutputFormat = Enum("OutputFormat", {f.value: f.value for f in FileFormat if f is not FileFormat.parquet}, type=str)
AUTO_OUTPUT = OutputFormat("auto")


def parse_thresholds(values: list[str]) -> dict[str, float]:
    """``["grooming=0.3", ...]`` -> ``{"grooming": 0.3}``; exits with a clear message on bad input."""
    thresholds = {}
    for value in values:
        label, equals, number = value.partition("=")
        try:
            if not equals:
                raise ValueError
            threshold = float(number)
        except ValueError:
            fail(f"--threshold expects LABEL=NUMBER, e.g. grooming=0.3, got {value!r}")
        if not 0.0 <= threshold <= 1.0:
            fail(f"--threshold {value!r}: the number must be between 0 and 1")
        thresholds[label.strip()] = threshold
    return thresholds


def default_jobs() -> int:
    """The CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def print_summary(summary, model, stream_console) -> None:
    from rich.table import Table

    from classifier.taxonomy import display_name

    table = Table(title="vnguard score", show_edge=False)
    table.add_column("label")
    table.add_column("tên")
    table.add_column("flagged", justify="right")
    table.add_column("%", justify="right")
    for label in model.labels:
        if label == CLEAN:
            continue
        count = summary.flagged.get(label, 0)
        share = count / summary.rows_scored if summary.rows_scored else 0.0
        table.add_row(label, display_name(label), f"{count:,}", f"{share:.1%}")
    stream_console.print(table)
    resumed = f" (resumed after {summary.resumed_from:,})" if summary.resumed_from else ""
    stream_console.print(
        f"rows read {summary.rows_read:,}{resumed} · scored {summary.rows_scored:,} · "
        f"written {summary.rows_written:,} · errors {summary.errors:,} · {summary.rate:,.0f} rows/s "
        f"· {summary.seconds:,.1f} s" + (f" · output {summary.output}" if summary.output else ""),
        soft_wrap=True, markup=False,
    )
    if summary.errors:
        kinds = ", ".join(f"{count:,} {kind}" for kind, count in sorted(summary.error_kinds.items()))
        where = (f"listed in {summary.errors_output}" if summary.errors_output
                 else "use --errors FILE to list their line numbers")
        err_console.print(f"{summary.errors:,} bad row(s) skipped ({kinds}); {where}", soft_wrap=True, markup=False)


def _progress_bar():
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    # No refresh thread (auto_refresh=False): worker processes are forked while the bar runs.
    return Progress(TextColumn("scoring"), BarColumn(), TaskProgressColumn(), TextColumn("{task.fields[rows]}"),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), console=err_console, auto_refresh=False, redirect_stdout=False,
                    redirect_stderr=False, transient=False)


def _interrupt_on_sigterm() -> Callable[[], None]:
    """Treat ``kill`` (SIGTERM) like Ctrl-C, so that the run stops cleanly and says how to resume."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    return lambda: signal.signal(signal.SIGTERM, previous)


def _run(classifier, input: str, output: str, options: ScoreOptions, show_progress: bool):
    restore = _interrupt_on_sigterm()
    try:
        return _run_with_progress(classifier, input, output, options, show_progress)
    finally:
        restore()


def _run_with_progress(classifier, input: str, output: str, options: ScoreOptions, show_progress: bool):
    if not show_progress:
        return score_file(classifier, input, output, options)
    with _progress_bar() as bar:
        task = bar.add_task("score", total=None, rows="", rate="")

        def progress(summary, position: int, total: int | None) -> None:
            rate = f"{summary.rate:,.0f} rows/s" if summary.seconds > 0.5 else ""
            bar.update(task, completed=position, total=total, rows=f"{summary.rows_read:,} rows", rate=rate)
            bar.refresh()

        return score_file(classifier, input, output, options, progress=progress)


def _interrupted(error: ScoringInterrupted) -> None:
    done = error.summary.rows_read
    if error.resumable:
        err_console.print(f"interrupted after {done:,} rows; the work is kept in {error.partial}. "
                          "Run the same command with --resume to continue.", soft_wrap=True, markup=False)
    elif error.partial is not None:
        err_console.print(f"interrupted after {done:,} rows; what was scored is in {error.partial} "
                          "(input from stdin cannot be resumed).", soft_wrap=True, markup=False)
    else:
        err_console.print(f"interrupted after {done:,} rows.", markup=False)
    raise typer.Exit(130)


def _stdout_closed() -> None:
    """The reader of stdout went away (e.g. ``| head``): stop quietly, without a traceback at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # not a real file descriptor (e.g. a test runner's buffer)
    raise typer.Exit(0)


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def score(
        input: Annotated[str, typer.Argument(help="CSV, TSV, JSONL or Parquet file (.gz allowed); '-' reads stdin.")],
        output: Annotated[str, typer.Option("--output", "-o", help="Output file (CSV/TSV/JSONL by extension); "
                                            "'-' = stdout.")],
        model: Annotated[str | None, typer.Option("--model", "-m", help="Bundled model name or model folder.")] = None,
        text_col: Annotated[str, typer.Option("--text-col", help="Column (or JSON field) holding the text.")] = "text",
        id_col: Annotated[str | None, typer.Option("--id-col", help="Column that must exist; copied into the "
                                                   "--errors file to find bad rows.")] = None,
        input_format: Annotated[FileFormat, typer.Option("--format", help="Input format.")] = FileFormat.auto,
        output_format: Annotated[OutputFormat, typer.Option("--output-format", help="Output format.")] = AUTO_OUTPUT,
        sep: Annotated[str | None, typer.Option("--sep", help="CSV delimiter, e.g. ';' or tab (sniffed by "
                                                "default).")] = None,
        encoding: Annotated[str | None, typer.Option("--encoding", help="Input encoding, e.g. cp1258 (UTF-8 and "
                                                     "UTF-16 BOMs are detected; default UTF-8).")] = None,
        threshold: Annotated[list[str] | None, typer.Option(
            "--threshold", "-t", help="Override a label's threshold: LABEL=0.3 (repeatable).")] = None,
        only_flagged: Annotated[bool, typer.Option("--only-flagged", help="Write only flagged rows.")] = False,
        min_risk: Annotated[RiskLevel | None, typer.Option("--min-risk", help="Write only rows at or above "
                                                           "this risk.")] = None,
        on_error: Annotated[OnError, typer.Option("--on-error", help="Skip bad rows (counted, listed with "
                                                  "--errors) or stop at the first one.")] = OnError.skip,
        errors: Annotated[Path | None, typer.Option("--errors", help="Write bad rows' line/column/reason here "
                                                    "(JSONL, never the text).")] = None,
        jobs: Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker processes (0 = all cores).")] = 0,
        chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Rows per chunk.")] = 4096,
        max_chars: Annotated[int, typer.Option("--max-chars", min=1, help="Longer texts are bad rows.")] = 100_000,
        resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its "
                                             "checkpoint.")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
    ) -> None:
        """Score every row of a file; adds p_<label>, flagged (or prediction) and risk columns."""
        if input == STDIO and sys.stdin.isatty():
            fail("'-' reads the rows from stdin: pipe a file in, e.g. cat posts.csv | vnguard score - -o out.csv")
        options = ScoreOptions(
            text_col=text_col, id_col=id_col, input_format=input_format, output_format=FileFormat(output_format),
            sep=sep, encoding=encoding, chunk_size=chunk_size, jobs=jobs or default_jobs(),
            thresholds=parse_thresholds(threshold or []), only_flagged=only_flagged,
            min_risk=min_risk.value if min_risk else None, on_error=on_error, errors_path=errors, resume=resume,
            max_chars=max_chars,
        )
        if resume and output != STDIO and not checkpoint_path(output).exists() and not quiet:
            err_console.print(f"nothing to resume (no {checkpoint_path(output).name}); scoring from the start",
                              markup=False)
        classifier = load_model(model)
        show_progress = not quiet and err_console.is_terminal
        try:
            summary = _run(classifier, input, output, options, show_progress)
        except ScoringInterrupted as error:
            _interrupted(error)
        except BrokenPipeError:
            _stdout_closed()
        if not quiet:
            print_summary(summary, classifier, err_console if output == STDIO else console)
