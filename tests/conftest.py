from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from classifier.recipes import shared_datasets

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared() -> Path:
    root = shared_datasets()
    if root is None:
        pytest.skip("../shared/datasets not found: public-dataset tests skipped (set VNGUARD_SHARED_DATASETS)")
    return root


@pytest.fixture(scope="session")
def default_model():
    import classifier

    return classifier.load()


# A small corpus made here, so that training tests need no external data.
_CLEAN = ["chúc mừng sinh nhật bạn nhé", "hôm nay trời đẹp quá", "mai đi học nhớ mang áo mưa",
          "cảm ơn cô giáo đã giúp đỡ", "món phở này ngon thật", "cả nhà cuối tuần đi chơi công viên",
          "bài hát này nghe hay ghê", "chiều nay đá bóng không", "con nhớ ăn cơm đúng giờ nhé",
          "shop giao hàng nhanh lắm", "chúc cả lớp thi tốt", "xem phim vui quá trời"]
_TOXIC = ["mày ngu vl", "đồ óc chó", "thằng khốn nạn cút đi", "đm mày câm mồm", "con chó này láo vl",
          "ngu như bò", "địt mẹ thằng này", "mặt l0n", "bọn mày ngu hết", "cút mẹ mày đi",
          "óc lợn à mày", "thằng ngu kia"]
_GROOM = ["em ơi đừng nói với bố mẹ nhé", "gửi anh ảnh riêng tư đi em", "tối nay em ở nhà một mình à",
          "anh nạp kim cương cho em, bí mật nha", "mình qua telegram nói chuyện riêng nhé",
          "mai tan học anh đón em, đừng cho mẹ biết"]


def tiny_rows(multilabel: bool = False) -> list[tuple[str, object]]:
    rng = random.Random(0)
    rows: list[tuple[str, object]] = []
    for i in range(3):
        for text in _CLEAN:
            rows.append((f"{text} {i}" if i else text, [] if multilabel else "clean"))
        for text in _TOXIC:
            rows.append((f"{text} {i}" if i else text, ["offensive"] if multilabel else "offensive"))
        if multilabel:
            for text in _GROOM:
                rows.append((f"{text} {i}" if i else text, ["grooming"]))
    rng.shuffle(rows)
    return rows


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    import csv

    path = tmp_path / "tiny.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(tiny_rows())
    return path


@pytest.fixture
def tiny_jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for text, labels in tiny_rows(multilabel=True):
            handle.write(json.dumps({"text": text, "labels": labels}, ensure_ascii=False) + "\n")
    return path
