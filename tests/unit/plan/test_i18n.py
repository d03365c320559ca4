"""The family copy's words in English and Spanish."""

from datetime import date

from smart_app.plan import i18n


def test_every_label_exists_in_every_supported_language():
    english = set(i18n.LABELS["en"])
    for lang in i18n.SUPPORTED_LANGUAGES:
        assert set(i18n.LABELS[lang]) == english, lang
        assert set(i18n.ROLE_LABELS[lang]) == set(i18n.ROLE_LABELS["en"])
        assert set(i18n.ABOUT_LABELS[lang]) == set(i18n.ABOUT_LABELS["en"])


def test_spanish_labels_are_translated_not_copied():
    same = [k for k in i18n.LABELS["en"] if i18n.LABELS["en"][k] == i18n.LABELS["es"][k]]
    assert same == [], same


def test_a_language_is_recognised_by_code_tag_or_name():
    assert i18n.language_from_text("Spanish") == "es"
    assert i18n.language_from_text("Español") == "es"
    assert i18n.language_from_text("es-MX") == "es"
    assert i18n.language_from_text("Vietnamese") is None
    assert i18n.supported("ES") == "es" and i18n.supported("vi") is None


def test_a_family_whose_language_has_no_copy_gets_english():
    assert i18n.choose_language(None, "vi", "Vietnamese") == "en"
    assert i18n.choose_language("", "Spanish") == "es"


def test_dates_are_written_out_in_the_family_language():
    day = date(2026, 3, 4)
    assert i18n.format_date(day, "en") == "4 March 2026"
    assert i18n.format_date(day, "es") == "4 de marzo de 2026"
    assert i18n.format_date(None, "es") == ""


def test_unknown_labels_fall_back_to_english_and_roles_to_their_code():
    assert i18n.labels("fr")["allergies"] == "Allergies"
    assert i18n.role_label("school-nurse", "es") == "Enfermero(a) escolar"
    assert i18n.role_label("new-role", "en") == "New role"


def test_the_short_date_form_is_the_one_pages_and_history_use():
    assert i18n.format_date(date(2026, 12, 3), "en", short=True) == "3 Dec 2026"
    assert i18n.format_date(date(2026, 9, 30), short=True) == "30 Sep 2026"
    assert i18n.format_date(date(2026, 1, 5), "es", short=True) == "5 ene 2026"
    assert i18n.format_date(None, short=True) == ""
