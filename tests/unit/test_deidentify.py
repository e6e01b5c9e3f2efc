import json
from pathlib import Path

import pytest

from samrad.deidentify import BLOCKING_KINDS, KINDS, Finding, luhn_ok, names, scan
from tests.deidentify_corpus import evaluate, load_corpus, parse_line

#: The personnummer project's shared vectors (MIT), copied from ../shared/testdata so the suite never skips.
TESTDATA = Path(__file__).resolve().parents[1] / "data" / "personnummer"
FORMATS = ("long_format", "short_format", "separated_format", "separated_long")
KIND_OF = {"ssn": "personnummer", "con": "samordningsnummer", "interim": "interim_number"}
SENTENCES = (
    "Flickan har personnummer {} enligt skolans anteckningar.",
    "{} står i orosanmälan.",
    "Enligt journalen ({}) har hon varit på BUP.",
    "Pappans nummer är {}.",
)


def found(text: str) -> list[tuple[str, str, str]]:
    return [(f.kind, f.text_in(text), f.severity) for f in scan(text)]


def _vectors(name: str):
    return json.loads((TESTDATA / name).read_text(encoding="utf-8"))


def _valid_identity_numbers():
    for name in ("list.json", "interim.json"):
        for entry in _vectors(name):
            if entry["valid"]:
                for fmt in FORMATS:
                    yield entry[fmt], KIND_OF[entry["type"]]


# --- Identity numbers: the shared test vectors ----------------------------------------------------------


@pytest.mark.parametrize("template", SENTENCES)
def test_every_valid_identity_number_in_every_format_is_found(template):
    vectors = list(_valid_identity_numbers())
    assert len(vectors) == 76
    for number, kind in vectors:
        text = template.format(number)
        assert found(text) == [(kind, number, "block")], text


@pytest.mark.parametrize("template", SENTENCES)
def test_organisation_numbers_are_not_personal_identity_numbers(template):
    for entry in _vectors("orgnumber.json"):
        for fmt in ("short_format", "separated_format"):
            text = template.format(entry[fmt])
            assert found(text) == [], text


def test_numbers_failing_the_luhn_check_or_the_date_are_not_reported():
    invalid = [e for e in _vectors("list.json") if not e["valid"] and " " not in e["long_format"]]
    assert len(invalid) == 5
    for entry in invalid:
        for fmt in FORMATS:
            assert found(f"Internt nummer {entry[fmt]} i vårt system.") == []


def test_an_interim_number_with_a_letter_outside_the_series_is_not_reported():
    assert found("Reservnummer 000101-E221 i remissen.") == []


def test_luhn():
    assert luhn_ok("8112189876") and not luhn_ok("8112189877")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pnr 811218-9876.", ("personnummer", "811218-9876")),
        ("pnr 19811218-9876.", ("personnummer", "19811218-9876")),
        ("pnr 811218 - 9876.", ("personnummer", "811218 - 9876")),
        ("pnr 811218 9876.", ("personnummer", "811218 9876")),
        ("snr 701063-2391.", ("samordningsnummer", "701063-2391")),
    ],
)
def test_separators_and_samordningsnummer(text, expected):
    assert [(k, t) for k, t, _s in found(text)] == [expected]


def test_impossible_dates_are_not_identity_numbers():
    assert found("Nummer 20231301-1234 och 811232-9876.") == []


# --- Every kind, and what blocks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "span"),
    [
        ("Ring 070-174 06 05 i kväll.", "phone", "070-174 06 05"),
        ("Ring +46 70 174 06 05 i kväll.", "phone", "+46 70 174 06 05"),
        ("Ring 0980-31 92 00 i kväll.", "phone", "0980-31 92 00"),
        ("Skriv till namn.efternamn@example.se i dag.", "email", "namn.efternamn@example.se"),
        ("Hon bor på Storgatan 12 B.", "address", "Storgatan 12 B"),
        ("Postnummer 972 31.", "postcode", "972 31"),
        ("Bilen ABC 123 står där.", "registration_plate", "ABC 123"),
        ("Bilen ABC 12D står där.", "registration_plate", "ABC 12D"),
        ("Hon är född 2009-03-14.", "date_of_birth", "2009-03-14"),
        ("Kuratorn har träffat Fatima.", "name", "Fatima"),
    ],
)
def test_each_kind_is_found_with_its_severity(text, kind, span):
    assert found(text) == [(kind, span, KINDS[kind])]


