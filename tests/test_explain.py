"""Explanations: which words, for which labels, at which offsets; guidance and `vnguard check`."""

import json
import unicodedata

import numpy as np
import pytest
from typer.testing import CliRunner

from classifier.cli import app
from classifier.explain import WEAK_WORDS, evidence_mask, explain, linear_contributions, words_of
from classifier.guidance import contacts, guidance
from classifier.loaders import load_csv
from classifier.model import Classifier
from classifier.normalize import analyze
from classifier.training import train_model

GROOMING = "em ơi đừng kể với bố mẹ nhé, gửi anh ảnh riêng tư đi"
TYPED = [
    unicodedata.normalize("NFD", "Tối nay em ở nhà một mình à? Đừng nói với bố mẹ nhé, gửi anh ảnh riêng tư"),
    "k bít j hết, mày ngu vl",
    "đ.m thằng n g u, mặt l0n",
    "😡😡 mày ngu vl 👨‍👩‍👧 cút đi",
    "ngu ngu ngu, đồ ngu",
]


def assert_spans_fit(text, spans):
    tokens = analyze(text).tokens
    starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start : span.end] == span.text
        # Spans begin and end on word boundaries of the ORIGINAL text, never inside a word.
        assert span.start in starts and span.end in ends


@pytest.mark.parametrize("text", TYPED)
def test_offsets_survive_nfd_teencode_obfuscation_emoji_and_repeats(default_model, text):
    verdict = default_model.check(text)
    assert verdict.flagged and verdict.spans
    assert_spans_fit(text, verdict.spans)
    assert {s.label for s in verdict.spans} <= set(verdict.flagged)


def test_obfuscated_words_are_shown_whole(default_model):
    text = TYPED[2]
    shown = [s.text for s in default_model.check(text).spans if s.label == "offensive"]
    assert any("n g u" in piece for piece in shown) and any("l0n" in piece for piece in shown)


def test_nfd_spans_are_the_nfd_characters(default_model):
    text = TYPED[0]
    spans = default_model.check(text).spans
    assert any(unicodedata.normalize("NFC", s.text) == "gửi anh ảnh riêng tư" for s in spans)
    assert all(unicodedata.is_normalized("NFD", s.text) for s in spans)


def test_repeated_words_each_at_their_own_place(default_model):
    text = TYPED[4]
    covered = set()
    for span in default_model.check(text).spans:
        if span.label == "offensive":
            covered.update(range(span.start, span.end))
    for start in (0, 4, 8, text.rindex("ngu")):
        assert set(range(start, start + 3)) <= covered


def test_only_flagged_labels_are_explained(default_model):
    verdict = default_model.check(GROOMING)
    assert "grooming" in verdict.flagged
    assert {s.label for s in verdict.spans} <= set(verdict.flagged)
    assert default_model.explain("Chúc cả nhà cuối tuần vui vẻ nhé") == []
    assert default_model.check("Chúc cả nhà cuối tuần vui vẻ nhé").spans == []
    asked = explain(default_model, GROOMING, labels=["scam", "not-a-label"])
    assert {s.label for s in asked} <= {"scam"}


def test_weak_words_alone_are_not_grooming_evidence(default_model):
    spans = [s for s in default_model.check(GROOMING).spans if s.label == "grooming"]
    assert spans
    for span in spans:
        words = [t.norm for t in analyze(span.text).tokens]
        assert not set(words) <= WEAK_WORDS, span.text


