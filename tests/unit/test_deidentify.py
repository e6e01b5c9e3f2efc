import json
from pathlib import Path

import pytest

from samrad.deidentify import (
    BLOCKING_KINDS,
    KINDS,
    Finding,
    blocking,
    luhn_ok,
    names,
    scan,
    warnings,
    without_overlaps,
)
from tests.deidentify_corpus import CORPUS, MORE, evaluate, load_corpus, parse_line

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


def test_names_in_lower_case_are_found_but_ordinary_words_and_unknown_names_are_not():
    # An unlisted name is unknown to a list-based check (a known limit).
    assert [f[1] for f in found("fatima och Xylofonia")] == ["fatima"]
    assert [f[1] for f in found("Flickan heter fatima.")] == ["fatima"]
    assert [f[1] for f in found("Vi pratade med pappan ahmed i går.")] == ["ahmed"]
    assert [f[1] for f in found("Hon skrev fatima hassan på lappen.")] == ["fatima", "hassan"]
    # Ordinary words that are also names stay words in lower case, even next to a name.
    assert found("Pappan bor hos sin bror per vecka.") == []
    assert found("Mötet hölls den 15 jan.") == []
    assert found("Hon har liv och lust, säger hans mamma; björn och stig nämns i sagan.") == []


def test_names_in_capitals_are_names_but_the_fields_abbreviations_are_not():
    assert [f[1] for f in found("Hon skrev FATIMA HASSAN överst.")] == ["FATIMA", "HASSAN"]
    assert found("Vi använde SARA:SV och PATRIARK, och BUP var med.") == []


def test_names_with_letters_beyond_swedish_are_found():
    assert [f[1] for f in found("Hon bor hos Máret och Ánde.")] == ["Máret", "Ánde"]


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


def test_the_second_corpus_is_found_completely():
    """Written after the first (issue H): other backgrounds' names, lower case and capitals, numbers and
    e-mail in other shapes, c/o and box addresses."""
    scores, clean = evaluate(load_corpus(MORE))
    assert clean >= 25
    for kind in ("personnummer", "email", "phone", "address", "postcode", "name"):
        assert scores[kind].labelled >= 2, kind
        assert (kind, scores[kind].recall, scores[kind].misses) == (kind, 1.0, [])
    assert scores["name"].labelled >= 25


@pytest.mark.parametrize("path", [CORPUS, MORE], ids=["corpus", "more"])
def test_the_clean_sentences_have_no_findings(path):
    """Professional text: law references, Dnr, organisation numbers, 112, 114 14, 1177, 020 numbers."""
    sentences = load_corpus(path)
    clean = [s for s in sentences if s.clean]
    assert len(clean) >= 25
    flagged = {s.text: found(s.text) for s in clean if scan(s.text)}
    assert flagged == {}


@pytest.mark.parametrize("path", [CORPUS, MORE], ids=["corpus", "more"])
def test_the_warnings_on_the_corpus_have_no_false_positives(path):
    scores, _clean = evaluate(load_corpus(path))
    for kind in ("name", "date_of_birth"):
        assert (kind, scores[kind].spurious) == (kind, [])


# --- Edges that mutation testing found unpinned (`make mutation`) ---------------------------------------


