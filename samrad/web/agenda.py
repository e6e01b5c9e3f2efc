"""The agenda: the coordinator's builder (triage, order, durations, publishing), the published agenda for
invitees (self-updating and printable), the confidentiality confirmation, and the meeting day.

Every builder change posts the page's ``revision`` and gets the builder partial back (htmx) or a redirect
(plain forms); a change of order gets only the agenda section back, with what the order changes and the new
revision out of band. A stale revision gets 409 with the current agenda and a message; nothing is lost.
"""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from samrad import db
from samrad.enums import AgendaItemKind, Attendance, AuditKind, CaseStatus, MeetingStatus
from samrad.models import Case, Consultation, Invitee, Meeting, utcnow
from samrad.services import agenda, cases, invitations, meetings
from samrad.urls import external_url
from samrad.web.access import Action, actor, load_case_or_404, load_meeting_or_404, may, require, viewed
from samrad.web.evaluations import open_evaluation
from samrad.web.forms import DecisionForm, parse_int
from samrad.web.guard import feedback_for
from samrad.web.htmx import is_htmx, render

bp = Blueprint("agenda", __name__)

BUILDER_PAGE, BUILDER = "agenda/builder.html", "agenda/_builder.html"
#: A change of order changes the agenda, its times and what publishing would say, nothing else.
BUILDER_ORDER = "agenda/_builder_order.html"
DAY_PAGE, DAY = "agenda/day.html", "agenda/_day.html"
ATTENDANCE_CHOICES = (Attendance.ON_SITE, Attendance.VIA_LINK, Attendance.ABSENT)


# --- Loading ---------------------------------------------------------------------------------------


def _coordinated(slug: str, public_id: str) -> tuple[Consultation, Meeting]:
    """404 for people who may not see the meeting, 403 for those who may but do not coordinate it."""
    return load_meeting_or_404(slug, public_id, Action.MANAGE_MEETING)


def _checked_post() -> int:
    """CSRF and the agenda revision the page was built from (400 when missing)."""
    if not DecisionForm().validate_on_submit():
        abort(400)
    revision = parse_int(request.form.get("revision"))
    if revision is None:
        abort(400)
    return revision


def _agenda_change(slug: str, public_id: str) -> tuple[Consultation, Meeting, int]:
    """The meeting, the coordinator's right to change its agenda, CSRF and the revision the page was built
    from, read before the change begins (on SQLite, before it takes the one write lock): every change of
    the agenda compares that revision with the stored one inside its transaction and moves it on
    (``agenda.advance_revision``), so a change made meanwhile refuses it rather than being written over."""
    with db.read_before_writing():
        consultation, meeting = _coordinated(slug, public_id)
    return consultation, meeting, _checked_post()


def _int(name: str) -> int | None:
    return parse_int(request.form.get(name, ""))


# --- The builder -----------------------------------------------------------------------------------


def _builder_context(
    consultation,
    meeting,
    *,
    conflict=None,
    message=None,
    focus=None,
    errors=None,
    entered=None,
    confirm=None,
    order_answer=False,
) -> dict:
    """What the builder shows; ``order_answer`` leaves out the sections a change of order cannot change (the
    queue, the accepted cases, the add-item form)."""
    s = db.get_session()
    now = utcnow()
    # The full page reads its three kinds of case at once; a change of order needs only the items'.
    read = None if order_answer else agenda.builder_cases(s, consultation, meeting)
    item_cases = agenda.item_cases(s, meeting) if read is None else read.items
    fit = agenda.agenda_fit(s, meeting)
    timed = agenda.item_times(meeting.starts_at, meeting.items)
    later = agenda.later_meetings(s, meeting)
    context = {
        "consultation": consultation,
        "meeting": meeting,
        "meeting_end": meetings.meeting_end(meeting),
        "timed": timed,
        "labels": {i.id: agenda.item_label(s, i) for i in meeting.items},
        "item_cases": item_cases,
        "agencies": agenda.agencies_for(s, meeting, item_cases),
        "honour": {iid: agenda.is_honour_related(c) for iid, c in item_cases.items()},
        "fit": fit,
        "later": later,
        "next_meeting": later[0] if later else None,
        "changes": agenda.change_lines(meeting, agenda.unpublished_changes(s, meeting)),
        "plan": agenda.publish_plan(s, meeting),
        "editable": meeting.status == MeetingStatus.PLANNED and meeting.starts_at > now,
        "conflict": conflict,
        "message": message,
        "focus": focus or "",
        "errors": errors or {},
        # What was typed into a refused field, shown again next to its message (keyed as ``errors``).
        "entered": entered or {},
        "confirm": confirm,
        "decision": DecisionForm(),
        "min_minutes": agenda.MIN_MINUTES,
        "max_minutes": agenda.MAX_MINUTES,
        "order_answer": order_answer,
    }
    if read is not None:
        context |= {
            "waiting": agenda.order_queue(read.waiting, fit.free),
            "accepted": read.accepted,
            "kinds": list(agenda.NON_CASE_KINDS),
        }
    return context


