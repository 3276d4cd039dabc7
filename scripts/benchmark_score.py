"""Benchmark ``vnguard score`` end to end against a bare scikit-learn TF-IDF + LogisticRegression.

    python scripts/benchmark_score.py [--rows 200000] [--jobs N] [--rss-rows 1000000] [--profile]

Builds N rows by sampling comment texts (ViHOS, SafeSense and ViHSD comments under
../shared/datasets when present, else examples/posts.csv), runs ``vnguard score`` on them as a
subprocess (default model, default jobs), and reports rows/s and peak memory. In the same run it
times a bare baseline: TfidfVectorizer word 1-2 + TfidfVectorizer char_wb 2-5 (hstack) +
LogisticRegression fitted on labelled rows, timing only ``predict_proba`` (vectorising included)
over the same texts, in one process. The wall-time ratio ``vnguard / baseline`` is the figure to
report. ``--rss-rows`` also scores that many rows to report peak memory at scale; ``--profile``
profiles the in-process scoring of a sample with cProfile.

Targets (issue 8; reported, not asserted): >= 10,000 rows/s end to end on 2 cores, wall <= 1.5x the
baseline, peak memory <= 1 GB at 1,000,000 rows. Memory is reported two ways: the largest single
process (ru_maxrss of the children) and the peak sum over the process tree of PSS (shared pages
counted once, sampled every 50 ms) and of RSS (shared pages counted in every process).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def comment_texts() -> tuple[list[str], str]:
    """Comment texts to sample from, and where they came from."""
    from classifier.loaders import load_safesense, load_vihos, load_vihsd
    from classifier.recipes import shared_datasets

    root = shared_datasets()
    texts: list[str] = []
    if root is not None:
        for loader, relative in ((load_vihos, "vihos/train.csv"), (load_safesense, "safesense/train.csv"),
                                 (load_vihsd, "vihsd/train.csv")):
            if (root / relative).is_file():
                texts.extend(loader(root / relative).texts)
    if texts:
        return texts, f"shared datasets ({len(texts):,} comments)"
    with open(REPO / "examples" / "posts.csv", encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    return texts, f"examples/posts.csv ({len(texts)} posts, repeated)"


def labelled_rows(limit: int, seed: int) -> tuple[list[str], list[int]]:
    """Binary risky/clean training rows for the baseline (train splits only; no metric is computed)."""
    from classifier.corpus import read_seed
    from classifier.loaders import load_safesense, load_vihos
    from classifier.recipes import shared_datasets

    texts, labels = [], []
    root = shared_datasets()
    if root is not None and (root / "vihos/train.csv").is_file() and (root / "safesense/train.csv").is_file():
        for data in (load_vihos(root / "vihos/train.csv"), load_safesense(root / "safesense/train.csv")):
            texts.extend(data.texts)
            labels.extend(int(bool(t)) if isinstance(t, list) else int(t != "clean") for t in data.targets)
    else:
        for row in read_seed():
            texts.append(row.text)
            labels.append(int(bool(row.labels)))
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    order = order[:limit]
    return [texts[i] for i in order], [labels[i] for i in order]


def write_rows(path: Path, texts: list[str], rows: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    sample = [rng.choice(texts) for _ in range(rows)]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "text"])
        writer.writerows(enumerate(sample, start=1))
    return sample


def _tree(pid: int) -> list[int]:
    pids, stack = [], [pid]
    while stack:
        current = stack.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return pids


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB; zeros once it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class TreeMemory:
    """Samples the summed RSS and PSS of a process and its descendants; keeps the peaks."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak_rss_kb = self.peak_pss_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            samples = [_memory_kb(pid) for pid in _tree(self.pid)]
            self.peak_rss_kb = max(self.peak_rss_kb, sum(s[0] for s in samples))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(s[1] for s in samples))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def vnguard_command() -> list[str]:
    script = Path(sys.executable).parent / "vnguard"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from classifier.cli import main; main()"]


