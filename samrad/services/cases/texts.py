"""What a case officer sends, and the de-identification guard over its free text."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from samrad import deidentify
from samrad.deidentify import Finding
from samrad.enums import (
    AgeBand,
    CaseCategory,
    Exposer,
    RiskAssessment,
    Sex,
)
from samrad.services.cases.errors import DeidentificationRefused, NotAttested, WarningsNotConfirmed


@dataclass
class CaseInput:
    """What the case form collects (organisation and officer come from the account, not from here)."""

    categories: list[CaseCategory]
    sex: Sex
    age_band: AgeBand
    municipality_id: int
    exposers: list[Exposer]
    questions: str
    background: str
    risk_assessment: RiskAssessment
    report_of_concern_made: bool
    requested_meeting_id: int | None = None
    presentation_minutes: int = 15
    presenter_email: str = ""


@dataclass(frozen=True)
class Attestation:
    """The submitter's confirmations: the case is de-identified; the warnings with this digest are checked."""

    attested: bool = False
    confirmed_digest: str = ""


@dataclass
class GuardResult:
    """Findings per text field, and a digest that identifies exactly this set of warnings."""

    texts: dict[str, str]
    findings: dict[str, list[Finding]] = field(default_factory=dict)

    @property
    def blocking(self) -> dict[str, list[Finding]]:
        return {name: b for name, fs in self.findings.items() if (b := deidentify.blocking(fs))}

    @property
    def warnings(self) -> dict[str, list[Finding]]:
        return {name: w for name, fs in self.findings.items() if (w := deidentify.warnings(fs))}

    @property
    def blocking_count(self) -> int:
        return sum(len(v) for v in self.blocking.values())

    @property
    def warning_count(self) -> int:
        return sum(len(v) for v in self.warnings.values())

    @property
    def digest(self) -> str:
        """A short hash of the warnings (field, kind, matched text); empty when there are none.

        It travels in the form so that a confirmation covers the warnings that were on screen and no
        others. It is never logged.
        """
        if not self.warning_count:
            return ""
        h = hashlib.sha256()
        for name in sorted(self.warnings):
            for f in self.warnings[name]:
                h.update(f"{name}\x1f{f.kind}\x1f{f.text_in(self.texts[name])}\x1e".encode())
        return h.hexdigest()[:32]


def check_texts(texts: dict[str, str]) -> GuardResult:
    """Run the guard over named texts (``{"questions": ..., "background": ...}``)."""
    return GuardResult(
        texts=dict(texts), findings={name: deidentify.scan(text or "") for name, text in texts.items()}
    )


def guard_of(texts: dict[str, str], checked: GuardResult | None) -> GuardResult:
    """The guard's result for ``texts``. ``checked``: the caller's own run (a view checks the form before
    the change begins), taken only when it covers exactly these texts; otherwise the guard runs here."""
    return checked if checked is not None and checked.texts == texts else check_texts(texts)


def _enforce_guard(
    texts: dict[str, str],
    attestation: Attestation | None,
    *,
    submitting: bool,
    checked: GuardResult | None = None,
) -> GuardResult:
    guard = guard_of(texts, checked)
    if guard.blocking:
        raise DeidentificationRefused(guard)
    if submitting:
        if guard.warning_count and (attestation is None or attestation.confirmed_digest != guard.digest):
            raise WarningsNotConfirmed(guard)
        if attestation is None or not attestation.attested:
            raise NotAttested("the case was not attested as de-identified")
    return guard