def _builder(consultation, meeting, status=200, **kw):
    return render(BUILDER_PAGE, BUILDER, status=status, **_builder_context(consultation, meeting, **kw))


def _after_change(consultation, meeting, message=None, focus=None, *, order_only=False):
    db.commit(then_read=True)
    if not is_htmx():
        return redirect(
            url_for("agenda.builder", slug=consultation.slug, public_id=meeting.public_id), code=303
        )
    if order_only:
        # The agenda section takes the old one's place; time, publishing, the message and every form's
        # revision come out of band (two fifths of the builder's bytes, and no queue to read).
        context = _builder_context(consultation, meeting, message=message, focus=focus, order_answer=True)
        response = make_response(render_template(BUILDER_ORDER, **context))
        response.headers["HX-Retarget"] = "#builder-items"
        response.headers["HX-Reswap"] = "outerHTML"
        response.vary.add("HX-Request")
        return response
    return _builder(consultation, meeting, message=message, focus=focus)


def _refused(consultation, meeting, exc: agenda.AgendaRefused, *, errors=None, entered=None, status=None):
    s = db.get_session()
    s.rollback()
    s.expire_all()
    meeting = s.get(Meeting, meeting.id)
    if errors is not None and exc.field:
        return _builder(consultation, meeting, status=400, errors=errors, entered=entered)
    return _builder(consultation, meeting, status=status or exc.status, conflict=exc.message)


@bp.get("/c/<slug>/meetings/<public_id>/agenda/edit")
@login_required
def builder(slug: str, public_id: str):
    consultation, meeting = _coordinated(slug, public_id)
    viewed(AuditKind.AGENDA, meeting.id, consultation_id=consultation.id)
    return _builder(consultation, meeting)


@bp.post("/c/<slug>/meetings/<public_id>/agenda/order")
@login_required
def order(slug: str, public_id: str):
    """Drag and drop posts every item in its new order; the up/down buttons post ``move=up:<id>``."""
    consultation, meeting, revision = _agenda_change(slug, public_id)
    s, now = db.get_session(), utcnow()
    move = request.form.get("move", "")
    focus = None
    try:
        if move:
            direction, _, raw = move.partition(":")
            if direction not in ("up", "down") or not raw.isdigit():
                abort(400)
            item_id = int(raw)
            agenda.move_item(s, meeting, item_id, direction, revision=revision, now=now)
            ids = [i.id for i in meeting.items if i.id is not None]
            index = ids.index(item_id)
            if direction == "up" and index == 0:
                direction = "down"
            elif direction == "down" and index == len(ids) - 1:
                direction = "up"
            focus = f"{direction}-{item_id}" if len(ids) > 1 else None
        else:
            try:
                ids = [int(v) for v in request.form.getlist("item")]
            except ValueError:
                abort(400)
            agenda.reorder(s, meeting, ids, revision=revision, now=now)
    except agenda.AgendaRefused as exc:
        return _refused(consultation, meeting, exc)
    return _after_change(
        consultation, meeting, message=_l("The order is saved."), focus=focus, order_only=True
    )


@bp.post("/c/<slug>/meetings/<public_id>/agenda/items")
@login_required
def add_item(slug: str, public_id: str):
    consultation, meeting, revision = _agenda_change(slug, public_id)
    try:
        kind = AgendaItemKind(request.form.get("kind", ""))
    except ValueError:
        kind = AgendaItemKind.CASE  # refused below with a field error
    try:
        agenda.add_item(
            db.get_session(),
            meeting,
            kind=kind,
            title=request.form.get("title", ""),
            duration=_int("duration") if request.form.get("duration", "").strip() else None,
            revision=revision,
            now=utcnow(),
        )
    except agenda.AgendaRefused as exc:
        typed = {("new", name): request.form.get(name, "") for name in ("kind", "title", "duration")}
        return _refused(consultation, meeting, exc, errors={("new", exc.field): exc.message}, entered=typed)
    return _after_change(consultation, meeting, message=_l("The item was added."))


