"""The case's journey: create, edit, submit, return, withdraw, accept, release, follow up, close."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from samrad import outbox
from samrad.enums import (
    CaseStatus,
    MeetingStatus,
    Role,
)
from samrad.models import (
    AgendaItem,
    Case,
    CaseCategoryEntry,
    CaseExposerEntry,
    Consultation,
    ConsultationRole,
    Meeting,
    User,
)
from samrad.services.cases.errors import (
    CaseError,
    CommentRequired,
    DeidentificationRefused,
    DuplicateSubmission,
    MeetingNotOpen,
    TransitionNotAllowed,
    WarningsNotConfirmed,
)
from samrad.services.cases.limits import (
    BACKGROUND_MAX,
    CLOSABLE,
    EDITABLE,
    QUESTIONS_MAX,
    QUEUED,
    RETURN_COMMENT_MAX,
    RETURNABLE,
    SCHEDULED,
    WITHDRAWABLE,
)
from samrad.services.cases.references import assign_reference
from samrad.services.cases.requests import _check_requested_meeting
from samrad.services.cases.texts import Attestation, CaseInput, GuardResult, _enforce_guard, guard_of

log = logging.getLogger(__name__)


def _normalise_presenter(email: str, officer: User) -> str:
    email = (email or "").strip().lower()
    return "" if email == officer.email else email


def _apply(case: Case, data: CaseInput, officer: User) -> None:
    case.sex = data.sex
    case.age_band = data.age_band
    case.municipality_id = data.municipality_id
    case.risk_assessment = data.risk_assessment
    case.report_of_concern_made = data.report_of_concern_made
    case.questions = data.questions.strip()
    case.background = data.background.strip()
    case.requested_meeting_id = data.requested_meeting_id
    case.presentation_minutes = data.presentation_minutes
    case.presenter_email = _normalise_presenter(data.presenter_email, officer)
    wanted_categories = list(dict.fromkeys(data.categories))
    case.categories = [e for e in case.categories if e.category in wanted_categories]
    have = {e.category for e in case.categories}
    # case_id is set through the relationship when the case is flushed.
    case.categories += [CaseCategoryEntry(category=c) for c in wanted_categories if c not in have]  # type: ignore[call-arg]
    wanted_exposers = list(dict.fromkeys(data.exposers))
    case.exposers = [e for e in case.exposers if e.exposer in wanted_exposers]
    have_exposers = {e.exposer for e in case.exposers}
    case.exposers += [CaseExposerEntry(exposer=x) for x in wanted_exposers if x not in have_exposers]  # type: ignore[call-arg]


def _validate(data: CaseInput) -> None:
    if len(data.questions) > QUESTIONS_MAX or len(data.background) > BACKGROUND_MAX:
        raise CaseError("text over the length limit")
    if not data.categories or not data.exposers or not data.questions.strip() or not data.background.strip():
        raise CaseError("required fields missing")


def _texts(data: CaseInput) -> dict[str, str]:
    return {"questions": data.questions, "background": data.background}


def case_by_submission_key(session: Session, key: str) -> Case | None:
    return session.exec(select(Case).where(Case.submission_key == key)).first()


def create_case(
    session: Session,
    consultation: Consultation,
    data: CaseInput,
    *,
    officer: User,
    organisation_id: int,
    now: datetime,
    submit: bool,
    attestation: Attestation | None = None,
    submission_key: str | None = None,
    checked: GuardResult | None = None,
) -> Case:
    """Register a case for ``officer``'s organisation: a draft, or submitted straight away.

    The same ``submission_key`` posted twice (a double click, a resent form) returns the first case
    instead of creating another. Everything is checked before anything is written: the guard (blocking
    findings refuse even a draft; ``checked``, the caller's run of it, is used if it covers exactly these
    texts), for a submission the attestation and confirmed warnings, and the requested meeting.
    """
    if submission_key:
        existing = case_by_submission_key(session, submission_key)
        if existing is not None:
            if existing.officer_id != officer.id:
                raise DuplicateSubmission("submission key of another person's case")
            return existing
    _validate(data)
    guard = _enforce_guard(_texts(data), attestation, submitting=submit, checked=checked)
    _check_requested_meeting(session, consultation.id, data.requested_meeting_id, now=now)
    case = Case(
        consultation_id=consultation.id,
        organisation_id=organisation_id,
        officer_id=officer.id,
        status=CaseStatus.DRAFT,
        submission_key=submission_key or None,
        created_at=now,
        updated_at=now,
        sex=data.sex,
        age_band=data.age_band,
        risk_assessment=data.risk_assessment,
    )
    _apply(case, data, officer)
    try:
        if submit:
            _submit(session, case, consultation, guard, now=now)  # inserts it, submitted and numbered
        else:
            with session.begin_nested():
                session.add(case)
                session.flush()
            log.info("case %s created as a draft", case.id)
    except IntegrityError:
        # The same form was posted twice at the same moment; the other request created the case.
        existing = case_by_submission_key(session, submission_key) if submission_key else None
        if existing is None or existing.officer_id != officer.id:
            raise
        return existing
    return case


def _submit(session: Session, case: Case, consultation: Consultation, guard: GuardResult, *, now) -> None:
    def submitted(case: Case) -> None:
        case.status = CaseStatus.SUBMITTED
        case.attested_deidentified = True
        case.overridden_findings = guard.warning_count
        case.submitted_at = case.submitted_at or now
        case.updated_at = now

    if case.reference:
        submitted(case)  # a returned case sent again keeps its reference
        session.add(case)
        session.flush()
    else:
        assign_reference(session, case, consultation, now=now, along=submitted)
    log.info(
        "case %s submitted as %s (%d guard warnings confirmed)", case.id, case.reference, guard.warning_count
    )


def submit_case(
    session: Session, case: Case, *, actor: User, attestation: Attestation, now: datetime
) -> Case:
    """draft → submitted: check the stored text again, require the attestation, give the reference."""
    if case.status != CaseStatus.DRAFT:
        raise TransitionNotAllowed(case, "submitted")
    guard = _enforce_guard(
        {"questions": case.questions, "background": case.background}, attestation, submitting=True
    )
    _check_requested_meeting(session, case.consultation_id, case.requested_meeting_id, now=now)
    _submit(session, case, session.get(Consultation, case.consultation_id), guard, now=now)
    return case


def update_case(
    session: Session,
    case: Case,
    data: CaseInput,
    *,
    actor: User,
    now: datetime,
    submit: bool,
    attestation: Attestation | None = None,
    checked: GuardResult | None = None,
) -> Case:
    """Change a case that is not yet with a meeting (draft, submitted, returned, follow-up wanted).

    ``submit`` sends a draft or a returned case (again): returned → submitted keeps the reference and
    clears the coordinator's comment. A submitted or follow-up case stays where it is, but every change
    to it needs the attestation again, since the coordinator may already be reading it.
    """
    if case.status not in EDITABLE:
        raise TransitionNotAllowed(case, "changed")
    submitting = submit or case.status in QUEUED
    _validate(data)
    guard = _enforce_guard(_texts(data), attestation, submitting=submitting, checked=checked)
    if data.requested_meeting_id != case.requested_meeting_id:
        _check_requested_meeting(session, case.consultation_id, data.requested_meeting_id, now=now)
    officer = session.get(User, case.officer_id) if case.officer_id else actor
    _apply(case, data, officer)
    case.updated_at = now
    if submitting:
        case.attested_deidentified = True
        case.overridden_findings = guard.warning_count
    session.add(case)
    session.flush()
    if submit and case.status in (CaseStatus.DRAFT, CaseStatus.RETURNED):
        if case.status == CaseStatus.RETURNED:
            case.return_comment = ""
            case.returned_at = None
        _submit(session, case, session.get(Consultation, case.consultation_id), guard, now=now)
    else:
        log.info("case %s changed", case.id)
    return case


def return_case(
    session: Session,
    case: Case,
    *,
    actor: User,
    comment: str,
    now: datetime,
    link: str,
    attestation: Attestation | None = None,
    checked: GuardResult | None = None,
) -> Case:
    """submitted/follow-up → returned, with the coordinator's comment (checked by the guard too; the
    caller's run, ``checked``, is taken for exactly the comment stored).

    The case officer gets an e-mail with the reference and a link; never the comment or any case text.
    Warnings in the comment need the same confirmation as in a case (``attestation.confirmed_digest``).
    """
    if case.status not in RETURNABLE:
        raise TransitionNotAllowed(case, "returned")
    comment = (comment or "").strip()
    if not comment:
        raise CommentRequired("a returned case needs a comment")
    if len(comment) > RETURN_COMMENT_MAX:
        raise CommentRequired("comment too long")
    guard = guard_of({"comment": comment}, checked)
    if guard.blocking:
        raise DeidentificationRefused(guard)
    if guard.warning_count and (attestation is None or attestation.confirmed_digest != guard.digest):
        raise WarningsNotConfirmed(guard)
    case.status = CaseStatus.RETURNED
    case.return_comment = comment
    case.returned_at = now
    case.updated_at = now
    session.add(case)
    session.flush()
    officer = session.get(User, case.officer_id) if case.officer_id else None
    if officer is not None and officer.is_active:
        outbox.queue_email(
            session,
            to=officer.email,
            template="case_returned",
            locale=officer.locale,
            now=now,
            reference=case.reference,
            link=link,
        )
    log.info("case %s (%s) returned to the submitter", case.id, case.reference)
    return case


def withdraw_case(session: Session, case: Case, *, actor: User, now: datetime, link: str) -> Case:
    """→ withdrawn, by the owning organisation. Coordinators are told (reference and link only) when the
    case was already accepted for a meeting or on its agenda, so that they can adjust the agenda."""
    if case.status not in WITHDRAWABLE:
        raise TransitionNotAllowed(case, "withdrawn")
    was_scheduled = case.status in SCHEDULED
    case.status = CaseStatus.WITHDRAWN
    case.withdrawn_at = now
    case.updated_at = now
    session.add(case)
    session.flush()
    if was_scheduled:
        coordinators = session.exec(
            select(User)
            .join(ConsultationRole, ConsultationRole.user_id == User.id)
            .where(ConsultationRole.consultation_id == case.consultation_id)
            .where(ConsultationRole.role == Role.COORDINATOR)
            .where(User.is_active)
        ).all()
        for coordinator in coordinators:
            outbox.queue_email(
                session,
                to=coordinator.email,
                template="case_withdrawn",
                locale=coordinator.locale,
                now=now,
                reference=case.reference,
                link=link,
            )
    log.info("case %s (%s) withdrawn", case.id, case.reference or "draft")
    return case


def accept_case(session: Session, case: Case, meeting: Meeting, *, actor: User, now: datetime) -> Case:
    """submitted/follow-up → accepted for ``meeting`` (a planned, future meeting of the same consultation).

    The coordinator may accept after the case deadline; the deadline binds submitters. The agenda item
    itself is the agenda builder's (issue C): this only records the meeting on the case.
    """
    if case.status not in QUEUED:
        raise TransitionNotAllowed(case, "accepted")
    if meeting.consultation_id != case.consultation_id:
        raise MeetingNotOpen("other_consultation")
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingNotOpen("cancelled")
    if meeting.status != MeetingStatus.PLANNED or meeting.starts_at <= now:
        raise MeetingNotOpen("past")
    case.status = CaseStatus.ACCEPTED
    case.meeting_id = meeting.id
    case.updated_at = now
    session.add(case)
    session.flush()
    log.info("case %s (%s) accepted for meeting %s", case.id, case.reference, meeting.id)
    return case


def _agenda_item(session: Session, case: Case, meeting_id: int | None) -> AgendaItem | None:
    if meeting_id is None:
        return None
    return session.exec(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id).where(AgendaItem.case_id == case.id)
    ).first()


def mark_on_agenda(session: Session, case: Case, meeting: Meeting, *, now: datetime) -> Case:
    """accepted → on_agenda, when ``meeting``'s agenda with the case has been published.

    Idempotent for a case already on this meeting's agenda, so publishing a new version may call it for
    every case item.
    """
    if case.status == CaseStatus.ON_AGENDA and case.meeting_id == meeting.id:
        return case
    if case.status != CaseStatus.ACCEPTED or case.meeting_id != meeting.id:
        raise TransitionNotAllowed(case, "put on the agenda")
    if meeting.published_version < 1 or _agenda_item(session, case, meeting.id) is None:
        raise TransitionNotAllowed(case, "put on an unpublished agenda")
    case.status = CaseStatus.ON_AGENDA
    case.updated_at = now
    session.add(case)
    session.flush()
    log.info("case %s (%s) on the published agenda of meeting %s", case.id, case.reference, meeting.id)
    return case


def _last_discussed_meeting_id(session: Session, case: Case) -> int | None:
    return session.exec(
        select(AgendaItem.meeting_id)
        .where(AgendaItem.case_id == case.id)
        .where(AgendaItem.discussed_at.is_not(None))
        .order_by(AgendaItem.discussed_at.desc())
    ).first()


def release_case(session: Session, case: Case, *, now: datetime) -> Case:
    """accepted/on_agenda → back in the queue: taken off a meeting (removed from the agenda, or the
    meeting was cancelled). A case discussed before goes back to follow-up, otherwise to submitted."""
    if case.status not in SCHEDULED:
        raise TransitionNotAllowed(case, "released")
    previous = _last_discussed_meeting_id(session, case)
    case.status = CaseStatus.FOLLOW_UP if previous else CaseStatus.SUBMITTED
    case.meeting_id = previous
    case.updated_at = now
    session.add(case)
    session.flush()
    log.info("case %s (%s) released from its meeting", case.id, case.reference)
    return case


def mark_discussed(session: Session, case: Case, *, follow_up: bool, now: datetime) -> Case:
    """on_agenda → discussed (or follow_up, which queues it for a later meeting).

    Records the time on the case and on its agenda item of the meeting (``discussed_at``,
    ``follow_up_wanted``).
    """
    if case.status != CaseStatus.ON_AGENDA:
        raise TransitionNotAllowed(case, "discussed")
    item = _agenda_item(session, case, case.meeting_id)
    if item is not None:
        item.discussed_at = now
        item.follow_up_wanted = follow_up
        session.add(item)
    case.status = CaseStatus.FOLLOW_UP if follow_up else CaseStatus.DISCUSSED
    case.last_discussed_at = now
    case.updated_at = now
    session.add(case)
    session.flush()
    log.info("case %s (%s) discussed%s", case.id, case.reference, ", follow-up wanted" if follow_up else "")
    return case


def request_follow_up(session: Session, case: Case, *, actor: User, now: datetime) -> Case:
    """discussed → follow_up: the case owner wants to bring it back to a later meeting."""
    if case.status != CaseStatus.DISCUSSED:
        raise TransitionNotAllowed(case, "queued for follow-up")
    case.status = CaseStatus.FOLLOW_UP
    case.updated_at = now
    session.add(case)
    session.flush()
    log.info("case %s (%s) queued for a follow-up", case.id, case.reference)
    return case


def close_case(session: Session, case: Case, *, actor: User, now: datetime) -> Case:
    """discussed/follow_up → closed."""
    if case.status not in CLOSABLE:
        raise TransitionNotAllowed(case, "closed")
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    case.updated_at = now
    session.add(case)
    session.flush()
    log.info("case %s (%s) closed", case.id, case.reference)
    return case
