"""The authored seed corpus meets its datasheet: schema, counts, no near-duplicates, a fixed split."""

from collections import Counter

import pytest

from classifier.corpus import check_corpus, near_duplicates, read_seed, split_of, split_part
from classifier.errors import DataError

MIN_POSITIVES = {"grooming": 400, "harassment": 400, "threat": 400, "sexual": 400, "self_harm": 400,
                 "personal_info": 400, "scam": 400, "offensive": 150, "hate": 150}


@pytest.fixture(scope="module")
def rows():
    return read_seed()


@pytest.fixture(scope="module")
def report(rows):
    return check_corpus(rows)


def test_schema_labels_tags_and_ids_are_valid(report):
    assert report.problems == []


def test_no_near_duplicates(report):
    assert report.near_duplicates == []


@pytest.mark.parametrize("label", sorted(MIN_POSITIVES))
def test_per_label_counts(report, label):
    assert report.per_label[label] >= MIN_POSITIVES[label]


def test_benign_and_hard_negative_counts(report):
    assert report.benign >= 2000
    assert report.hard_negatives >= 800


def test_every_row_has_script_and_voice_tags(rows):
    for row in rows:
        assert ("diacritics" in row.tags) != ("no_diacritics" in row.tags), row.id
        assert {"child", "teen", "adult"} & set(row.tags), row.id


def test_no_real_phone_numbers(rows):
    from classifier.normalize import extract_entities

    for row in rows:
        for entity in extract_entities(row.text):
            if entity.kind == "phone":
                digits = "".join(c for c in entity.text if c.isdigit())
                assert digits.startswith(("01", "841")), (row.id, entity.text)


def test_split_is_fixed_and_stratified(rows):
    assignment = split_of(rows)
    assert assignment == split_of(list(reversed(rows)))
    assert split_part("gr-0001") == assignment["gr-0001"]
    totals, heldout = Counter(), Counter()
    for row in rows:
        for label in row.labels or ["benign"]:
            totals[label] += 1
            heldout[label] += assignment[row.id] == "heldout"
    for label, total in totals.items():
        assert 0.12 <= heldout[label] / total <= 0.28, label


def test_near_duplicate_detection():
    texts = ["anh ơi gửi em cái ảnh đi nhé", "anh ơi gửi em cái ảnh đi nha nhé", "hôm nay trời đẹp"]
    assert [(i, j) for i, j, _ in near_duplicates(texts)] == [(0, 1)]
    assert near_duplicates(["a b c d e", "a b c x y"]) == []


def test_read_seed_reports_malformed_rows(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"id": "x-1", "text": "chào"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="missing field"):
        read_seed(tmp_path)


def test_check_corpus_names_rule_breaking_rows(tmp_path):
    rows = ['{"id": "x-1", "text": "bọn parky", "labels": ["hate"], "hard_negative": false, "tags": ["teen"]}',
            '{"id": "x-2", "text": "đm", "labels": ["offensive", "offensive"], "hard_negative": false, "tags": []}',
            '{"id": "x-3", "text": "mẹ đón con", "labels": ["grooming"], "hard_negative": true, "tags": []}']
    (tmp_path / "bad.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    problems = check_corpus(read_seed(tmp_path)).problems
    assert problems == ["bad.jsonl:1: a hate row is offensive too (label guide, rule 12)",
                        "bad.jsonl:2: a label is repeated", "bad.jsonl:3: a hard negative must have no labels"]


def test_near_duplicates_finds_exactly_the_brute_force_pairs():
    import random

    rng = random.Random(7)
    words = ["em", "anh", "ơi", "gửi", "ảnh", "đi", "nhé", "mai", "gặp", "ở", "đâu", "chat", "riêng", "nha"]
    texts = [" ".join(rng.choices(words, k=rng.randint(1, 7))) for _ in range(400)]
    texts += [texts[5] + " nha", texts[9].upper()]
    sets = [set(t.lower().split()) for t in texts]
    expected = sorted((i, j) for i in range(len(texts)) for j in range(i + 1, len(texts))
                      if len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= 0.8)
    found = near_duplicates(texts)
    assert [(i, j) for i, j, _ in found] == expected
    assert all(score >= 0.8 for _, _, score in found) and len(expected) > 100


def test_probe_set_is_valid_and_shares_no_near_duplicate_with_training(rows):
    from classifier.corpus import SEED_DIR

    probe = read_seed(SEED_DIR.parent / "probe")
    report = check_corpus(probe)
    assert report.problems == [] and report.near_duplicates == []
    assert min(report.per_label.values()) >= 90 and report.hard_negatives >= 300
    texts = [row.text for row in probe] + [row.text for row in rows]
    leaks = [(probe[i].id, rows[j - len(probe)].id) for i, j, _ in near_duplicates(texts) if i < len(probe) <= j]
    assert leaks == []