def test_numbers_and_contact_details_block_names_and_dates_warn():
    assert set(BLOCKING_KINDS) == {
        "personnummer",
        "samordningsnummer",
        "interim_number",
        "email",
        "phone",
        "registration_plate",
        "address",
        "postcode",
    }
    assert {k for k, s in KINDS.items() if s == "warn"} == {"name", "date_of_birth"}


def test_offsets_point_into_the_original_text():
    text = "Åsa, 15 år, ring 070-174 06 05."
    [name, phone] = scan(text)
    assert (name, phone) == (Finding(0, 3, "name", "warn"), Finding(17, 30, "phone", "block"))


def test_overlapping_candidates_keep_the_most_specific_kind():
    # A ten-digit number that is a valid personnummer is also a valid mobile number.
    assert found("Nummer 0002292399.") == [("personnummer", "0002292399", "block")]


def test_empty_text_has_no_findings():
    assert scan("") == [] and scan("   \n ") == []


# --- Ordinary case language is left alone -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Flickan är 15 år och har 3 syskon.",
        "Familjen kom 2016 och har bott här sedan 2019.",
        "Frågan gäller 14 kap. 1 § SoL och 2 § LVU.",
        "Mötet är kl. 13.00–15.00, samtalet 08.30-10.00.",
        "Bidraget är 12 000 kr i månaden och resan kostar 15 000 kronor.",
        "Vårt interna nummer 850312-1234 och dnr SN 2026/123.",
        "Kvinnofridslinjen 020-50 50 50 och Försäkringskassan 0771-524 524.",
        "Ring 112 eller 114 14, eller 1177 för råd.",
        "Ärendet UNA-2026-014 diskuterades.",
        "Mötet hölls den 11 mars 2026.",
        "Hon fyller 18 år i vår.",
        "Mina frågor gäller skyddet. Inga andra är inkopplade. Hans skola vet inget.",
        "I Lund och på Svea hovrätt.",
    ],
)
def test_ordinary_case_language_is_not_flagged(text):
    assert found(text) == []


def test_names_that_are_common_words_count_mid_sentence_or_next_to_a_name():
    assert found("Rosa kläder är förbjudna.") == []
    assert found("Hon pratade med Rosa igen.") == [("name", "Rosa", "warn")]
    assert found("Rosa Lind hörde bråket.") == [("name", "Rosa", "warn"), ("name", "Lind", "warn")]
    assert found("Vi träffades i Lund.") == []
    assert found("Grannen Anna Lund hörde bråket.") == [("name", "Anna", "warn"), ("name", "Lund", "warn")]


def test_genitive_and_double_names_are_found():
    assert found("Fatimas pappa och Anna-Karin.") == [
        ("name", "Fatimas", "warn"),
        ("name", "Anna-Karin", "warn"),
    ]


def test_lower_case_and_unknown_names_are_not_found():
    # Known limits of a list-based check (documented in the corpus file).
    assert found("fatima och Xylofonia") == []


def test_the_name_list_is_shipped_and_substantial():
    assert {"Fatima", "Mohammed", "Andersson", "Lantto", "Zahra", "Erik"} <= names()
    assert len(names()) > 450
    assert not {"Iris", "Freda", "Una", "Jordan", "Israel"} & names()


# --- The labelled corpus ----------------------------------------------------------------------------------


def test_corpus_markup_is_parsed_into_offsets():
    sentence = parse_line("Ring {{phone|070-174 06 05}} nu.")
    assert (sentence.text, [(lb.kind, lb.start, lb.end) for lb in sentence.labels]) == (
        "Ring 070-174 06 05 nu.",
        [("phone", 5, 18)],
    )


def test_recall_is_complete_for_every_blocking_kind_on_the_corpus():
    scores, _clean = evaluate(load_corpus())
    for kind in BLOCKING_KINDS:
        assert scores[kind].labelled >= 4, kind
        assert (kind, scores[kind].recall, scores[kind].misses) == (kind, 1.0, [])


def test_the_clean_corpus_sentences_have_no_findings():
    sentences = load_corpus()
    clean = [s for s in sentences if s.clean]
    assert len(clean) >= 80
    flagged = {s.text: found(s.text) for s in clean if scan(s.text)}
    assert flagged == {}


def test_the_warnings_on_the_corpus_have_no_false_positives():
    scores, _clean = evaluate(load_corpus())
    for kind in ("name", "date_of_birth"):
        assert (kind, scores[kind].spurious) == (kind, [])