def _case_for(meeting: Meeting, case_id: int) -> Case:
    case = load_case_or_404(case_id, Action.PLAN_CASE)
    if case.consultation_id != meeting.consultation_id:
        abort(404)
    return case


@bp.post("/c/<slug>/meetings/<public_id>/agenda/accept/<int:case_id>")
@login_required
def accept(slug: str, public_id: str, case_id: int):
    """Accept a waiting case for this meeting, or (``target``: a later meeting chosen in the same form) for
    a later one, as :func:`move_case` does."""
    consultation, meeting, revision = _agenda_change(slug, public_id)
    case = _case_for(meeting, case_id)
    target_id = _int("target")
    if target_id is not None and target_id != meeting.id:
        return _move_later(consultation, meeting, case, revision, target_id)
    try:
        agenda.accept_for_meeting(
            db.get_session(), meeting, case, actor=current_user, revision=revision, now=utcnow()
        )
    except agenda.AgendaRefused as exc:
        return _refused(consultation, meeting, exc)
    return _after_change(
        consultation, meeting, message=_l("Case %(reference)s is accepted.", reference=case.reference)
    )


@bp.post("/c/<slug>/meetings/<public_id>/agenda/cases/<int:case_id>")
@login_required
def add_case(slug: str, public_id: str, case_id: int):
    consultation, meeting, revision = _agenda_change(slug, public_id)
    case = _case_for(meeting, case_id)
    try:
        agenda.add_case(db.get_session(), meeting, case, revision=revision, now=utcnow())
    except agenda.AgendaRefused as exc:
        return _refused(consultation, meeting, exc)
    return _after_change(
        consultation,
        meeting,
        message=_l("Case %(reference)s is on the agenda.", reference=case.reference),
    )


@bp.post("/c/<slug>/meetings/<public_id>/agenda/move-case/<int:case_id>")
@login_required
def move_case(slug: str, public_id: str, case_id: int):
    consultation, meeting, revision = _agenda_change(slug, public_id)
    return _move_later(consultation, meeting, _case_for(meeting, case_id), revision, _int("target"))


def _move_later(consultation, meeting, case, revision: int, target_id: int | None):
    """Accept a waiting case for a later meeting, or move one accepted here there (the first later meeting
    when none is named); the case officer is told."""
    s = db.get_session()
    target = s.get(Meeting, target_id) if target_id else None
    if target is None:
        later = agenda.later_meetings(s, meeting)
        target = later[0] if later else None
    if target is None or target.consultation_id != consultation.id:
        return _refused(consultation, meeting, agenda.AgendaRefused(_l("There is no later meeting yet.")))
    try:
        agenda.move_to_meeting(
            s,
            meeting,
            case,
            target,
            actor=current_user,
            revision=revision,
            now=utcnow(),
            link=external_url("cases.detail", case_id=case.id),
        )
    except agenda.AgendaRefused as exc:
        return _refused(consultation, meeting, exc)
    except cases.CaseError:
        return _refused(consultation, meeting, agenda.AgendaRefused(_l("The case can no longer be moved.")))
    return _after_change(
        consultation,
        meeting,
        message=_l(
            "Case %(reference)s moves to a later meeting. The case officer has been told.",
            reference=case.reference,
        ),
    )


@bp.post("/c/<slug>/meetings/<public_id>/agenda/items/<int:item_id>/duration")
@login_required
def duration(slug: str, public_id: str, item_id: int):
    consultation, meeting, revision = _agenda_change(slug, public_id)
    try:
        agenda.set_duration(
            db.get_session(), meeting, item_id, _int("duration"), revision=revision, now=utcnow()
        )
    except agenda.AgendaRefused as exc:
        return _refused(
            consultation,
            meeting,
            exc,
            errors={(item_id, exc.field): exc.message},
            entered={(item_id, "duration"): request.form.get("duration", "")},
        )
    return _after_change(
        consultation, meeting, message=_l("The length is saved."), focus=f"duration-{item_id}"
    )


@bp.post("/c/<slug>/meetings/<public_id>/agenda/items/<int:item_id>/remove")
@login_required
def remove(slug: str, public_id: str, item_id: int):
    consultation, meeting, revision = _agenda_change(slug, public_id)
    try:
        agenda.remove_item(db.get_session(), meeting, item_id, revision=revision, now=utcnow())
    except agenda.AgendaRefused as exc:
        return _refused(consultation, meeting, exc)
    return _after_change(consultation, meeting, message=_l("The item was taken off the agenda."))


