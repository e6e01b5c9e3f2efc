"""How the de-identification guard's findings are shown, in every form that has free text: the case
form, the advice, the return comment, the evaluation form and the coordinator's comment review.

One table of what each kind of finding is called and why it matters, one way to cut a text into marked
findings (:class:`Feedback`, rendered by ``templates/macros/_guard_findings.html`` and the
``mark_findings`` filter), and one way to name findings in a message next to a field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from samrad.deidentify import Finding
from samrad.services.cases import GuardResult


@dataclass(frozen=True)
class KindText:
    label: object  # "Phone number": the heading of a finding in the list
    phrase: object  # "a phone number": in running text ("The text contains a phone number")
    explanation: object  # why it matters and what to do


#: Every kind of finding the guard (and the evaluation's colleague-name check) can report.
KIND_TEXT: dict[str, KindText] = {
    "personnummer": KindText(
        _l("Personal identity number"),
        _l("a personal identity number"),
        _l("Remove it: it identifies the person directly."),
    ),
    "samordningsnummer": KindText(
        _l("Co-ordination number"),
        _l("a coordination number"),
        _l("Remove it: it identifies the person directly."),
    ),
    "interim_number": KindText(
        _l("Reserve number"),
        _l("an identity number"),
        _l("Remove it: health care's reserve numbers identify a person."),
    ),
    "email": KindText(
        _l("E-mail address"), _l("an e-mail address"), _l("Remove it: an e-mail address leads to a person.")
    ),
    "phone": KindText(
        _l("Phone number"), _l("a phone number"), _l("Remove it: a phone number leads to a person.")
    ),
    "registration_plate": KindText(
        _l("Registration number"),
        _l("a vehicle registration number"),
        _l("Remove it: a car's registration number leads to its owner."),
    ),
    "address": KindText(
        _l("Address"),
        _l("an address"),
        _l("Remove it: write for example “lives in the municipality” instead."),
    ),
    "postcode": KindText(
        _l("Postcode"), _l("a postcode"), _l("Remove it: a postcode narrows the case down to a few streets.")
    ),
    "date_of_birth": KindText(
        _l("Date of birth"),
        _l("a date of birth"),
        _l("Check it: the age band is enough. Remove the date unless it is not a birth date."),
    ),
    "name": KindText(
        _l("Name"),
        _l("a name"),
        _l("Check it: write “the girl”, “the mother”, “a sibling” instead of names."),
    ),
    "colleague_name": KindText(
        _l("Name of a colleague"),
        _l("the name of a colleague"),
        _l("Check it: the text must not point out anyone, not even a colleague."),
    ),
}


def kind_labels(findings: Iterable[Finding]) -> str:
    """The kinds found, each once, by their names in lower case: "address, phone number"."""
    return ", ".join(dict.fromkeys(str(KIND_TEXT[f.kind].label).lower() for f in findings))


def kinds_in(findings: Iterable[Finding]) -> str:
    """The kinds found, each once, in running text: "a phone number, a name"."""
    return ", ".join(dict.fromkeys(str(KIND_TEXT[f.kind].phrase) for f in findings))


def quoted(text: str, findings: Iterable[Finding]) -> str:
    """Each finding with the words it found: "a phone number (”070-123 45 67”)"."""
    return ", ".join(f"{KIND_TEXT[f.kind].phrase} (”{f.text_in(text)}”)" for f in findings)


@dataclass
class Feedback:
    """The guard's findings for one text, ready for the template."""

    field: str  # canonical name: questions, background, comment, advice
    dom_id: str  # the id of the text's field (or of the element that shows it)
    text: str
    findings: list[Finding]

    @property
    def blocking(self) -> int:
        return sum(1 for f in self.findings if f.severity == "block")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warn")

    @property
    def segments(self) -> list[tuple[str, Finding | None, int]]:
        """The text cut into plain parts and findings (with their number in the list); a finding that
        overlaps one already marked is listed but not marked again."""
        parts: list[tuple[str, Finding | None, int]] = []
        pos = 0
        for n, f in enumerate(self.findings, start=1):
            if f.start < pos:
                continue
            if f.start > pos:
                parts.append((self.text[pos : f.start], None, 0))
            parts.append((self.text[f.start : f.end], f, n))
            pos = f.end
        if pos < len(self.text):
            parts.append((self.text[pos:], None, 0))
        return parts

    def label(self, finding: Finding):
        return KIND_TEXT[finding.kind].label

    def explanation(self, finding: Finding):
        return KIND_TEXT[finding.kind].explanation


def feedback_for(guard: GuardResult, dom_ids: dict[str, str]) -> dict[str, Feedback]:
    """A :class:`Feedback` per text field the guard checked."""
    return {
        name: Feedback(name, dom_ids[name], text, sorted(guard.findings.get(name, [])))
        for name, text in guard.texts.items()
    }


def mark_findings(feedback: Feedback) -> Markup:
    """The text with each finding wrapped in ``<mark>`` and numbered, escaped everywhere else."""
    out = []
    for text, finding, n in feedback.segments:
        if finding is None:
            out.append(Markup.escape(text))
        else:
            out.append(
                Markup(
                    '<mark class="finding finding-{sev}"><span class="visually-hidden">{start} </span>{text}'
                    '<sup aria-hidden="true">{n}</sup><span class="visually-hidden"> {end}</span></mark>'
                ).format(
                    sev=finding.severity,
                    start=_l("Start of finding %(n)d:", n=n),
                    text=text,
                    n=n,
                    end=_l("end of finding %(n)d", n=n),
                )
            )
    return Markup("").join(out)


def init_app(app: Flask) -> None:
    app.add_template_filter(mark_findings, "mark_findings")
