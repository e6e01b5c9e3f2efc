"""The de-identification guard: find what may identify a person in a case's free text.

A pure module (no Flask, no database): :func:`scan` takes a text and returns :class:`Finding`s with
character offsets into that text, so that the web layer can highlight them in place.

What blocks a submission (``severity == "block"``): personal identity numbers (personnummer,
samordningsnummer, interim numbers), phone numbers, e-mail addresses, street addresses, postcodes and
registration plates. What only warns (``"warn"``, the submitter must confirm): names and dates of birth,
because names are also ordinary words and a date is only identifying next to a birth word.

The guard is deliberately quiet about ordinary case language: ages ("15 år"), counts, years, legal
references ("14 kap. 1 § SoL"), clock times, amounts of money, and numbers that look like identity
numbers but fail the date or Luhn check (internal reference numbers, organisation numbers).

Nothing here logs or stores text; callers must not either (only counts and kinds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher, PhoneNumberType

BLOCK = "block"
WARN = "warn"

#: Every kind the guard reports, with its severity. The order is the priority when findings overlap.
KINDS: dict[str, str] = {
    "personnummer": BLOCK,
    "samordningsnummer": BLOCK,
    "interim_number": BLOCK,
    "email": BLOCK,
    "phone": BLOCK,
    "registration_plate": BLOCK,
    "address": BLOCK,
    "postcode": BLOCK,
    "date_of_birth": WARN,
    "name": WARN,
}
BLOCKING_KINDS = tuple(k for k, s in KINDS.items() if s == BLOCK)
WARNING_KINDS = tuple(k for k, s in KINDS.items() if s == WARN)


@dataclass(frozen=True, order=True)
class Finding:
    start: int
    end: int
    kind: str
    severity: str

    def text_in(self, text: str) -> str:
        return text[self.start : self.end]


# --- Identity numbers -----------------------------------------------------------------------------

# 10 or 12 digits: (century)YYMMDD, an optional separator (-, +, or a space), then NNNC. For interim
# numbers the first serial digit is a letter. Digits directly around the match rule it out.
_ID_NUMBER = re.compile(
    r"(?<![\w+\u2013\u2212-])"
    r"(?P<century>18|19|20)?(?P<yy>\d{2})[ ]?(?P<mm>\d{2})[ ]?(?P<dd>\d{2})"  # "85 07 09" too
    r"(?:[ ]?(?P<sep>[-+.\u2013\u2212])[ ]?|[ ])?"  # word processors turn "-" into an en dash or minus
    r"(?P<serial>[\dTRSUWXJKLMN]\d{2})(?P<check>\d)"
    r"(?![\w])"
)
_INTERIM_LETTERS = "TRSUWXJKLMN"


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check used by Skatteverket for the last digit of a personnummer."""
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _valid_date(century: str | None, yy: str, mm: str, dd: int, sep: str | None) -> bool:
    centuries = [century] if century else (["18", "19"] if sep == "+" else ["19", "20"])
    for c in centuries:
        try:
            date(int(c + yy), int(mm), dd)
        except ValueError:
            continue
        return True
    return False


def _identity_numbers(text: str) -> list[Finding]:
    found = []
    for m in _ID_NUMBER.finditer(text):
        serial, day = m["serial"], int(m["dd"])
        interim = serial[0] in _INTERIM_LETTERS
        kind = "interim_number" if interim else "personnummer"
        if 61 <= day <= 91:
            day -= 60
            kind = "interim_number" if interim else "samordningsnummer"
        if not _valid_date(m["century"], m["yy"], m["mm"], day, m["sep"]) or serial[-3:] == "000":
            continue  # an impossible date, or the serial number 000 that is never issued
        digits = m["yy"] + m["mm"] + m["dd"] + ("1" + serial[1:] if interim else serial) + m["check"]
        if not luhn_ok(digits):
            continue
        found.append(Finding(m.start(), m.end(), kind, BLOCK))
    return found


# --- Phone numbers and e-mail ----------------------------------------------------------------------

#: Organisations' numbers, not a person's: freephone (020) and shared-cost (0771) lines such as the
#: national helplines and the agencies' switchboards.
_ORGANISATION_NUMBER_TYPES = {
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.PREMIUM_RATE,
}
_CLOCK = re.compile(r"\d{1,2}[.:]\d{2}")


def _phones(text: str) -> list[Finding]:
    found = []
    for m in PhoneNumberMatcher(text, "SE", leniency=Leniency.VALID):
        raw = m.raw_string
        if ":" in raw or _CLOCK.fullmatch(raw.split("-")[0].strip()):
            continue  # "08.30-10.00" is a time span
        if phonenumbers.number_type(m.number) in _ORGANISATION_NUMBER_TYPES:
            continue
        found.append(Finding(m.start, m.end, "phone", BLOCK))
    return found