@pytest.fixture(autouse=True, scope="module")
def fresh_name_list():
    """Read the shipped name lists anew for this module, so a broken reader fails here (the list is
    cached per process, and an earlier test would otherwise have filled the cache)."""
    names.cache_clear()
    yield
    names.cache_clear()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The first and the last day of the samordningsnummer range (day of birth + 60).
        ("Nummer 850161-1233.", [("samordningsnummer", "850161-1233", "block")]),
        ("Nummer 850191-1237.", [("samordningsnummer", "850191-1237", "block")]),
        # An interim number on a samordningsnummer's day is still an interim number.
        ("Nummer 850161-T233.", [("interim_number", "850161-T233", "block")]),
        # 29 February 2000 exists; in 1800 and 1900 it does not ("+" means a hundred years or older).
        ("Nummer 000229-1235.", [("personnummer", "000229-1235", "block")]),
        ("Nummer 20000229-1235.", [("personnummer", "20000229-1235", "block")]),
        ("Nummer 000229+1235.", []),
        ("Nummer 19000229-1235.", []),
        # An impossible date or a failed check digit does not stop the scan: the next number is found.
        ("Nummer 850231-1239 och 850161-1233.", [("samordningsnummer", "850161-1233", "block")]),
        ("Nummer 850161-1234 och 850161-1233.", [("samordningsnummer", "850161-1233", "block")]),
    ],
)
def test_identity_number_edges(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Numbers that are not a person's are skipped, and the scan goes on to the next one.
        ("Ring 020-123456 eller 070-123 45 67.", [("phone", "070-123 45 67", "block")]),
        ("Kl. 08.30-10.00, ring 070-123 45 67.", [("phone", "070-123 45 67", "block")]),
        ("Ring 114 14 eller skriv till 972 32 Luleå.", [("postcode", "972 32", "block")]),
        # Five digits after the word "postnummer" are a postcode, also without a place name.
        ("Postnummer 97231 står på kuvertet.", [("postcode", "97231", "block")]),
        ("Hon uppgav postnr: 972 31.", [("postcode", "972 31", "block")]),
        # An amount is not a postcode.
        ("Skulden är 123 45 kr.", []),
        ("Hon har 123 45 kronor i skuld.", []),
    ],
)
def test_numbers_that_belong_to_no_one(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A place word counts next to a first name, also at the very start and across a no-break space.
        ("Anna Lund kom.", ["Anna", "Lund"]),
        ("Anna\u00a0Lund kom.", ["Anna", "Lund"]),
        ("Lund Anna kom.", ["Lund", "Anna"]),
        # A common word with a capital: a name mid-sentence, an ordinary word after a sentence break,
        # however many spaces follow the break.
        ("& Stig kom.", ["Stig"]),
        ("Hon sa   Stig.", ["Stig"]),
        ("Ja.   Stig kom.", []),
        ("Ja!\nStig kom.", []),
        ("Punkter\nStig kom.", []),
        ("Stig kom.", []),
        # A genitive is the name's: a common word's genitive follows the same rule.
        ("Rosas bil står där.", []),
        ("Hon tog Rosas bil.", ["Rosas"]),
        # A name that ends in s, x or z takes no genitive s: "Maxs" is not Max's.
        ("Hon såg Maxs bil.", []),
        ("Hon såg Max bil.", ["Max"]),
        # A double name is judged by its first part; each part may be a genitive; a part that is no
        # name makes the word no name.
        ("Anna-Lisa kom.", ["Anna-Lisa"]),
        ("Hon tog Anna-Lisas bil.", ["Anna-Lisas"]),
        ("Hon läste Anna-Kurs.", []),
    ],
)
def test_name_edges(text, expected):
    assert [f.text_in(text) for f in scan(text) if f.kind == "name"] == expected


def _finding(start, end, kind):
    return Finding(start, end, kind, KINDS[kind])


def test_overlaps_keep_the_most_specific_kind_and_the_longest_and_findings_that_only_touch():
    phone = _finding(7, 17, "phone")
    personnummer = _finding(7, 17, "personnummer")
    name = _finding(20, 24, "name")
    short_address, long_address = _finding(30, 40, "address"), _finding(30, 48, "address")
    touching_left, touching_right = _finding(50, 55, "postcode"), _finding(55, 60, "name")
    kept = without_overlaps(
        [name, phone, short_address, touching_right, personnummer, long_address, touching_left]
    )
    assert kept == [personnummer, name, long_address, touching_left, touching_right]
    # A less specific finding that ends where a kept one starts stays too.
    left_of_postcode = _finding(45, 50, "name")
    assert without_overlaps([touching_left, left_of_postcode]) == [left_of_postcode, touching_left]
    # One character in common is an overlap.
    assert without_overlaps([_finding(0, 5, "email"), _finding(4, 9, "name")]) == [_finding(0, 5, "email")]


def test_blocking_and_warnings_split_by_severity():
    text = "Anna, 070-174 06 05, född 14 mars 2009."
    findings = scan(text)
    assert [f.kind for f in blocking(findings)] == ["phone"]
    assert [f.kind for f in warnings(findings)] == ["name", "date_of_birth"]


def test_hyphenated_names_in_lower_case_and_capitals_and_short_capital_names():
    assert [f[1] for f in found("Hon bor hos anna-lisa och al-rashid.")] == ["anna-lisa", "al-rashid"]
    assert [f[1] for f in found("Hon skrev ANNA-LISA och ALI på lappen.")] == ["ANNA-LISA", "ALI"]
