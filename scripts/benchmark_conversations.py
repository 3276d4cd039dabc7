"""Benchmark whole-chat grooming detection on the project's authored conversations.

Reads ``datasets/conversations/conversations.jsonl`` and its fixed split ``split.json`` (30 % of each
kind held out, chosen by hashing ids). The detector was tuned on the ``tune`` part only; the
``heldout`` part is only evaluated here. Every chat goes through ``classifier.analyze_conversation``.

Metrics (per part):

- grooming recall: grooming chats with an alert / grooming chats;
- false-positive rate: non-grooming chats with an alert / non-grooming chats (also per kind);
- alert delay: alert index − annotated ``onset`` for detected grooming chats (negative = before the
  onset); median, mean and share of alerts at or before the onset;
- latency-weighted F1 (Sadeque et al. 2018, as used for early sexual-predator detection by Vogt et
  al. 2021), measured from the annotated onset:

      k_u        = max(alert_u - onset_u, 0) + 1          (messages from the onset to the alert)
      penalty(k) = -1 + 2 / (1 + exp(-p * (k - 1))),      p = ln(3) / H, H = 5
      speed      = 1 - median_{detected grooming chats} penalty(k_u)
      F_latency  = F1 * speed

  An alert at the onset costs nothing; one H = 5 messages late costs half (penalty 0.5).
- conversation-level flags of other labels: bullying chats flagged ``harassment``, self-harm chats
  ``self_harm``, scam chats ``scam``, and how often benign/hard-negative chats get any of those.

Usage::

    python scripts/benchmark_conversations.py                 # held-out and tuning parts
    python scripts/benchmark_conversations.py --part tune --list   # one line per chat (ids only)
    python scripts/benchmark_conversations.py --json report.json --model models/default
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

from classifier.fileio import write_json_atomic

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "datasets" / "conversations"
PENALTY_HALF = 5
TARGETS = {"recall": 0.9, "fpr": 0.1, "median_delay": 2}
OTHER_FLAGS = {"bullying": "harassment", "self_harm": "self_harm", "scam": "scam"}


def load(data_dir: Path = DATA) -> tuple[list[dict], dict[str, str]]:
    """The conversations and ``{id: "heldout" | "tune"}`` from ``split.json``."""
    rows = [json.loads(line) for line in (data_dir / "conversations.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    split = json.loads((data_dir / "split.json").read_text(encoding="utf-8"))
    part = {cid: "heldout" for cid in split["heldout"]} | {cid: "tune" for cid in split["tune"]}
    missing = [row["id"] for row in rows if row["id"] not in part]
    if missing:
        raise SystemExit(f"split.json does not assign {len(missing)} conversations, e.g. {missing[:3]}")
    return rows, part


def penalty(k: int, half: int = PENALTY_HALF) -> float:
    p = math.log(3) / half
    return -1.0 + 2.0 / (1.0 + math.exp(-p * (k - 1)))


def evaluate(rows: list[dict], results: dict[str, dict]) -> dict:
    grooming = [r for r in rows if r["grooming"]]
    others = [r for r in rows if not r["grooming"]]
    detected = [r for r in grooming if results[r["id"]]["grooming"]["flagged"]]
    false_alarms = [r for r in others if results[r["id"]]["grooming"]["flagged"]]
    delays = [results[r["id"]]["grooming"]["onset"] - r["onset"] for r in detected]
    tp, fn, fp = len(detected), len(grooming) - len(detected), len(false_alarms)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / len(grooming) if grooming else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    speed = 1.0 - statistics.median([penalty(max(d, 0) + 1) for d in delays]) if delays else 0.0
    per_kind = {}
    for kind in sorted({r["kind"] for r in others}):
        chats = [r for r in others if r["kind"] == kind]
        per_kind[kind] = {"chats": len(chats),
                          "grooming_alerts": sum(results[r["id"]]["grooming"]["flagged"] for r in chats)}
    other_labels = {}
    for kind, label in OTHER_FLAGS.items():
        chats = [r for r in rows if r["kind"] == kind]
        if chats:
            other_labels[f"{kind}->{label}"] = {
                "chats": len(chats), "flagged": sum(label in results[r["id"]]["flags"] for r in chats)}
    calm = [r for r in rows if r["kind"] in ("benign", "hard_negative")]
    if calm:
        other_labels["benign+hard_negative->any_of_" + "/".join(OTHER_FLAGS.values())] = {
            "chats": len(calm),
            "flagged": sum(any(label in results[r["id"]]["flags"] for label in OTHER_FLAGS.values()) for r in calm)}
    return {
        "chats": len(rows), "grooming_chats": len(grooming), "non_grooming_chats": len(others),
        "recall": round(recall, 4), "false_positive_rate": round(fp / len(others), 4) if others else 0.0,
        "precision": round(precision, 4), "f1": round(f1, 4), "missed": fn, "false_alarms": fp,
        "median_delay": statistics.median(delays) if delays else None,
        "mean_delay": round(statistics.fmean(delays), 3) if delays else None,
        "alerts_at_or_before_onset": round(sum(d <= 0 for d in delays) / len(delays), 4) if delays else None,
        "speed": round(speed, 4), "latency_weighted_f1": round(f1 * speed, 4),
        "false_alarms_by_kind": per_kind, "other_labels": other_labels,
        "missed_ids": sorted(r["id"] for r in grooming if r not in detected),
        "false_alarm_ids": sorted(r["id"] for r in false_alarms),
    }


def run(model_name: str | None = None, parts: tuple[str, ...] = ("heldout", "tune"), listing: bool = False) -> dict:
    import classifier
    from classifier.conversation.analysis import resolve_model

    rows, part_of = load()
    model = resolve_model(model_name)
    started = time.perf_counter()
    results = {}
    for row in rows:
        if part_of[row["id"]] in parts:
            results[row["id"]] = classifier.analyze_conversation(row["messages"], model=model).to_dict()
    elapsed = time.perf_counter() - started
    report = {"model": str(getattr(model, "path", model_name) or "default"), "penalty_half": PENALTY_HALF,
              "targets": TARGETS, "seconds": round(elapsed, 2), "parts": {}}
    for part in parts:
        chosen = [r for r in rows if part_of[r["id"]] == part]
        report["parts"][part] = evaluate(chosen, results)
        if listing:
            for r in chosen:
                g = results[r["id"]]["grooming"]
                print(f"{part:8s} {r['id']} {r['kind']:13s} onset={r['onset']!s:>4} alert={g['onset']!s:>4} "
                      f"risk={g['risk']:.2f} who={g['participant']!s:.20} flags={','.join(results[r['id']]['flags'])}")
    return report


def _print(report: dict) -> None:
    print(f"model: {report['model']}  ({report['seconds']} s)")
    for part, m in report["parts"].items():
        print(f"\n[{part}] {m['chats']} chats: {m['grooming_chats']} grooming, {m['non_grooming_chats']} other")
        print(f"  grooming recall        {m['recall']:.3f}   (target >= {TARGETS['recall']})")
        print(f"  false-positive rate    {m['false_positive_rate']:.3f}   (target <= {TARGETS['fpr']})")
        print(f"  median alert delay     {m['median_delay']}   (target <= {TARGETS['median_delay']}); "
              f"mean {m['mean_delay']}; at/before onset {m['alerts_at_or_before_onset']}")
        print(f"  precision / F1         {m['precision']:.3f} / {m['f1']:.3f}")
        print(f"  latency-weighted F1    {m['latency_weighted_f1']:.3f}   (speed {m['speed']:.3f})")
        print(f"  grooming alerts by kind {json.dumps(m['false_alarms_by_kind'])}")
        print(f"  other labels           {json.dumps(m['other_labels'])}")
        print(f"  missed {m['missed_ids']}  false alarms {m['false_alarm_ids']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="bundled model name or model folder (default: default)")
    parser.add_argument("--part", choices=("heldout", "tune", "both"), default="both")
    parser.add_argument("--list", action="store_true", help="print one line per chat (ids and numbers, no text)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    args = parser.parse_args(argv)
    parts = ("heldout", "tune") if args.part == "both" else (args.part,)
    report = run(args.model, parts, args.list)
    _print(report)
    if args.json:
        write_json_atomic(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