_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Written out so that spam filters (or the guard) would not see it: "anna at hotmail dot com",
# "anna(at)gmail.se", "anna [at] outlook [dot] com", "anna at live punkt se". The spelled-out form needs
# a known top-level domain at the end, so that ordinary words are not taken for an address.
_AT = r"(?:\s*[(\[{]\s*(?:at|snabel-?a)\s*[)\]}]\s*|\s+(?:at|snabel-?a)\s+)"
_DOT = r"(?:\s*[(\[{]\s*(?:dot|punkt)\s*[)\]}]\s*|\s+(?:dot|punkt)\s+|\.)"
_SPELLED_EMAIL = re.compile(
    r"(?<![\w.+-])[\w+-]+(?:\.[\w+-]+)*"
    + _AT
    + r"[\w-]+(?:"
    + _DOT
    + r"[\w-]+)*"
    + _DOT
    + r"(?:se|com|nu|net|org|fi|no|dk|eu|info|io|de|uk|fr|it|es|ch|at|be|nl|pl)(?![\w])(?!\.\w)",
    re.IGNORECASE,
)


# --- Addresses, postcodes, registration plates -----------------------------------------------------

_STREET_SUFFIXES = (
    "gatan|gata|vägen|väg|gränd|gränden|stigen|stig|backen|backe|torget|torg|allén|allé|"
    "esplanaden|platsen|slingan|slinga|ringen|promenaden|kajen|stranden|hagen|höjden|vallen|liden|"
    "stråket|bryggan|udden|gårdsvägen|plan"
)
# "Storgatan 12", "Södra Kyrkogatan 3 B", "Stora vägen 1", "storgatan 12". The compound must have a
# first part ("vägen 3" alone is ordinary language); "plan" only capitalised ("Stortorgets plan 2").
_ADDRESS = re.compile(
    r"(?<![\w])"
    r"(?:"
    r"(?:(?:Norra|Södra|Östra|Västra|Stora|Lilla|Gamla|Nya|Övre|Nedre|Sankt|S:t)\s+)?"
    r"[A-ZÅÄÖ][a-zåäöéü]+(?:-[A-ZÅÄÖa-zåäö][a-zåäöéü]+)*(?:" + _STREET_SUFFIXES + r")"
    r"|(?:Norra|Södra|Östra|Västra|Stora|Lilla|Gamla|Nya|Övre|Nedre)\s+(?i:" + _STREET_SUFFIXES + r")"
    r"|[a-zåäö]{2,}(?:gatan|vägen|gränd|gränden|stigen|torget|allén)"
    r")"
    r"\s+\d{1,4}(?:\s?[A-Ha-h](?!\w))?(?![\d,]\d)"
    r"(?:\s*,?\s*(?:lgh|lägenhet)\s*\d{3,4})?"
)
#: "c/o Nilsson", "c/o Rädda Barnen": where someone receives post is where they can be found.
_CARE_OF = re.compile(r"(?<![\w])c/o\s+[A-ZÅÄÖ][\w-]*(?:\s+[A-ZÅÄÖ][\w-]*)*")
_POST_BOX = re.compile(r"(?<![\w])(?:Box|Postbox|Postlåda)\s+\d{1,6}(?![\d])")
_FLAT = re.compile(r"(?<![\w])(?:lgh|lägenhet|lägenhetsnummer)\.?\s*(?:nr\.?\s*)?\d{4}(?!\d)", re.IGNORECASE)
_POSTCODE = re.compile(
    r"(?<![\d][ ])(?<![\d,.])\b(?:SE-?)?[1-9]\d{2} \d{2}\b(?![ ]?\d)"
    r"|(?<![\d,.])\b[1-9]\d{4}(?=\s+[A-ZÅÄÖ][a-zåäö])"
    # Five digits anywhere after the word itself: "postnummer 97231", "postnr: 972 31".
    r"|(?:(?<=[Pp]ostnummer )|(?<=[Pp]ostnr )|(?<=[Pp]ostnr: ))[1-9]\d{2} ?\d{2}\b"
)
#: Words after a number that make "123 45" an amount, a count or a duration rather than a postcode.
_UNIT_AFTER = re.compile(
    r"\s*(?:kr|kronor|sek|st|stycken|år|%|procent|dagar|timmar|minuter|personer|ärenden|m|km|mil|kg|g)\b",
    re.IGNORECASE,
)
# Swedish plates: three letters (no I, Q, V, Å, Ä, Ö), then two digits and a digit or (since 2019) a letter.
_PLATE = re.compile(r"(?<![\w-])[A-HJ-PR-UW-Z]{3}[ -]?\d{2}[A-HJ-PR-UW-Z\d](?![\w-])")


