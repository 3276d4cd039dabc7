"""The normaliser: table-driven cases, the data files, offsets and hypothesis properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier.normalize import (
    analyze,
    clear_caches,
    extract_entities,
    fold_accents,
    normalize,
    sensitive_words,
    teencode,
)
from classifier.normalize.lexicon import canonical_forms

NFD = lambda text: unicodedata.normalize("NFD", text)  # noqa: E731

CASES = [
    # NFC / NFD
    (NFD("Mày ngu quá"), "mày ngu quá"),
    (NFD("Hoà bình"), "hòa bình"),
    (NFD("Người Việt"), "người việt"),
    (NFD("ĐẸP TRAI"), "đẹp trai"),
    (NFD("thuỷ thủ khoẻ"), "thủy thủ khỏe"),
    # tone placement: new style -> old style; "qu", "gi" keep their marks
    ("hoà", "hòa"),
    ("hòa", "hòa"),
    ("khoẻ", "khỏe"),
    ("khỏe", "khỏe"),
    ("thuỷ", "thủy"),
    ("thủy", "thủy"),
    ("quý", "quý"),
    ("qua", "qua"),
    ("gia", "gia"),
    ("quà", "quà"),
    ("già", "già"),
    ("uỷ ban", "ủy ban"),
    ("toà án", "tòa án"),
    ("hoạ sĩ", "họa sĩ"),
    ("loè loẹt", "lòe loẹt"),
    ("tuỳ", "tùy"),
    ("huỷ", "hủy"),
    ("quỳ", "quỳ"),
    ("hoàng", "hoàng"),
    ("Thoả thuận", "thỏa thuận"),
    # case folding
    ("XIN CHÀO", "xin chào"),
    ("Hà Nội", "hà nội"),
    ("İstanbul", "istanbul"),
    ("ĐƯỢC", "được"),
    # stretched letters
    ("nguuuuu", "ngu"),
    ("đẹppppp", "đẹp"),
    ("quáaaa", "quá"),
    ("ngủuuu", "ngủ"),
    ("vuiiiii quá", "vui quá"),
    ("xoong", "xoong"),
    ("Mày   NGUUUU vl", "mày ngu vãi lồn"),
    # separators inside words
    ("đ.m", "địt mẹ"),
    ("n.g.u", "ngu"),
    ("v.l", "vãi lồn"),
    ("c.o.n", "con"),
    ("m-à-y", "mày"),
    ("n_g_u", "ngu"),
    ("n...g...u", "ngu"),
    ("l.0.n", "lồn"),
    ("ngu.thằng", "ngu thằng"),
    ("vãi...thằng", "vãi thằng"),
    ("v.ậ.y...ý", "vậy ý"),
    ("đ.ó...n.ế.u", "đó nếu"),
    ("có/không", "có không"),
    # leetspeak
    ("l0n", "lồn"),
    ("d!t", "địt"),
    ("ch3t", "chết"),
    ("đ!t", "địt"),
    ("c4c", "cặc"),
    ("k0", "không"),
    ("m4y", "m4y"),
    ("xin!chào", "xin chào"),
    # spaced-out letters
    ("n g u", "ngu"),
    ("N G U", "ngu"),
    ("mày n g u vãi", "mày ngu vãi"),
    ("d i t", "địt"),
    ("n, g, u", "ngu"),
    ("t e l e g r a m", "telegram"),
    ("a b c", "a bạn chị"),
    # teencode
    ("k bít j", "không biết gì"),
    ("dc", "được"),
    ("ko", "không"),
    ("KO", "không"),
    ("đc chưa", "được chưa"),
    ("ck vk", "chồng vợ"),
    ("cmnr", "con mẹ nó rồi"),
    ("vcl", "vãi cả lồn"),
    ("iu", "yêu"),
    ("ntn", "như thế nào"),
    ("e iu a", "em yêu a"),
    # emoji kept as tokens
    ("😀😀", "😀 😀"),
    ("vui😂", "vui 😂"),
    ("ok 👍", "ok 👍"),
    ("❤️ em", "❤ em"),
    # emoticons
    (":)", ":)"),
    (":)))))", ":))"),
    ("=))", "=))"),
    ("<3", "<3"),
    (":v", ":v"),
    (":D", ":d"),
    ("^^", "^^"),
    ("haha :3", "haha :3"),
    # placeholders
    ("http://abc.com/x?y=1", "xxurl"),
    ("vào www.facebook.com/abc nhé", "vào xxurl nhé"),
    ("vào shopee.vn. nhé", "vào xxurl nhé"),
    ("email abc.def@gmail.com", "email xxemail"),
    ("0123456789", "xxphone"),
    ("gọi 0123 456 789 nhé", "gọi xxphone nhé"),
    ("0123.456.789", "xxphone"),
    ("0123-456-789", "xxphone"),
    ("+84 123 456 789", "xxphone"),
    ("+84123456789", "xxphone"),
    ("0123 4567 890", "xxphone"),
    ("sđt: 0123456789.", "số điện thoại xxphone"),
    ("@minh_anh", "xxmention"),
    ("@Minh.Anh chào", "xxmention chào"),
    # numbers and prices stay
    ("3.000đ", "3.000đ"),
    ("1,5 triệu", "1,5 triệu"),
    ("100k", "100k"),
    ("dân 7k, 4g", "dân 7k 4g"),
    ("120.000.000đ", "120.000.000đ"),
    ("2,5tr", "2,5tr"),
    ("1.000.000", "1.000.000"),
    ("3,14", "3,14"),
    ("100.000 200.000", "100.000 200.000"),
    # dates and times stay, and phone numbers do not eat them
    ("12/5/2024", "12/5/2024"),
    ("12-5", "12-5"),
    ("02.05.2024", "02.05.2024"),
    ("02.05.2024 10 giờ", "02.05.2024 10 giờ"),
    ("02 05 2024", "02 05 2024"),
    ("12:30", "12:30"),
    ("7h30", "7h30"),
    ("0123 45", "0123 45"),
    ("12 345 678 901", "12 345 678 901"),
    # abbreviations stay
    ("t.p", "t.p"),
    ("Đ/c", "đ/c"),
    ("TP.HCM", "tp.hcm"),
    ("v.v", "v.v"),
    ("a/e", "a/e"),
    ("GS.TS", "gs.ts"),
    ("Q.1", "q.1"),
    # real words that look like teencode stay
    ("cho", "cho"),
    ("nha", "nha"),
    ("may mắn", "may mắn"),
    ("deo kính", "deo kính"),
    ("hình ảnh", "hình ảnh"),
    ("tử hình", "tử hình"),
    ("dĩ nhiên", "dĩ nhiên"),
    ("hăm dọa", "hăm dọa"),
    ("mài dao", "mài dao"),
    ("Bồ Đào Nha", "bồ đào nha"),
    ("hoa hồng", "hoa hồng"),
    ("tàu hỏa", "tàu hỏa"),
    ("mì tôm", "mì tôm"),
    ("đi làm", "đi làm"),
    ("đẹp lắm", "đẹp lắm"),
    ("bả vai", "bả vai"),
    ("xanh biếc", "xanh biếc"),
    # English stays
    ("hello world", "hello world"),
    ("good morning", "good morning"),
    ("thank you", "thank you"),
    ("I love you", "i love you"),
    ("call me", "call me"),
    ("sorry", "sorry"),
    ("cute", "cute"),
    ("send the link", "send the link"),
    # empty and blank
    ("", ""),
    ("   \n\t ", ""),
    ("...!!!", ""),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_normalize_cases(text, expected):
    assert normalize(text) == expected
    assert normalize(expected) == expected
    assert analyze(text).text == expected


def test_enough_cases():
    assert len(CASES) >= 100


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gọi 0123 456 789 hoặc vào http://abc.vn/x.", [("phone", "0123 456 789"), ("url", "http://abc.vn/x")]),
        ("sđt +84 123 456 789 nhé", [("phone", "+84 123 456 789")]),
        ("Mail: Minh.Anh@Gmail.com, @Lan_Anh ơi", [("email", "Minh.Anh@Gmail.com"), ("mention", "@Lan_Anh")]),
        ("xem Shopee.VN đi", [("url", "Shopee.VN")]),
        ("giá 3.000đ ngày 12/5/2024 lúc 12:30", []),
        ("02.05.2024 10 giờ", []),
    ],
)
def test_extract_entities_keeps_originals(text, expected):
    entities = extract_entities(text)
    assert [(entity.kind, entity.text) for entity in entities] == expected
    for entity in entities:
        assert text[entity.start : entity.end] == entity.text


def test_analyze_maps_tokens_to_original_text():
    text = NFD("Mày NGUUU vl, n g u 😀 hoà")
    analysed = analyze(text)
    pairs = [(token.norm, unicodedata.normalize("NFC", analysed.surface(token))) for token in analysed.tokens]
    assert pairs == [("mày", "Mày"), ("ngu", "NGUUU"), ("vãi", "vl"), ("lồn", "vl"), ("ngu", "n g u"),
                     ("😀", "😀"), ("hòa", "hoà")]


def test_token_folded_view():
    assert [token.folded for token in analyze("Đẹp quá").tokens] == ["dep", "qua"]
    assert fold_accents("Đẹp quá") == "Dep qua"


def test_non_strings_raise_type_error():
    with pytest.raises(TypeError):
        normalize(None)
    with pytest.raises(TypeError):
        analyze(b"bytes")


def test_results_do_not_depend_on_caches():
    texts = ["mày ngu vl", "n g u", "k bít j", "gọi 0123 456 789", "e k a", "hoà bình 😀"]
    warm = [normalize(text) for text in texts]
    clear_caches()
    assert [normalize(text) for text in reversed(texts)] == warm[::-1]


# --- data files ---------------------------------------------------------------------------------

def test_teencode_table_size_and_diacritics():
    table = teencode()
    assert len(table) >= 300
    with_marks = [key for key in table if fold_accents(key) != key]
    without_marks = [key for key in table if fold_accents(key) == key]
    assert len(with_marks) >= 50 and len(without_marks) >= 150


def test_teencode_entries_are_reachable_and_stable():
    table = teencode()
    unreachable = {key: value for key, value in table.items() if normalize(key) != value}
    unstable = {key: value for key, value in table.items() if normalize(value) != value}
    assert not unreachable and not unstable


def test_teencode_keys_do_not_fold_onto_other_words():
    # A plain-ASCII key whose expansion does not fold back to it would make text typed without
    # diacritics normalise differently from the same text with them ("à" -> "a" -> "anh").
    for ascii_word, accented in [("a", "à"), ("tau", "tàu"), ("mi", "mì"), ("hong", "hồng"), ("tui", "tụi")]:
        assert fold_accents(normalize(accented)) == normalize(ascii_word)


def test_sensitive_words_canonical_forms_are_stable():
    assert len(sensitive_words()) >= 100
    for form in canonical_forms().values():
        once = normalize(form)
        assert normalize(once) == once


# --- properties -----------------------------------------------------------------------------------

_WORDS = [
    *"aàáạăâđeêioôơuưy ngumlkt0134.!@$-_/:,+ \n😀)İΣ",
    "uk", "ừ", "kkk", "0912", "345", "678", "+84", "...", "vl", "dm", "ák", "tp.hcm", "http", "://", ".com",
    "xxurl", "q.1", "a/e", "12:30", "1,5", "<3", ":v", "=))", "hoà", "n g u", "0123 456 789", "đ.m", "a@b.vn",
    "@ab", "www.", "l0n", "d!t", "ch3t", "Mày", "NGU", "không", "được",
]
vietnamese_like = st.lists(st.sampled_from(_WORDS), max_size=25).map("".join)
# Loose combining marks too, as NFD input and broken keyboards produce them.
marked_like = st.lists(st.sampled_from([*_WORDS, "\u0301", "\u0300", "\u0323", "\u0306"]), max_size=25).map("".join)
any_text = st.one_of(st.text(), marked_like)
_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(any_text)
def test_never_raises_and_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once
    extract_entities(text)


@_SETTINGS
@given(any_text)
def test_analyze_agrees_with_normalize_and_spans_are_inside(text):
    analysed = analyze(text)
    assert analysed.text == normalize(text)
    previous = 0
    for token in analysed.tokens:
        assert 0 <= token.start <= token.end <= len(text)
        assert token.start >= previous
        assert token.norm and " " not in token.norm
        previous = token.start


def _assert_nfd_offsets(text: str, *, exact: bool) -> None:
    composed = analyze(unicodedata.normalize("NFC", text))
    decomposed = analyze(unicodedata.normalize("NFD", text))
    assert [t.norm for t in decomposed.tokens] == [t.norm for t in composed.tokens]
    for nfd_token, nfc_token in zip(decomposed.tokens, composed.tokens, strict=True):
        got = unicodedata.normalize("NFC", decomposed.surface(nfd_token))
        want = composed.surface(nfc_token)
        if exact:
            assert got == want
        else:
            # Marks that NFC cannot compose stay in the cluster of the letter they follow.
            assert got.startswith(want) and all(unicodedata.combining(c) for c in got[len(want):])


@_SETTINGS
@given(vietnamese_like)
def test_offsets_point_at_the_same_text_for_nfd_input(text):
    _assert_nfd_offsets(unicodedata.normalize("NFC", text), exact=True)


@_SETTINGS
@given(any_text)
def test_offsets_for_nfd_input_of_any_text(text):
    _assert_nfd_offsets(text, exact=False)
