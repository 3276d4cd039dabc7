import pytest

from classifier.taxonomy import LABEL_IDS, LABELS, RISK_LEVELS, Severity, display_name, get_label, risk_level


def test_nine_labels_in_documented_order():
    assert LABEL_IDS == ("offensive", "hate", "harassment", "threat", "sexual", "grooming", "self_harm",
                         "personal_info", "scam")


@pytest.mark.parametrize("label_id", LABEL_IDS)
def test_every_label_has_names_definitions_and_severity(label_id):
    label = LABELS[label_id]
    assert label_id.isascii()
    assert label.name_vi and label.name_en and label.definition_vi and label.definition_en
    assert label.name_vi != label.name_en
    assert isinstance(label.severity, Severity) and label.severity > Severity.NONE


def test_risk_level_is_highest_severity():
    assert risk_level([]) == "none"
    assert risk_level(["offensive"]) == "low"
    assert risk_level(["offensive", "hate"]) == "medium"
    assert risk_level(["offensive", "grooming"]) == "high"
    assert RISK_LEVELS == ("none", "low", "medium", "high")


def test_unknown_label_error_lists_valid_ids():
    with pytest.raises(KeyError, match="grooming"):
        get_label("toxic")


def test_display_names():
    assert display_name("grooming") == "Dụ dỗ trẻ em"
    assert display_name("grooming", "en") == "Child grooming"
    assert display_name("clean") == "Bình thường"