def run_vnguard(source: Path, output: Path, jobs: int | None, extra: list[str]) -> dict:
    command = [*vnguard_command(), "score", str(source), "-o", str(output), "--quiet", *extra]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with TreeMemory(process.pid) as memory:
        _, stderr = process.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"vnguard score failed ({process.returncode}): {stderr.decode()[-2000:]}")
    return {"wall_s": wall, "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "max_process_rss_mb": after.ru_maxrss / 1024, "peak_tree_pss_mb": memory.peak_pss_kb / 1024,
            "peak_tree_rss_mb": memory.peak_rss_kb / 1024, "command": " ".join(command)}


def fit_baseline(train_rows: int, seed: int) -> tuple:
    """Bare TF-IDF word 1-2 + char_wb 2-5 (scikit-learn defaults) + LogisticRegression on labelled rows."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train_texts, labels = labelled_rows(train_rows, seed)
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2))
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))
    features = sp.hstack([word.fit_transform(train_texts), char.fit_transform(train_texts)], format="csr")
    head = LogisticRegression(max_iter=1000).fit(features, labels)
    return word, char, head, {"train_rows": len(train_texts), "features": features.shape[1]}


def time_baseline(fitted: tuple, texts: list[str]) -> dict:
    """Wall and CPU time of the baseline's predict_proba, vectorising included, over ``texts``."""
    import scipy.sparse as sp

    word, char, head, info = fitted
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), 4096):  # the same chunking as vnguard, so memory stays flat
        batch = texts[start:start + 4096]
        head.predict_proba(sp.hstack([word.transform(batch), char.transform(batch)], format="csr"))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {"wall_s": seconds, "cpu_s": cpu, **info}


def stage_breakdown(texts: list[str], rows: int, seed: int) -> dict[str, float]:
    """CPU microseconds per row of each step of the default model's ``predict_proba`` (one process).

    Reaches into the featurizer's blocks (``vectorizers_``, ``_blocks``); returns ``{}`` if they changed.
    """
    import scipy.sparse as sp

    import classifier
    from classifier.features import text_views

    model = classifier.load()
    estimator = model.backend.estimator
    featurizer = estimator.featurizer_
    rng = random.Random(seed)
    sample = [rng.choice(texts) for _ in range(rows)]
    model.predict_proba(sample[:500])  # warm caches the way a long run would
    times: dict[str, float] = {}

    def timed(name, function, *args):
        started = time.process_time()
        result = function(*args)
        times[name] = (time.process_time() - started) / len(sample) * 1e6
        return result

    try:
        normalised, folded = timed("normalise + fold (text_views)", text_views, sample)
        views = {"normalised": normalised, "folded": folded}
        matrices = []
        for vectorizer, (analyzer, view, ngrams) in zip(featurizer.vectorizers_, featurizer._blocks(), strict=True):
            terms = len(getattr(vectorizer, "vocabulary_", ()))
            name = f"tfidf {analyzer} {ngrams[0]}-{ngrams[1]} on {view} ({terms:,} terms)"
            matrices.append(timed(name, vectorizer.transform, views[view]))
        features = timed("hstack", sp.hstack, matrices, "csr")
        timed("linear heads + sigmoid", estimator.decision_from_features, features)
    except (AttributeError, TypeError, ValueError) as error:
        print(f"(stage breakdown unavailable: the featurizer changed: {error})")
        times.clear()
    timed("total predict_proba (again, end to end)", model.predict_proba, sample)
    return times