#: National service numbers written like postcodes: the police (114 14) and crisis information (113 13).
_SERVICE_NUMBERS = {"114 14", "113 13"}


def _postcodes(text: str) -> list[Finding]:
    found = []
    for m in _POSTCODE.finditer(text):
        if _UNIT_AFTER.match(text, m.end()) or m.group() in _SERVICE_NUMBERS:
            continue
        found.append(Finding(m.start(), m.end(), "postcode", BLOCK))
    return found


# --- Dates of birth --------------------------------------------------------------------------------

_MONTHS = (
    "januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|okt|nov|dec"
)
_DATE = (
    r"(?:(?:18|19|20)\d{2}-\d{1,2}-\d{1,2}"  # 2009-03-14
    r"|(?:18|19|20)\d{6}"  # 20090314
    r"|\d{1,2}[/.]\d{1,2}[/.-](?:\d{4}|\d{2})"  # 14/3 2009, 14.03.2009, 14/3-09
    r"|\d{1,2}/\d{1,2}\s+(?:\d{4}|\d{2})"
    r"|(?:den\s+)?\d{1,2}(?::?[ae])?\s+(?:" + _MONTHS + r")\.?(?:\s+(?:18|19|20)\d{2})?"  # 14 mars 2009
    r")"
)
_BIRTH_WORDS = r"(?:född|födda|föddes|födelsedatum|födelsedag|födelsedagen|f\.|fyller\s+år|fyllde\s+år)"
_DATE_OF_BIRTH = re.compile(
    r"(?<![\w])"
    + _BIRTH_WORDS
    + r"[\s:,]*(?:(?:är|var|infaller)\s+)?(?:den\s+|på\s+|i\s+|år\s+)?(?P<after>"
    + _DATE
    + r")(?![\w])"
    r"|(?<![\w])(?P<before>" + _DATE + r")[\s,(]*(?:född|födelsedatum)",
    re.IGNORECASE,
)


def _dates_of_birth(text: str) -> list[Finding]:
    found = []
    for m in _DATE_OF_BIRTH.finditer(text):
        group = "after" if m["after"] else "before"
        value = m[group]
        # A day and month alone is a birthday; a bare year ("född 2009") is not caught by _DATE.
        found.append(Finding(m.start(group), m.start(group) + len(value.rstrip(".")), "date_of_birth", WARN))
    return found


# --- Names -----------------------------------------------------------------------------------------


def _read_names(filename: str) -> frozenset[str]:
    text = resources.files("samrad").joinpath("data", filename).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@cache
def names() -> frozenset[str]:
    """The shipped lists of first names and surnames common in Sweden."""
    return _read_names("names_first.txt") | _read_names("names_last.txt") | _read_names("names_more.txt")


#: Names that are also ordinary Swedish words ("Björn", "Rosa", "Stig", "Mina"): a capital letter at the
#: start of a sentence says nothing, so these count only mid-sentence or next to another name.
COMMON_WORDS = frozenset(
    """
    axel berg björk björn blom bo dahl dina ek falk hans holm karl lind lina linnea lisa liv lova lund malva
    max mina oliver per rama rosa rova saga sten stig strand ström svea tina tran vilja ester
    """.split()
)
#: Names that are also places or parts of organisation names ("i Lund", "Svea hovrätt"): only next to
#: another name ("Anna Lund").
PLACE_WORDS = frozenset({"lund", "svea", "strand", "berg", "holm"})

#: A word of letters, with hyphenated parts ("Anna-Lisa", "al-rashid"); its case is judged in _names.
_WORD = re.compile(r"(?<![\w])[^\W\d_]+(?:-[^\W\d_]+)*(?![\w])")
#: Listed names that, written in lower case, are ordinary Swedish words or abbreviations ("15 jan").
LOWER_WORDS = frozenset(
    {"jan", "linda", "siv", "tove", "tilde", "nova", "mila", "love", "leo", "alma", "said"}
)
#: Capitals that are abbreviations of the field, not names ("SARA:SV" is a risk assessment).
CAPITAL_WORDS = frozenset({"SARA", "PATRIARK", "BOPS", "TRIS"})
#: What may come before a sentence's (or a list item's) first word, apart from spaces.
_SENTENCE_BREAKS = '.!?:;•\n"”»(–-'


