"""The one wording for sections: "none" only for a complete search; failed and incomplete always said."""

from datetime import date

import pytest

from smart_app.plan.record import SECTION_KEYS, SectionState
from smart_app.plan.section_status import StatusKind, no_known_allergies_text, section_status

DAY = date(2026, 12, 3)


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("key", [k for k in SECTION_KEYS])
def test_every_section_in_every_state_has_its_own_words(key, lang):
    failed = section_status(key, SectionState.FAILED, shown=0, read_on=DAY, lang=lang)
    partial = section_status(key, SectionState.INCOMPLETE, shown=3, read_on=DAY, lang=lang)
    absent = section_status(key, SectionState.NOT_OFFERED, shown=0, read_on=DAY, lang=lang)
    none = section_status(key, SectionState.COMPLETE, shown=0, read_on=DAY, lang=lang)
    assert section_status(key, SectionState.COMPLETE, shown=2, read_on=DAY, lang=lang) is None
    assert (failed.kind, partial.kind, absent.kind, none.kind) == (
        StatusKind.FAILED, StatusKind.INCOMPLETE, StatusKind.NOT_OFFERED, StatusKind.NONE)
    assert failed.is_unknown and partial.is_unknown and absent.is_unknown and not none.is_unknown
    for status in (failed, partial):
        assert "2026" in status.text  # the day the EHR was read
    for status in (failed, partial, absent):
        assert "no " not in status.text.lower().split(":")[0] or lang == "es"  # never reads as "none"
    assert len({failed.text, partial.text, absent.text, none.text}) == 4


def test_the_words_in_english_and_spanish():
    assert section_status("allergies", SectionState.FAILED, shown=0, read_on=DAY).text == (
        "The allergies could not be loaded from the health record on 3 December 2026: check the chart.")
    assert section_status("allergies", SectionState.COMPLETE, shown=0, read_on=DAY).text.startswith(
        "The health record lists no allergies. Not the same as")
    assert section_status("allergies", SectionState.FAILED, shown=0, read_on=DAY, lang="es").text == (
        "No se pudieron cargar alergias del expediente médico el 3 de diciembre de 2026: consulte el expediente.")


def test_no_known_allergies_is_a_statement_with_its_date():
    assert no_known_allergies_text("No known allergies", date(2026, 3, 3)) == (
        "No known allergies (recorded 3 March 2026)")
    assert no_known_allergies_text("No known allergies", date(2026, 3, 3), "es") == (
        "Sin alergias conocidas (registrado el 3 de marzo de 2026)")