def profile_in_process(texts: list[str], rows: int, top: int) -> None:
    """cProfile of ``score_file`` in this process (jobs=1) on ``rows`` sampled texts."""
    import cProfile
    import pstats

    import classifier
    from classifier.scoring import ScoreOptions, score_file

    model = classifier.load()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "profile.csv"
        write_rows(source, texts, rows, seed=1)
        profiler = cProfile.Profile()
        profiler.enable()
        score_file(model, source, Path(folder) / "out.csv", ScoreOptions(jobs=1))
        profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    print(f"\n== cProfile of score_file, {rows:,} rows, jobs=1 (cumulative, top {top}) ==")
    stats.print_stats(top)
    stats.sort_stats("tottime")
    print(f"== by own time (top {top}) ==")
    stats.print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000, help="rows to score (default 200,000)")
    parser.add_argument("--jobs", type=int, default=None, help="--jobs for vnguard (default: vnguard's default)")
    parser.add_argument("--rss-rows", type=int, default=0, help="also score this many rows for peak memory "
                        "(e.g. 1000000)")
    parser.add_argument("--train-rows", type=int, default=20_000, help="labelled rows to fit the baseline on")
    parser.add_argument("--profile", type=int, default=0, metavar="ROWS", help="also time each step of predict_proba "
                        "and cProfile score_file on ROWS rows")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs of each (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="write the results here as JSON")
    args = parser.parse_args(argv)

    texts, origin = comment_texts()
    report: dict = {"rows": args.rows, "source": origin, "cpus": os.cpu_count(),
                    "load_average": os.getloadavg()}
    print(f"texts from {origin}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="vnguard-bench-") as folder:
        source = Path(folder) / "posts.csv"
        sample = write_rows(source, texts, args.rows, args.seed)
        print(f"input: {args.rows:,} rows, {source.stat().st_size / 1e6:.1f} MB")

        # Best of --repeat runs, alternating vnguard and the baseline: other work on the machine only slows runs down.
        fitted = fit_baseline(args.train_rows, args.seed)
        runs, bare_runs = [], []
        for _ in range(args.repeat):
            runs.append(run_vnguard(source, Path(folder) / "scored.csv", args.jobs, []))
            bare_runs.append(time_baseline(fitted, sample))
        score = min(runs, key=lambda result: result["wall_s"])
        score["rows_per_s"] = args.rows / score["wall_s"]
        report["vnguard"] = score
        print(f"vnguard score: {score['wall_s']:.1f} s wall, {score['rows_per_s']:,.0f} rows/s, "
              f"CPU {score['cpu_s']:.1f} s; peak memory: largest process {score['max_process_rss_mb']:.0f} MB, "
              f"tree PSS {score['peak_tree_pss_mb']:.0f} MB, tree RSS {score['peak_tree_rss_mb']:.0f} MB")

        bare = min(bare_runs, key=lambda result: result["wall_s"])
        bare["rows_per_s"] = args.rows / bare["wall_s"]
        report["baseline"] = bare
        ratio = score["wall_s"] / bare["wall_s"]
        report["wall_ratio"] = ratio
        report["cpu_ratio"] = score["cpu_s"] / bare["cpu_s"]
        print(f"bare sklearn baseline (1 process, fitted on {bare['train_rows']:,} rows, {bare['features']:,} "
              f"features): {bare['wall_s']:.1f} s wall, {bare['rows_per_s']:,.0f} rows/s, CPU {bare['cpu_s']:.1f} s")
        print(f"ratio vnguard wall / baseline wall: {ratio:.2f} (target <= 1.5); "
              f"vnguard rows/s {score['rows_per_s']:,.0f} (target >= 10,000)")
        print(f"CPU-time ratio vnguard / baseline: {report['cpu_ratio']:.2f} (vnguard's CPU time includes start-up, "
              "model loading, reading and writing); load average now "
              f"{os.getloadavg()[0]:.2f} — wall times are only meaningful on an otherwise idle machine")
        os.unlink(Path(folder) / "scored.csv")

        if args.rss_rows:
            big = Path(folder) / "big.csv"
            os.unlink(source)
            write_rows(big, texts, args.rss_rows, args.seed + 1)
            result = run_vnguard(big, Path(folder) / "big.scored.csv", args.jobs, [])
            result["rows"] = args.rss_rows
            result["rows_per_s"] = args.rss_rows / result["wall_s"]
            report["at_scale"] = result
            print(f"{args.rss_rows:,} rows: {result['wall_s']:.1f} s, {result['rows_per_s']:,.0f} rows/s; peak memory:"
                  f" largest process {result['max_process_rss_mb']:.0f} MB, tree PSS "
                  f"{result['peak_tree_pss_mb']:.0f} MB, tree RSS {result['peak_tree_rss_mb']:.0f} MB (target <= 1 GB)")

    if args.profile:
        stages = stage_breakdown(texts, args.profile, args.seed)
        report["stages_us_per_row"] = stages
        print(f"\n== default model predict_proba, {args.profile:,} rows, one process: CPU microseconds per row ==")
        for name, micros in stages.items():
            print(f"{micros:8.1f}  {name}")
        profile_in_process(texts, args.profile, top=25)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
