"""The case journey: register a de-identified case, see where it stands, change or withdraw it; the
coordinator's queue with return-with-comment; the live de-identification feedback (htmx).

Cases a person may not see answer 404, never 403, so that guessing ids reveals nothing.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlmodel import select

from samrad import db
from samrad.enums import AgeBand, AuditKind, CaseCategory, CaseStatus, Exposer, RiskAssessment, Sex
from samrad.i18n import datetime_filter
from samrad.models import Case, Consultation, Meeting, Municipality, Organisation, User, get_row, utcnow
from samrad.services import access, agenda, cases
from samrad.services.cases import Attestation, CaseInput, GuardResult
from samrad.urls import external_url
from samrad.web import guard as guard_text
from samrad.web.access import Action, actor, load_case_or_404, load_consultation, may, viewed
from samrad.web.case_forms import CHOOSE, NEXT_POSSIBLE, AcuteForm, CaseForm, ReturnForm, TriageForm
from samrad.web.forms import SHOWN_ONLY, DecisionForm, SharedChoices, options, requested_page
from samrad.web.guard import feedback_for
from samrad.web.htmx import hx_redirect, is_htmx, render

bp = Blueprint("cases", __name__)

MEETING_REASONS = {
    "cancelled": _l("That meeting has been cancelled. Choose another meeting or the next possible one."),
    "deadline": _l(
        "The deadline for cases to that meeting has passed. Choose a later meeting or the next possible one."
    ),
    "past": _l("That meeting has already been held. Choose another meeting or the next possible one."),
    "other_consultation": _l("Choose the next possible meeting or one in the list."),
}


def _mark_refused(form, guard: GuardResult) -> None:
    """Put a message at each text field that still has something identifying in it."""
    for name, findings in guard.blocking.items():
        kinds = guard_text.kind_labels(findings)
        getattr(form, name).errors.append(
            _l(
                "Remove what can identify a person (%(kinds)s). The highlighted text below shows where.",
                kinds=kinds,
            )
        )


def _sync_confirmation(form, guard: GuardResult) -> None:
    """A confirmation is for the warnings that were on screen: new or changed warnings need a new tick."""
    if (form.warnings_digest.data or "") != guard.digest:
        form.confirm_warnings.data = False
        form.warnings_digest.data = guard.digest
        form.confirm_warnings.raw_data = []


# --- Loading and permissions -----------------------------------------------------------------------------


def _submitting_consultation(slug: str) -> Consultation:
    return load_consultation(slug, Action.SUBMIT_CASE)


# --- The case form ---------------------------------------------------------------------------------------


def _meeting_label(meeting: Meeting, now) -> str:
    label = str(
        _l(
            "%(when)s (cases by %(deadline)s)",
            when=datetime_filter(meeting.starts_at, "long"),
            deadline=datetime_filter(meeting.case_deadline_at),
        )
    )
    return label


def _prepare(form: CaseForm, consultation: Consultation, *, case: Case | None = None) -> list[Organisation]:
    """Fill the choices. A meeting that is no longer open stays in the list when it was the case's or was
    just posted, so that the service can say why it cannot be chosen (cancelled, deadline passed)."""
    s = db.get_session()
    now = utcnow()
    municipalities = s.exec(
        select(Municipality).where(Municipality.county == consultation.county).order_by(Municipality.name)
    ).all()
    form.municipality.choices = options(
        [(CHOOSE, _l("Choose municipality")), *((m.id, m.name) for m in municipalities)]
    )
    meetings = cases.open_meetings(s, consultation, now=now)
    choices = [(NEXT_POSSIBLE, _l("The next possible meeting"))] + [
        (m.id, _meeting_label(m, now)) for m in meetings
    ]
    keep = {case.requested_meeting_id if case else None, form.requested_meeting.data} - {None, NEXT_POSSIBLE}
    for meeting_id in sorted(keep - {m.id for m in meetings}):
        old = s.get(Meeting, meeting_id)
        if old is not None and old.consultation_id == consultation.id:
            choices.append((old.id, _meeting_label(old, now)))
    form.requested_meeting.choices = options(choices)
    closed = cases.closed_for_cases(s, consultation, now=now)
    if closed is not None:
        form.requested_meeting.description = _l(
            "The meeting on %(meeting)s is not in the list: its last day for cases was %(deadline)s.",
            meeting=datetime_filter(closed.starts_at, "long"),
            deadline=datetime_filter(closed.case_deadline_at, "long"),
        )
    if case is not None:
        organisations = [get_row(s, Organisation, case.organisation_id)]
    else:
        organisations = access.submitting_organisations(s, actor(), consultation)
    form.organisation.choices = (
        options((o.id, o.name) for o in organisations) if len(organisations) > 1 else []
    )
    return organisations


def _fill_from_case(form: CaseForm, case: Case) -> None:
    form.categories.data = [e.category.value for e in case.categories]
    form.sex.data = case.sex.value
    form.age_band.data = case.age_band.value
    form.municipality.data = case.municipality_id or CHOOSE
    form.exposers.data = [e.exposer.value for e in case.exposers]
    form.questions.data = case.questions
    form.background.data = case.background
    form.risk_assessment.data = case.risk_assessment.value
    form.report_of_concern.data = "yes" if case.report_of_concern_made else "no"
    form.requested_meeting.data = case.requested_meeting_id or NEXT_POSSIBLE
    form.presentation_minutes.data = case.presentation_minutes
    form.presenter.data = "colleague" if case.presenter_email else "self"
    form.presenter_email.data = case.presenter_email


def _input_from(form: CaseForm) -> CaseInput:
    return CaseInput(
        categories=[CaseCategory(v) for v in form.categories.data],
        sex=Sex(form.sex.data),
        age_band=AgeBand(form.age_band.data),
        municipality_id=form.municipality.data,
        exposers=[Exposer(v) for v in form.exposers.data],
        questions=form.questions.data or "",
        background=form.background.data or "",
        risk_assessment=RiskAssessment(form.risk_assessment.data),
        report_of_concern_made=form.report_of_concern.data == "yes",
        requested_meeting_id=form.requested_meeting.data or None,
        presentation_minutes=form.presentation_minutes.data,
        presenter_email=form.presenter_email.data if form.presenter.data == "colleague" else "",
    )


def _case_guard(form: CaseForm) -> GuardResult:
    return cases.check_texts(
        {"questions": form.questions.data or "", "background": form.background.data or ""}
    )


def _attestation(form) -> Attestation:
    return Attestation(
        attested=bool(getattr(form, "attest", None) and form.attest.data),
        confirmed_digest=(form.warnings_digest.data or "") if form.confirm_warnings.data else "",
    )


def _apply_error(form, exc: cases.CaseError, guard: GuardResult) -> None:
    if isinstance(exc, cases.DeidentificationRefused):
        _mark_refused(form, exc.guard)
    elif isinstance(exc, cases.WarningsNotConfirmed):
        form.confirm_warnings.errors.append(
            _l("Some words may identify a person. Check the highlighted words, change them or tick the box.")
        )
    elif isinstance(exc, cases.NotAttested):
        form.attest.errors.append(_l("Confirm that the case is de-identified before you send it."))
    elif isinstance(exc, cases.MeetingNotOpen):
        form.requested_meeting.errors.append(MEETING_REASONS[exc.reason])
    else:
        abort(400)


def _submit_requested(form) -> bool:
    return request.form.get("action") == "submit"


def _validate_case_form(form: CaseForm, *, submitting: bool) -> bool:
    valid = form.validate_on_submit()
    if submitting and not form.attest.data:
        form.attest.errors = [
            *form.attest.errors,
            _l("Confirm that the case is de-identified before you send it."),
        ]
        valid = False
    return valid


# --- Views -----------------------------------------------------------------------------------------------


@bp.get("/cases/new")
@login_required
def choose_consultation():
    consultations = cases.submitting_consultations(db.get_session(), actor())
    if len(consultations) == 1:
        return redirect(url_for("cases.new", slug=consultations[0].slug))
    return render_template("cases/choose.html", consultations=consultations)


def _journey(consultation, step, *, form=None, acute_form=None, guard=None, status=200):
    feedback = feedback_for(guard, {"questions": "questions", "background": "background"}) if guard else None
    ctx = dict(
        consultation=consultation,
        step=step,
        form=form,
        acute_form=acute_form,
        feedback=feedback,
        guard=guard,
        case=None,
        is_htmx=is_htmx(),
    )
    return render("cases/new.html", "cases/_journey.html", status=status, **ctx)


@bp.get("/c/<slug>/cases/new")
@login_required
def new(slug: str):
    consultation = _submitting_consultation(slug)
    answer = request.args.get("acute")
    if answer is None:
        return _journey(consultation, "question", acute_form=AcuteForm(formdata=None))
    acute_form = AcuteForm(request.args)
    if not acute_form.validate():
        return _journey(consultation, "question", acute_form=acute_form, status=400)
    if acute_form.acute.data == "yes":
        return _journey(consultation, "acute")
    form = CaseForm(formdata=None, meta=SHOWN_ONLY)
    organisations = _prepare(form, consultation)
    form.submission_key.data = secrets.token_urlsafe(24)
    own_municipality = next((o.municipality_id for o in organisations if o.municipality_id), None)
    if own_municipality in {c.value for c in form.municipality.choices}:
        form.municipality.data = own_municipality
    form.presentation_minutes.data = 15
    return _journey(consultation, "form", form=form, guard=_case_guard(form))


@bp.post("/c/<slug>/cases/new")
@login_required
def create(slug: str):
    s = db.get_session()
    # The form is checked before the change begins (on SQLite other changes are written meanwhile);
    # create_case checks again, inside it, what it depends on: the submission key, the requested meeting.
    with db.read_before_writing():
        consultation = _submitting_consultation(slug)
        form = CaseForm()
        organisations = _prepare(form, consultation)
        if form.acute.data != "no":
            # Whatever else was posted, an acute case is not taken in: nothing is stored.
            return _journey(consultation, "acute")
        submitting = _submit_requested(form)
        valid = _validate_case_form(form, submitting=submitting)
        guard = _case_guard(form)
    if valid and not guard.blocking:  # create_case would refuse it (the fields are marked below)
        organisation_id = int(
            form.organisation.data if form.organisation.choices else organisations[0].id or 0
        )
        try:
            case = cases.create_case(
                s,
                consultation,
                _input_from(form),
                officer=current_user,
                organisation_id=organisation_id,
                now=utcnow(),
                submit=submitting,
                attestation=_attestation(form),
                submission_key=form.submission_key.data or None,
                checked=guard,
            )
        except cases.DuplicateSubmission:
            abort(400)
        except cases.CaseError as exc:
            _apply_error(form, exc, guard)
        else:
            db.commit()
            if case.status == CaseStatus.DRAFT:
                flash(_l("The draft is saved. Nothing is sent until you send it."), "success")
            else:
                flash(
                    _l("Case %(reference)s has been sent to the coordinator.", reference=case.reference),
                    "success",
                )
            return hx_redirect(url_for("cases.detail", case_id=case.id))
    if guard.blocking and not form.questions.errors and not form.background.errors:
        _mark_refused(form, guard)
    _sync_confirmation(form, guard)
    return _journey(consultation, "form", form=form, guard=guard, status=400)


@bp.post("/cases/check")
@login_required
def check():
    """Live feedback while typing: the findings of one field, its status line, and (when the warnings
    changed) a fresh confirmation box. Nothing is stored or logged."""
    field = request.args.get("field", "")
    prefix = request.args.get("prefix", "")
    if field not in ("questions", "background", "comment"):
        abort(404)
    names = ["comment"] if field == "comment" else ["questions", "background"]
    texts = {name: request.form.get(prefix + name, "") for name in names}
    guard = cases.check_texts(texts)
    feedback = feedback_for(guard, {name: prefix + name for name in names})[field]
    digest_changed = request.form.get(prefix + "warnings_digest", "") != guard.digest
    form = (ReturnForm if field == "comment" else CaseForm)(formdata=None, prefix=prefix)
    form.warnings_digest.data = guard.digest
    response = render_template(
        "cases/_guard_check.html",
        fb=feedback,
        guard=guard,
        form=form,
        prefix=prefix,
        digest_changed=digest_changed,
    )
    return response, 200, {"Vary": "HX-Request"}


@bp.get("/cases/<int:case_id>")
@login_required
def detail(case_id: int):
    s = db.get_session()
    case = load_case_or_404(case_id)
    from samrad.services import agenda  # the confidentiality confirmation belongs to the agenda

    meeting = agenda.confidentiality_gate(s, actor(), case)
    if meeting is not None:
        consultation = get_row(s, Consultation, meeting.consultation_id)
        return redirect(
            url_for(
                "agenda.confidentiality", slug=consultation.slug, public_id=meeting.public_id, case=case.id
            ),
            code=303,
        )
    return render_template("cases/detail.html", **_detail_context(s, case))


def _detail_context(s, case: Case) -> dict:
    manages = may(Action.EDIT_CASE, case)
    return dict(
        case=case,
        consultation=s.get(Consultation, case.consultation_id),
        organisation=s.get(Organisation, case.organisation_id),
        officer=s.get(User, case.officer_id) if case.officer_id else None,
        municipality=s.get(Municipality, case.municipality_id) if case.municipality_id else None,
        requested=s.get(Meeting, case.requested_meeting_id) if case.requested_meeting_id else None,
        slot=cases.slot_of(s, case),
        discussions=cases.discussions(s, case),
        can_edit=manages and case.status in cases.EDITABLE,
        can_withdraw=manages and case.status in cases.WITHDRAWABLE,
        can_close=may(Action.CLOSE_CASE, case) and case.status in cases.CLOSABLE,
        can_follow_up=manages and case.status == CaseStatus.DISCUSSED,
        can_return=may(Action.RETURN_CASE, case) and case.status in cases.RETURNABLE,
        decision=DecisionForm(),
        return_form=ReturnForm(prefix=f"r{case.id}-", formdata=None, meta=SHOWN_ONLY),
    )


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def edit(case_id: int):
    s = db.get_session()
    case = load_case_or_404(case_id, Action.EDIT_CASE)
    consultation = get_row(s, Consultation, case.consultation_id)
    if case.status not in cases.EDITABLE:
        flash(_l("This case can no longer be changed. Contact the coordinator."), "error")
        return redirect(url_for("cases.detail", case_id=case.id), code=303)
    form = CaseForm() if request.method == "POST" else CaseForm(formdata=None, meta=SHOWN_ONLY)
    _prepare(form, consultation, case=case)
    status = 200
    if request.method == "GET":
        _fill_from_case(form, case)
        guard = _case_guard(form)
    else:
        submitting = _submit_requested(form) or case.status in cases.QUEUED
        valid = _validate_case_form(form, submitting=submitting)
        guard = _case_guard(form)
        if valid:
            was = case.status
            try:
                cases.update_case(
                    s,
                    case,
                    _input_from(form),
                    actor=current_user,
                    now=utcnow(),
                    submit=_submit_requested(form),
                    attestation=_attestation(form),
                    checked=guard,
                )
            except cases.TransitionNotAllowed:
                abort(409)
            except cases.CaseError as exc:
                _apply_error(form, exc, guard)
            else:
                db.commit()
                if was in (CaseStatus.DRAFT, CaseStatus.RETURNED) and case.status == CaseStatus.SUBMITTED:
                    flash(
                        _l("Case %(reference)s has been sent to the coordinator.", reference=case.reference),
                        "success",
                    )
                else:
                    flash(_l("Your changes are saved."), "success")
                return hx_redirect(url_for("cases.detail", case_id=case.id))
        if guard.blocking and not form.questions.errors and not form.background.errors:
            _mark_refused(form, guard)
        status = 400
    _sync_confirmation(form, guard)
    feedback = feedback_for(guard, {"questions": "questions", "background": "background"})
    return render_template(
        "cases/edit.html", form=form, case=case, consultation=consultation, feedback=feedback, guard=guard
    ), status


def _transition(case_id: int, action, permission: Action):
    s = db.get_session()
    case = load_case_or_404(case_id, permission)
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        action(s, case)
    except cases.TransitionNotAllowed:
        return None, case
    db.commit(then_read=True)
    return True, case


def _after_transition(ok, case, message):
    if ok is None:
        message = _l(
            "That could not be done: the case has changed meanwhile. The page shows where it stands now."
        )
    if is_htmx() and request.form.get("context") == "row":
        return render_template(
            "cases/_mine_row.html",
            case=case,
            slot=cases.slot_of(db.get_session(), case),
            decision=DecisionForm(),
            message=message if ok else None,
            error=None if ok else message,
            withdrawable=cases.WITHDRAWABLE,
        ), (200 if ok else 409)
    flash(message, "success" if ok else "error")
    return hx_redirect(url_for("cases.detail", case_id=case.id))


@bp.post("/cases/<int:case_id>/withdraw")
@login_required
def withdraw(case_id: int):
    def action(s, case):
        link = external_url("cases.detail", case_id=case.id)
        cases.withdraw_case(s, case, actor=current_user, now=utcnow(), link=link)

    ok, case = _transition(case_id, action, Action.WITHDRAW_CASE)
    return _after_transition(ok, case, _l("The case has been withdrawn."))


@bp.post("/cases/<int:case_id>/follow-up")
@login_required
def follow_up(case_id: int):
    ok, case = _transition(
        case_id,
        lambda s, c: cases.request_follow_up(s, c, actor=current_user, now=utcnow()),
        Action.FOLLOW_UP_CASE,
    )
    return _after_transition(ok, case, _l("The case is queued for a later meeting."))


@bp.post("/cases/<int:case_id>/close")
@login_required
def close(case_id: int):
    ok, case = _transition(
        case_id, lambda s, c: cases.close_case(s, c, actor=current_user, now=utcnow()), Action.CLOSE_CASE
    )
    return _after_transition(ok, case, _l("The case is closed."))


@bp.get("/cases")
@login_required
def mine():
    s = db.get_session()
    wanted = request.args.get("status", "")
    statuses = [CaseStatus(wanted)] if wanted in {st.value for st in CaseStatus} else None
    page = requested_page()
    rows, more = cases.page_of_cases_visible_to(
        s, actor(), page=page, statuses=statuses, own_organisation_only=True
    )
    query = {"status": wanted} if wanted else {}
    if page > 1 and not rows:  # past the last page (an old link): the first page, rather than an empty one
        return redirect(url_for("cases.mine", **query), code=303)
    slots = cases.slots_of(s, rows)
    return render(
        "cases/mine.html",
        "cases/_mine_table.html",
        rows=rows,
        slots=slots,
        page_number=page,
        more=more,
        query=query,
        wanted=wanted,
        statuses=list(CaseStatus),
        decision=DecisionForm(),
        withdrawable=cases.WITHDRAWABLE,
        consultations=cases.submitting_consultations(s, actor()),
    )


# --- The coordinator's queue -----------------------------------------------------------------------------


def _time_box_label(box: agenda.TimeBox) -> str:
    return _(
        "%(when)s – %(used)s of %(length)s minutes planned",
        when=datetime_filter(box.meeting.starts_at, "long"),
        used=box.minutes_used,
        length=box.meeting.length_minutes,
    )


def _triage_form(
    case: Case, boxes: list[agenda.TimeBox], formdata=None, *, waiting_choices: SharedChoices | None = None
) -> TriageForm:
    """The meeting choice of one queue row: every coming meeting for a waiting case; for one accepted from
    the queue, the meetings after its own (where it can move). ``waiting_choices``: a waiting case's
    choices, made once for a page of rows (every waiting case is offered the same meetings)."""
    form = TriageForm(prefix=f"t{case.id}-", formdata=formdata, meta=SHOWN_ONLY if formdata is None else {})
    moving = case.status == CaseStatus.ACCEPTED and case.meeting_id is not None
    if moving:
        own = next((b.meeting.starts_at for b in boxes if b.meeting.id == case.meeting_id), None)
        form.set_meetings(
            [b for b in boxes if own is not None and b.meeting.starts_at > own], _time_box_label
        )
    elif waiting_choices is not None:
        form.meeting.choices = waiting_choices
    else:
        form.set_meetings(boxes, _time_box_label)
    form.meeting.label.text = (
        _("Move to the meeting") if case.status == CaseStatus.ACCEPTED else _("Accept for the meeting")
    )
    return form


def _queue_row(consultation, case, boxes, *, state, status=200, **context):
    """One case of the queue: for htmx the row, with the meetings' time boxes swapped in out of band;
    without JavaScript a page with the row (and its messages next to the fields)."""
    context.setdefault("form", ReturnForm(prefix=f"r{case.id}-", formdata=None, meta=SHOWN_ONLY))
    context.setdefault("triage", _triage_form(case, boxes))
    for name in ("fb", "guard", "message", "error"):
        context.setdefault(name, None)
    template = "cases/_queue_row.html" if is_htmx() else "cases/queue_row_page.html"
    html = render_template(
        template, consultation=consultation, case=case, boxes=boxes, state=state, oob=is_htmx(), **context
    )
    return html, status


@bp.get("/c/<slug>/cases/queue")
@login_required
def queue(slug: str):
    consultation = load_consultation(slug, Action.MANAGE_CONSULTATION)
    s = db.get_session()
    waiting = cases.triage_queue(s, consultation)
    boxes = agenda.time_boxes(s, consultation, now=utcnow())
    viewed(AuditKind.CASE_QUEUE, consultation.id, consultation_id=consultation.id)
    waiting_choices = SharedChoices(options((box.meeting.id, _time_box_label(box)) for box in boxes))
    return render_template(
        "cases/queue.html",
        consultation=consultation,
        waiting=waiting,
        boxes=boxes,
        triage={c.id: _triage_form(c, boxes, waiting_choices=waiting_choices) for c in waiting},
    )


def _triage(case_id: int, change):
    """Accept or move a case from the queue: ``change(session, case, target)`` does it; the row comes back.

    The case, the meetings and the form are read and checked before the change begins (on SQLite other
    changes are written meanwhile); what the change depends on is compared inside it: the case's version
    and the agendas' revisions (a cancelled meeting's moves on too). The row is read after the commit
    without the write lock."""
    s = db.get_session()
    with db.read_before_writing():
        case = load_case_or_404(case_id, Action.PLAN_CASE)
        consultation = get_row(s, Consultation, case.consultation_id)
        boxes = agenda.time_boxes(s, consultation, now=utcnow())
        form = _triage_form(case, boxes, formdata=request.form)
        valid = form.validate_on_submit()
    error = None
    if valid:
        target = next(b.meeting for b in boxes if b.meeting.id == form.meeting.data)
        try:
            message = change(s, case, target)
        except agenda.AgendaRefused as exc:
            s.rollback()  # nothing half done stays, and the row shows the case as it is stored
            error = exc.message
        else:
            db.commit(then_read=True)
            if not is_htmx():
                flash(message, "success")
                return redirect(url_for("cases.queue", slug=consultation.slug), code=303)
            boxes = agenda.time_boxes(s, consultation, now=utcnow())
            return _queue_row(consultation, case, boxes, state="accepted", message=message)
    if error is None and not form.meeting.choices:  # no field to put the message next to
        error = " ".join(str(e) for e in form.meeting.errors) or None
    return _queue_row(
        consultation, case, boxes, state=_queue_state(case), status=400, triage=form, error=error
    )


def _queue_state(case: Case) -> str:
    """How a queue row shows the case as it is stored: waiting (accept, return), accepted from the queue
    (move), or gone from the queue (returned or withdrawn meanwhile: nothing left to do in the row)."""
    if case.status == CaseStatus.ACCEPTED:
        return "accepted"
    return "waiting" if case.status in cases.QUEUED else "returned"


@bp.post("/cases/<int:case_id>/accept")
@login_required
def accept(case_id: int):
    def change(s, case, target):
        agenda.accept_onto_agenda(s, target, case, actor=current_user, now=utcnow())
        return _l(
            "Case %(reference)s is accepted for %(when)s and put last on its draft agenda.",
            reference=case.reference,
            when=datetime_filter(target.starts_at, "long"),
        )

    return _triage(case_id, change)


@bp.post("/cases/<int:case_id>/move")
@login_required
def move(case_id: int):
    def change(s, case, target):
        agenda.move_onto_agenda(
            s,
            case,
            target,
            actor=current_user,
            now=utcnow(),
            link=external_url("cases.detail", case_id=case.id),
        )
        return _l(
            "Case %(reference)s moves to %(when)s. The case officer has been told.",
            reference=case.reference,
            when=datetime_filter(target.starts_at, "long"),
        )

    return _triage(case_id, change)


@bp.get("/cases/<int:case_id>/return")
@login_required
def return_form(case_id: int):
    """The return-with-comment form of a queued case, fetched when the coordinator opens it: for htmx the
    form alone; without JavaScript the case's queue row on a page of its own, with the form open."""
    s = db.get_session()
    case = load_case_or_404(case_id, Action.RETURN_CASE)
    if case.status not in cases.RETURNABLE:
        message = _("The case has changed meanwhile and cannot be returned now.")
        if is_htmx():
            return render_template("cases/_not_returnable.html", message=message)
        flash(message, "error")
        return redirect(url_for("cases.detail", case_id=case.id), code=303)
    if is_htmx():
        form = ReturnForm(prefix=f"r{case.id}-", formdata=None, meta=SHOWN_ONLY)
        return render_template("cases/_return_form.html", case=case, form=form, fb=None, guard=None)
    consultation = get_row(s, Consultation, case.consultation_id)
    boxes = agenda.time_boxes(s, consultation, now=utcnow())
    return _queue_row(consultation, case, boxes, state="waiting", open_return=True)


