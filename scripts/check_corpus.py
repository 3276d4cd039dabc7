"""Check the authored seed corpus: schema, label and tag names, unique ids, near-duplicates, counts.

    python scripts/check_corpus.py [--folder datasets/seed] [--json report.json]

Exits 1 when any problem or near-duplicate pair (token Jaccard >= 0.8) is found.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from classifier.corpus import SEED_DIR, check_corpus, read_seed, split_of


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=SEED_DIR)
    parser.add_argument("--json", type=Path, default=None, help="write the report as JSON here")
    args = parser.parse_args(argv)
    rows = read_seed(args.folder)
    report = check_corpus(rows)
    parts = Counter(split_of(rows).values())
    print(f"rows {report.rows} · benign {report.benign} · hard negatives {report.hard_negatives} · "
          f"split {dict(parts)}")
    for label, count in report.per_label.items():
        print(f"  {label:<14} {count:>5}")
    print("tags: " + ", ".join(f"{tag} {count}" for tag, count in report.per_tag.items()))
    for problem in report.problems:
        print(f"problem: {problem}", file=sys.stderr)
    for first, second, score in report.near_duplicates:
        print(f"near-duplicate: {first} ~ {second} (Jaccard {score})", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({"rows": report.rows, "per_label": report.per_label, "benign": report.benign,
                                         "hard_negatives": report.hard_negatives, "per_tag": report.per_tag,
                                         "split": dict(parts), "problems": report.problems,
                                         "near_duplicates": report.near_duplicates}, ensure_ascii=False, indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