@bp.post("/c/<slug>/meetings/<public_id>/agenda/publish")
@login_required
def publish(slug: str, public_id: str):
    consultation, meeting, revision = _agenda_change(slug, public_id)
    s, now = db.get_session(), utcnow()
    try:
        version = agenda.publish(
            s,
            meeting,
            actor=current_user,
            revision=revision,
            confirmed=request.form.get("confirm") == "yes",
            now=now,
            link=external_url("agenda.show", slug=slug, public_id=public_id),
        )
        if version.version == 1:
            agenda.roll_over_missed(
                s, meeting, now=now, link_for=lambda c: external_url("cases.detail", case_id=c.id)
            )
    except agenda.ConfirmationNeeded as exc:
        s.rollback()
        return _builder(consultation, meeting, confirm=exc)
    except agenda.AgendaRefused as exc:
        return _refused(consultation, meeting, exc)
    except invitations.InvitationRefused as exc:
        return _refused(consultation, meeting, agenda.AgendaRefused(exc.message))
    return _after_change(
        consultation,
        meeting,
        message=_l(
            "Version %(n)s of the agenda is published. The people it concerns have been told.",
            n=version.version,
        ),
    )


# --- The published agenda --------------------------------------------------------------------------


def _viewer(slug: str, public_id: str) -> tuple[Consultation, Meeting]:
    """The meeting for its agenda: before anything is published everyone who sees the meeting learns just
    that; afterwards only the coordinators and the invited (403 e.g. for a case officer not invited)."""
    consultation, meeting = load_meeting_or_404(slug, public_id)
    if meeting.published_version:
        require(Action.VIEW_AGENDA, meeting)
    return consultation, meeting


@bp.get("/c/<slug>/meetings/<public_id>/agenda")
@login_required
def show(slug: str, public_id: str):
    consultation, meeting = _viewer(slug, public_id)
    s = db.get_session()
    if is_htmx() and request.args.get("v") == str(meeting.published_version):
        return _unchanged()  # polling: nothing new, keep the page (and the reader's focus) as it is
    viewed(AuditKind.AGENDA, meeting.id, consultation_id=consultation.id)
    published = agenda.versions(s, meeting)  # oldest first; the page shows the latest and the history
    version = published[-1] if published else None
    snapshot = json.loads(version.snapshot) if version is not None else []
    wanted = [row["case_id"] for row in snapshot if row["case_id"]]
    visible = cases.visible_case_ids(s, actor(), wanted) if wanted else set()
    rows = [
        {
            **row,
            "starts_at": meeting.starts_at + timedelta(minutes=row["offset"]),
            "label": agenda.row_label(row),
            "linked": row["case_id"] in visible,  # the person may open the case
        }
        for row in snapshot
    ]
    history = [(v, agenda.version_lines(meeting, v)) for v in reversed(published)]
    return render(
        "agenda/show.html",
        "agenda/_published.html",
        consultation=consultation,
        meeting=meeting,
        meeting_end=meetings.meeting_end(meeting),
        version=version,
        rows=rows,
        history=history,
        coordinator=may(Action.MANAGE_MEETING, meeting),
    )


def _unchanged():
    response = make_response("", 204)
    response.vary.add("HX-Request")
    return response


# --- Confidentiality -------------------------------------------------------------------------------


@bp.route("/c/<slug>/meetings/<public_id>/confidentiality", methods=["GET", "POST"])
@login_required
def confidentiality(slug: str, public_id: str):
    consultation, meeting = _viewer(slug, public_id)
    s = db.get_session()
    case_id = request.values.get("case", type=int)
    form = DecisionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if request.form.get("confirm") == "yes":
            agenda.confirm_confidentiality(s, meeting, current_user, now=utcnow())
            db.commit()
            if case_id:
                return redirect(url_for("cases.detail", case_id=case_id), code=303)
            return redirect(url_for("agenda.show", slug=slug, public_id=public_id), code=303)
    return render(
        "agenda/confidentiality.html",
        "agenda/confidentiality.html",
        consultation=consultation,
        meeting=meeting,
        case_id=case_id,
        decision=form,
        missing=request.method == "POST",
    ), (400 if request.method == "POST" else 200)


# --- The meeting day -------------------------------------------------------------------------------