@bp.post("/cases/<int:case_id>/return")
@login_required
def return_to_officer(case_id: int):
    s = db.get_session()
    # Read and checked before the change begins, as for accepting (_triage); return_case compares the
    # case's version and takes the guard's run for exactly the comment it stores.
    with db.read_before_writing():
        case = load_case_or_404(case_id, Action.RETURN_CASE)
        consultation = get_row(s, Consultation, case.consultation_id)
        form = ReturnForm(prefix=f"r{case.id}-")
        guard = cases.check_texts({"comment": form.comment.data or ""})
        valid = form.validate_on_submit()
    status, error = 400, None
    if valid:
        try:
            cases.return_case(
                s,
                case,
                actor=current_user,
                comment=form.comment.data,
                now=utcnow(),
                link=external_url("cases.detail", case_id=case.id),
                attestation=_attestation(form),
                checked=guard,
            )
        except cases.TransitionNotAllowed:
            status, error = 409, _l("The case has changed meanwhile and cannot be returned now.")
        except cases.DeidentificationRefused as exc:
            _mark_refused(form, exc.guard)
        except cases.WarningsNotConfirmed:
            form.confirm_warnings.errors.append(
                _l(
                    "Some words may identify a person. "
                    "Check the highlighted words, change them or tick the box."
                )
            )
        except cases.CaseError:
            abort(400)
        else:
            db.commit(then_read=True)
            message = _l(
                "Case %(reference)s has been returned. The case officer has been told by e-mail.",
                reference=case.reference,
            )
            if not is_htmx():
                flash(message, "success")
                return redirect(url_for("cases.queue", slug=consultation.slug), code=303)
            boxes = agenda.time_boxes(s, consultation, now=utcnow())
            return _queue_row(consultation, case, boxes, state="returned", message=message)
    _sync_confirmation(form, guard)
    fb = feedback_for(guard, {"comment": f"r{case.id}-comment"})["comment"]
    boxes = agenda.time_boxes(s, consultation, now=utcnow())
    return _queue_row(
        consultation,
        case,
        boxes,
        state=_queue_state(case),
        status=status,
        form=form,
        fb=fb,
        guard=guard,
        error=error,
    )