def _name_base(word: str) -> str | None:
    """The listed name behind a token: itself, or a genitive ("Fatimas") or a double name's part."""
    known = names()
    if word in known:
        return word
    if word.endswith("s") and word[:-1] in known and not word[:-1].endswith(("s", "x", "z")):
        return word[:-1]
    parts = word.split("-")
    if len(parts) > 1 and all(p in known or (p.endswith("s") and p[:-1] in known) for p in parts):
        return parts[0]
    return None


def _next_to(tokens: list, text: str, i: int, j: int) -> bool:
    """Whether token ``j`` is a listed name directly beside token ``i`` (one space between them)."""
    if not 0 <= j < len(tokens) or tokens[j][1] is None:
        return False
    left, right = (tokens[j][0], tokens[i][0]) if j < i else (tokens[i][0], tokens[j][0])
    return text[left.end() : right.start()] in (" ", "\u00a0")


def _case_of(word: str) -> str:
    """``title`` (Anna, Anna-Lisa), ``upper`` (ANNA), ``lower`` (anna) or ``mixed``."""
    parts = word.split("-")
    if all(p[:1].isupper() and (len(p) == 1 or p[1:].islower()) for p in parts):
        return "title"
    if word.isupper():
        return "upper"
    if word.islower():
        return "lower"
    return "mixed"


def _names(text: str) -> list[Finding]:
    tokens = []  # (match, base name or None, case)
    for m in _WORD.finditer(text):
        word, case = m.group(), _case_of(m.group())
        titled = word if case == "title" else "-".join(p[:1].upper() + p[1:].lower() for p in word.split("-"))
        base = _name_base(titled) if case in ("title", "upper", "lower") else None
        if case == "upper" and (len(word) < 3 or word in CAPITAL_WORDS):
            base = None
        if case == "lower" and base is not None and base.lower() in COMMON_WORDS | PLACE_WORDS | LOWER_WORDS:
            base = None  # an ordinary word in lower case: neither a name nor a name's neighbour
        tokens.append((m, base, case))
    found = []
    for i, (m, base, case) in enumerate(tokens):
        if base is None:
            continue
        lower = base.lower()
        next_to_name = _next_to(tokens, text, i, i - 1) or _next_to(tokens, text, i, i + 1)
        if case == "lower":
            # A listed name in lower case that is no ordinary word (those lost their base above): people
            # write names in lower case, and "fatima" is no Swedish word.
            flagged = True
        elif lower in PLACE_WORDS:
            flagged = next_to_name
        elif lower in COMMON_WORDS:
            before = text[: m.start()].rstrip(" \t\u00a0")
            sentence_start = not before or before[-1] in _SENTENCE_BREAKS
            flagged = next_to_name or (case == "title" and not sentence_start)
        else:
            flagged = True
        if flagged:
            found.append(Finding(m.start(), m.end(), "name", WARN))
    return found


# --- Putting it together ---------------------------------------------------------------------------


def _regex_findings(pattern: re.Pattern, text: str, kind: str) -> list[Finding]:
    return [Finding(m.start(), m.end(), kind, KINDS[kind]) for m in pattern.finditer(text)]


def scan(text: str) -> list[Finding]:
    """Find what may identify a person in ``text``, sorted by position, without overlaps.

    Where two detectors claim overlapping text, the more specific kind wins (the order of ``KINDS``):
    ``0701234567`` that passes the Luhn check is a personnummer, not a phone number.
    """
    if not text:
        return []
    candidates = (
        _identity_numbers(text)
        + _regex_findings(_EMAIL, text, "email")
        + _phones(text)
        + _regex_findings(_PLATE, text, "registration_plate")
        + _regex_findings(_ADDRESS, text, "address")
        + _regex_findings(_FLAT, text, "address")
        + _regex_findings(_CARE_OF, text, "address")
        + _regex_findings(_POST_BOX, text, "address")
        + _regex_findings(_SPELLED_EMAIL, text, "email")
        + _postcodes(text)
        + _dates_of_birth(text)
        + _names(text)
    )
    return without_overlaps(candidates)


def without_overlaps(candidates: list[Finding]) -> list[Finding]:
    """Keep one finding for each stretch of text, sorted by position: the most specific kind (the order
    of ``KINDS``), and of two of the same kind at the same place the longer. Findings that only touch
    (one ends where the other starts) both stay."""
    priority = {kind: i for i, kind in enumerate(KINDS)}
    kept: list[Finding] = []
    for finding in sorted(candidates, key=lambda f: (priority[f.kind], f.start, -(f.end - f.start))):
        if any(finding.start < k.end and k.start < finding.end for k in kept):
            continue
        kept.append(finding)
    return sorted(kept)


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == BLOCK]


def warnings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == WARN]