def _day_context(
    consultation,
    meeting,
    *,
    conflict=None,
    message=None,
    advice_errors=None,
    advice_values=None,
    guard=None,
    focus=None,
) -> dict:
    s = db.get_session()
    rows, counts = invitations.overview(s, meeting)
    timed = agenda.item_times(meeting.starts_at, meeting.items)
    item_cases = agenda.item_cases(s, meeting)
    return {
        "consultation": consultation,
        "meeting": meeting,
        "rows": rows,
        "timed": timed,
        "labels": {i.id: agenda.item_label(s, i) for i in meeting.items},
        "item_cases": item_cases,
        "agencies": agenda.agencies_for(s, meeting, item_cases),
        "attendance_choices": ATTENDANCE_CHOICES,
        "open": meeting.status == MeetingStatus.PLANNED,
        "conflict": conflict,
        "message": message,
        "advice_errors": advice_errors or {},
        "advice_values": advice_values or {},
        "guard": guard or {},
        "feedback": {
            iid: feedback_for(exc.guard, {"advice": f"advice-{iid}"})["advice"]
            for iid, exc in (guard or {}).items()
        },
        "focus": focus or "",
        "decision": DecisionForm(),
        "discussed": CaseStatus.DISCUSSED,
    }


@bp.get("/c/<slug>/meetings/<public_id>/day")
@login_required
def day(slug: str, public_id: str):
    consultation, meeting = _coordinated(slug, public_id)
    viewed(AuditKind.AGENDA, meeting.id, consultation_id=consultation.id)
    return render(DAY_PAGE, DAY, **_day_context(consultation, meeting))


def _day_refused(consultation, meeting, exc, status=409, **kw):
    s = db.get_session()
    s.rollback()
    s.expire_all()
    meeting = s.get(Meeting, meeting.id)
    return render(DAY_PAGE, DAY, status=status, **_day_context(consultation, meeting, **kw))


def _day_done(consultation, meeting, message, focus=None):
    db.commit(then_read=True)
    if not is_htmx():
        return redirect(url_for("agenda.day", slug=consultation.slug, public_id=meeting.public_id), code=303)
    return render(DAY_PAGE, DAY, **_day_context(consultation, meeting, message=message, focus=focus))


@bp.post("/c/<slug>/meetings/<public_id>/day/attendance/<int:invitee_id>")
@login_required
def attendance(slug: str, public_id: str, invitee_id: int):
    consultation, meeting = _coordinated(slug, public_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    s = db.get_session()
    invitee = s.get(Invitee, invitee_id)
    if invitee is None or invitee.meeting_id != meeting.id:
        abort(404)
    try:
        value = Attendance(request.form.get("attendance", ""))
    except ValueError:
        abort(400)
    try:
        agenda.record_attendance(s, meeting, invitee, value, now=utcnow())
    except agenda.AgendaRefused as exc:
        return _day_refused(consultation, meeting, exc, conflict=exc.message)
    return _day_done(
        consultation, meeting, _l("Attendance is saved."), focus=f"att-{invitee_id}-{value.value}"
    )


@bp.post("/c/<slug>/meetings/<public_id>/day/items/<int:item_id>")
@login_required
def advice(slug: str, public_id: str, item_id: int):
    consultation, meeting = _coordinated(slug, public_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    text = request.form.get("advice", "")
    try:
        agenda.record_advice(
            db.get_session(),
            meeting,
            item_id,
            advice=text,
            follow_up=request.form.get("follow_up") == "yes",
            discussed=request.form.get("discussed") == "yes",
            confirmed_digest=request.form.get("confirm_digest", "") if request.form.get("confirm") else "",
            now=utcnow(),
        )
    except agenda.AdviceRefused as exc:
        return _day_refused(
            consultation,
            meeting,
            exc,
            status=400,
            advice_errors={item_id: exc.message},
            advice_values={item_id: text},
            guard={item_id: exc},
        )
    except agenda.AgendaRefused as exc:
        if exc.field:
            return _day_refused(
                consultation,
                meeting,
                exc,
                status=400,
                advice_errors={item_id: exc.message},
                advice_values={item_id: text},
            )
        return _day_refused(consultation, meeting, exc, conflict=exc.message)
    return _day_done(consultation, meeting, _l("The advice is saved."), focus=f"advice-{item_id}")


@bp.post("/c/<slug>/meetings/<public_id>/close")
@login_required
def close(slug: str, public_id: str):
    consultation, meeting = _coordinated(slug, public_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        agenda.close_meeting(db.get_session(), meeting, now=utcnow())
        open_evaluation(meeting)
    except agenda.AgendaRefused as exc:
        return _day_refused(consultation, meeting, exc, conflict=exc.message)
    return _day_done(consultation, meeting, _l("The meeting is closed."))