def test_evidence_mask_rules():
    norms = ["em", "ơi", "gửi", "anh", "ảnh", "riêng", "tư"]
    joined = np.ones(len(norms) - 1, dtype=bool)
    none = np.zeros(len(norms), dtype=bool)
    scores = np.asarray([2.0, -0.5, 0.7, 0.1, 0.9, 0.4, 0.5])
    # "em" scores highest but stands alone; "anh" fills the gap inside "gửi anh ảnh riêng tư".
    assert evidence_mask(norms, scores, none, joined).tolist() == [False, False, True, True, True, True, True]
    # A strong weak word next to evidence joins it ...
    scores = np.asarray([0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    assert evidence_mask(norms, scores, none, joined).tolist() == [False, False, False, True, True, False, False]
    # ... but not across punctuation.
    split = joined.copy()
    split[3] = False  # "anh, ảnh"
    assert evidence_mask(norms, scores, none, split).tolist() == [False] * 4 + [True, False, False]
    # Only weak words carry weight: then they are the evidence.
    scores = np.asarray([1.5, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    assert evidence_mask(norms, scores, none, joined).tolist() == [True, False, False, True, False, False, False]
    # Lexicon phrases always count; nothing counts under the minimum score.
    lexicon = np.asarray([False] * 4 + [True, True, True])
    assert evidence_mask(norms, np.zeros(7), lexicon, joined).tolist() == lexicon.tolist()
    assert not evidence_mask(norms, np.full(7, 0.01), none, joined).any()


def test_linear_contributions_add_up_to_the_score(default_model, tiny_csv):
    estimator = default_model.backend.estimator
    for text in TYPED:
        norms = [" ".join(t.norm for t in word) for word in words_of(text)]
        parts = linear_contributions(default_model, norms, default_model.labels)
        _, intercept = estimator.linear_weights(estimator.featurizer_.transform([" ".join(norms)]),
                                                range(len(default_model.labels)))
        expected = estimator.decision_function([text])[0] - intercept
        np.testing.assert_allclose(parts.sum(axis=1), expected, rtol=1e-4, atol=1e-4)
    multiclass = train_model(load_csv(tiny_csv))
    scores = multiclass.backend.estimator.decision_function(["mày ngu vl"])[0]
    intercepts = multiclass.backend.estimator.intercept_
    parts = linear_contributions(multiclass, ["mày", "ngu", "vãi lồn"], multiclass.labels)
    centred = (scores - intercepts) - (scores - intercepts).mean()
    np.testing.assert_allclose(parts.sum(axis=1), centred, rtol=1e-4, atol=1e-4)
    spans = multiclass.explain("mày ngu vl")
    assert spans and {s.label for s in spans} == {"offensive"}


class OpaqueBackend:
    """A backend that only predicts: explanations must fall back to occlusion."""

    name = "opaque"

    def __init__(self, inner):
        self.inner = inner
        self.outputs = inner.outputs

    def predict_proba(self, texts):
        return self.inner.predict_proba(texts)


def test_occlusion_for_backends_without_linear_weights(default_model):
    model = Classifier(OpaqueBackend(default_model.backend), task="multilabel", thresholds=default_model.thresholds)
    for text in (GROOMING, TYPED[2]):
        verdict = model.check(text)
        assert verdict.spans
        assert_spans_fit(text, verdict.spans)
        assert {s.label for s in verdict.spans} <= set(verdict.flagged)


class FixedTagger:
    def __init__(self, runs):
        self.runs = runs

    def predict_spans(self, texts, *, gate=True):
        assert gate is False  # the model has already judged the whole text
        return [list(self.runs) for _ in texts]


def test_span_tagger_explains_offensive_and_falls_back_when_silent(default_model):
    text = "mày ngu vl"
    tagged = Classifier(default_model.backend, task="multilabel", thresholds=default_model.thresholds,
                        span_tagger=FixedTagger([(4, 6, 0.9)]))
    spans = tagged.check(text).spans
    assert [(s.start, s.end, s.text) for s in spans if s.label == "offensive"] == [(4, 6, "ng")]
    assert any(s.label != "offensive" for s in spans)  # harassment still comes from the linear model
    silent = Classifier(default_model.backend, task="multilabel", thresholds=default_model.thresholds,
                        span_tagger=FixedTagger([]))
    assert any(s.label == "offensive" for s in silent.check(text).spans)


# --- guidance and the command line -------------------------------------------------------------------------

runner = CliRunner()


def test_guidance_is_calm_on_clean_text_and_names_hotlines_when_needed():
    clean = guidance([], "none")
    assert clean["contacts"] == [] and clean["advice"] == [] and "111" not in json.dumps(clean, ensure_ascii=False)
    assert contacts(["offensive"]) == [] and contacts(["hate"]) == []
    assert contacts(["grooming"])[0].startswith("111") and any(c.startswith("113") for c in contacts(["grooming"]))
    assert contacts(["threat"], "en")[0].startswith("113")
    assert any("115" in c for c in contacts(["self_harm"]))
    assert "never blame" in " ".join(guidance(["grooming"], "high", "en")["advice"])


def test_check_grooming_shows_words_meaning_and_hotline():
    result = runner.invoke(app, ["check", GROOMING])
    assert result.exit_code == 0, result.output
    assert "Dụ dỗ trẻ em" in result.output and "Khi nào cần gọi" in result.output
    assert "111" in result.output and "Tổng đài quốc gia bảo vệ trẻ em" in result.output
    assert "ảnh riêng tư" in result.output and "không trách con" in result.output


def test_check_clean_text_says_nothing_alarming():
    for lang, calm in (("vi", "Không thấy dấu hiệu nguy hiểm"), ("en", "No sign of risk")):
        result = runner.invoke(app, ["check", "--lang", lang, "Chúc cả nhà cuối tuần vui vẻ nhé"])
        assert result.exit_code == 0 and calm in result.output
        for alarming in ("111", "113", "cần hành động", "act on it", "Khi nào cần gọi", "When to call"):
            assert alarming not in result.output


def test_check_json_has_spans_names_and_guidance():
    text = "Mai ra cổng trường tao đánh chết mày"
    result = runner.invoke(app, ["check", "--json", "--lang", "en", text])
    data = json.loads(result.output)
    assert "threat" in data["flagged"] and data["names"]["threat"] == "Threat"
    assert data["spans"] and all(text[s["start"] : s["end"]] == s["text"] for s in data["spans"])
    assert data["guidance"]["contacts"][0].startswith("113")
    english = runner.invoke(app, ["check", "--lang", "en", text])
    assert "When to call" in english.output and "113" in english.output
