"""Meetings: the list, one meeting's page, answers (in the app and through the e-mailed link), the
coordinator's changes, break periods, invitations, and the personal calendar feed."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from samrad import db, i18n
from samrad.clock import STOCKHOLM, stockholm_date
from samrad.enums import MeetingStatus, Role, Rsvp
from samrad.models import BreakPeriod, Consultation, Meeting, User, get_row, utcnow
from samrad.services import access, agenda, feeds, invitations, meetings
from samrad.urls import external_url
from samrad.web import start
from samrad.web.access import Action, actor, load_consultation, load_meeting_or_404, may
from samrad.web.forms import SHOWN_ONLY, DecisionForm
from samrad.web.htmx import hx_redirect, is_htmx, render
from samrad.web.limits import limited
from samrad.web.meeting_forms import (
    NO_SUBSTITUTE,
    BreakPeriodForm,
    ExtendSeriesForm,
    MeetingForm,
    MoveMeetingForm,
    RevisionForm,
    RsvpForm,
)

bp = Blueprint("meetings", __name__)

#: How far ahead the coordinator's "plan ahead" form proposes, and the skipped dates shown.
PLAN_AHEAD = timedelta(days=91)


# --- Access ----------------------------------------------------------------------------------------


def _consultation(slug: str) -> Consultation:
    return load_consultation(slug, Action.VIEW_CONSULTATION)


def _is_coordinator(consultation: Consultation) -> bool:
    return may(Action.MANAGE_CONSULTATION, consultation)


def _coordinator_consultation(slug: str) -> Consultation:
    return load_consultation(slug, Action.MANAGE_CONSULTATION)


def _meeting(slug: str, public_id: str, *, coordinator: bool = False) -> tuple[Consultation, Meeting]:
    """A meeting for people with a role in its consultation and for its invitees (e.g. a substitute)."""
    return load_meeting_or_404(slug, public_id, Action.MANAGE_MEETING if coordinator else Action.VIEW_MEETING)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# --- The list of meetings --------------------------------------------------------------------------


#: Past meetings listed before "show earlier meetings" (a year of the usual rhythm).
PAST_SHOWN = 26


def _index_page(
    consultation: Consultation, *, status: int = 200, add_form=None, extend_form=None, break_form=None
):
    s = db.get_session()
    now = utcnow()
    coordinator = _is_coordinator(consultation)
    earlier = request.args.get("earlier") == "1"
    context = {
        "consultation": consultation,
        "upcoming": meetings.upcoming_meetings(s, consultation, now=now, agendas=False),
        "past": meetings.past_meetings(s, consultation, now=now, limit=None if earlier else PAST_SHOWN),
        "earlier": earlier,
        "past_shown": PAST_SHOWN,
        "coordinator": coordinator,
        "now": now,
    }
    if coordinator:
        today = stockholm_date(now)
        if add_form is None:
            add_form = MeetingForm(
                formdata=None, meta=SHOWN_ONLY, place=consultation.place, time=consultation.start_time
            )
        if extend_form is None:
            extend_form = ExtendSeriesForm(formdata=None, meta=SHOWN_ONLY, until=today + PLAN_AHEAD)
        breaks = meetings.break_periods(s, consultation)
        context.update(
            add_form=add_form,
            extend_form=extend_form,
            break_form=break_form or BreakPeriodForm(formdata=None, meta=SHOWN_ONLY),
            breaks=breaks,
            skipped=[
                slot
                for slot in meetings.planned_slots(
                    s, consultation, first=today, last=today + 2 * PLAN_AHEAD, breaks=breaks
                )
                if slot.skipped
            ],
            decision=DecisionForm(),
        )
    return render_template("meetings/index.html", **context), status


@bp.get("/c/<slug>/meetings")
@login_required
def index(slug: str):
    return _index_page(_consultation(slug))


@bp.post("/c/<slug>/meetings/plan")
@login_required
def extend(slug: str):
    consultation = _coordinator_consultation(slug)
    form = ExtendSeriesForm()
    now = utcnow()
    if not form.validate_on_submit():
        return _index_page(consultation, status=400, extend_form=form)
    created = meetings.extend_series(db.get_session(), consultation, until=form.until.data, now=now)
    db.commit()
    flash(_l("%(n)s meetings were added to the series.", n=len(created)), "success")
    return redirect(url_for("meetings.index", slug=slug), code=303)


@bp.post("/c/<slug>/meetings/new")
@login_required
def add(slug: str):
    consultation = _coordinator_consultation(slug)
    form = MeetingForm()
    if not form.validate_on_submit():
        return _index_page(consultation, status=400, add_form=form)
    try:
        meeting = meetings.add_meeting(
            db.get_session(),
            consultation,
            day=form.date.data,
            at=form.time.data,
            place=form.place.data,
            now=utcnow(),
        )
    except meetings.MeetingRefused as exc:
        getattr(form, exc.field or "date").errors.append(exc.message)
        return _index_page(consultation, status=400, add_form=form)
    db.commit()
    flash(_l("The meeting was added. Send the invitations when you are ready."), "success")
    return redirect(url_for("meetings.show", slug=slug, public_id=meeting.public_id), code=303)


@bp.post("/c/<slug>/breaks")
@login_required
def add_break(slug: str):
    consultation = _coordinator_consultation(slug)
    form = BreakPeriodForm()
    if not form.validate_on_submit():
        return _index_page(consultation, status=400, break_form=form)
    try:
        _, cancelled = meetings.add_break_period(
            db.get_session(),
            consultation,
            label=form.label.data,
            first_day=form.first_day.data,
            last_day=form.last_day.data,
            now=utcnow(),
        )
    except meetings.MeetingRefused as exc:
        # Nothing half done stays, nor shows: a meeting in the break may have been moved meanwhile.
        db.get_session().rollback()
        getattr(form, exc.field or "first_day").errors.append(exc.message)
        return _index_page(consultation, status=400, break_form=form)
    db.commit()
    if cancelled:
        flash(
            _l(
                "The break was added. %(n)s meetings in it were cancelled and the invitees told.",
                n=len(cancelled),
            ),
            "success",
        )
    else:
        flash(_l("The break was added."), "success")
    return redirect(url_for("meetings.index", slug=slug), code=303)


@bp.post("/c/<slug>/breaks/<int:break_id>/delete")
@login_required
def remove_break(slug: str, break_id: int):
    consultation = _coordinator_consultation(slug)
    s = db.get_session()
    period = s.get(BreakPeriod, break_id)
    if period is None or period.consultation_id != consultation.id:
        abort(404)
    if not DecisionForm().validate_on_submit():
        abort(400)
    created = meetings.remove_break_period(s, period, now=utcnow())
    db.commit()
    flash(_l("The break was removed. %(n)s meetings were added in its place.", n=len(created)), "success")
    return redirect(url_for("meetings.index", slug=slug), code=303)


# --- One meeting -----------------------------------------------------------------------------------


def _rsvp_form(invitee, formdata=None) -> RsvpForm:
    form = RsvpForm(formdata=formdata)
    form.set_substitutes(invitations.substitute_choices(db.get_session(), invitee) if invitee else [])
    if formdata is None and invitee is not None:
        form.answer.data = invitee.rsvp.value if invitee.rsvp != Rsvp.NO_ANSWER else None
        form.substitute.data = invitee.substitute_user_id or NO_SUBSTITUTE
    return form


def _move_form(meeting: Meeting, formdata=None) -> MoveMeetingForm:
    if formdata is not None:
        return MoveMeetingForm(formdata=formdata)
    local = meeting.starts_at.astimezone(STOCKHOLM)
    return MoveMeetingForm(
        formdata=None,
        date=local.date(),
        time=local.time().replace(tzinfo=None),
        place=meeting.place,
        revision=meeting.revision,
    )


def _show_context(
    consultation: Consultation,
    meeting: Meeting,
    *,
    rsvp_form=None,
    move_form=None,
    message=None,
    conflict=None,
) -> dict:
    s = db.get_session()
    now = utcnow()
    invitee = invitations.invitee_for_user(s, meeting, current_user)
    standing = invitee is None and current_user.id in {
        u.id for u in invitations.standing_users(s, consultation)
    }
    coordinator = _is_coordinator(consultation)
    context = {
        "consultation": consultation,
        "meeting": meeting,
        "meeting_end": meetings.meeting_end(meeting),
        "invitee": invitee,
        "can_answer": (invitee is not None or standing)
        and meeting.status == MeetingStatus.PLANNED
        and meetings.meeting_end(meeting) > now,
        "rsvp_form": rsvp_form or _rsvp_form(invitee),
        "coordinator": coordinator,
        "started": meetings.has_started(meeting, now),
        "message": message,
        "conflict": conflict,
    }
    if coordinator:
        rows, counts = invitations.overview(s, meeting)
        context.update(
            rows=rows,
            counts=counts,
            pending=invitations.pending_count(s, meeting),
            move_form=move_form or _move_form(meeting),
            agency_rows=agenda.agency_rows(s, meeting),
            cancel_form=RevisionForm(formdata=None, revision=meeting.revision),
            decision=DecisionForm(),
        )
    return context


@bp.get("/c/<slug>/meetings/<public_id>")
@login_required
def show(slug: str, public_id: str):
    consultation, meeting = _meeting(slug, public_id)
    return render_template("meetings/show.html", **_show_context(consultation, meeting))


@bp.get("/c/<slug>/meetings/<public_id>/video")
@login_required
def video(slug: str, public_id: str):
    """The meeting's video room, for the people who may have it now (a presenter around their slot)."""
    consultation, meeting = _meeting(slug, public_id)
    if not meeting.video_url:
        abort(404)
    if may(Action.VIEW_VIDEO_LINK, meeting):
        return _no_store(redirect(meeting.video_url, code=303))
    s = db.get_session()
    invitee = access.invitation(s, actor(), meeting)
    window = access.presenter_window(s, meeting, invitee) if invitee is not None else None
    return _no_store(
        make_response(
            render_template("meetings/video.html", consultation=consultation, meeting=meeting, window=window),
            403,
        )
    )


@bp.post("/c/<slug>/meetings/<public_id>/rsvp")
@login_required
def answer(slug: str, public_id: str):
    consultation, meeting = _meeting(slug, public_id)
    s = db.get_session()
    invitee = invitations.ensure_standing_invitee(s, meeting, current_user)
    if invitee is None:
        abort(403)
    form = _rsvp_form(invitee, formdata=request.form)
    # Answered with one of the start page's buttons: the start page's panel comes back, not the meeting's.
    from_start = request.form.get("context") == "start" and Role.MEMBER in access.start_panels(
        actor(), consultation.id
    )
    status = 400
    if form.validate_on_submit():
        substitute = s.get(User, form.substitute.data) if form.substitute.data else None
        try:
            invitations.set_rsvp(
                s, meeting, invitee, Rsvp(form.answer.data), substitute=substitute, now=utcnow()
            )
        except invitations.InvitationRefused as exc:
            getattr(form, exc.field or "answer").errors.append(exc.message)
        else:
            db.commit(then_read=True)
            if from_start:
                return _answered_on_start_page(consultation, message=_l("Thank you, your answer is saved."))
            if not is_htmx():
                flash(_l("Thank you, your answer is saved."), "success")
                return redirect(url_for("meetings.show", slug=slug, public_id=public_id), code=303)
            form, status = _rsvp_form(invitee), 200
    if from_start and status == 400 and is_htmx():
        return _answered_on_start_page(
            consultation, error=" ".join(str(e) for e in [*form.answer.errors, *form.substitute.errors])
        )
    context = _show_context(
        consultation,
        meeting,
        rsvp_form=form,
        message=_l("Thank you, your answer is saved.") if status == 200 else None,
    )
    response = render("meetings/show.html", "meetings/_rsvp.html", status=status, **context)
    if status == 200:
        response.headers["HX-Trigger"] = "rsvp-changed"
    return response


def _answered_on_start_page(consultation: Consultation, *, message=None, error=None):
    """The start page's member panel after an answer given on it (a refused answer is shown there too;
    htmx swaps only 2xx answers, so it comes back as 200)."""
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("pages.index"), code=303)
    response = make_response(start.render_panel(consultation, Role.MEMBER, message=message, error=error))
    if error is None:
        response.headers["HX-Trigger"] = "rsvp-changed"
    return response


@bp.get("/c/<slug>/meetings/<public_id>/overview")
@login_required
def overview(slug: str, public_id: str):
    consultation, meeting = _meeting(slug, public_id, coordinator=True)
    if not is_htmx():
        return redirect(url_for("meetings.show", slug=slug, public_id=public_id) + "#overview", code=303)
    return render("meetings/show.html", "meetings/_overview.html", **_show_context(consultation, meeting))


def _refused(consultation, meeting, exc, *, move_form=None, status=409):
    s = db.get_session()
    s.rollback()
    s.refresh(meeting)
    conflict = exc.message
    if move_form is not None and exc.field:
        getattr(move_form, exc.field).errors.append(exc.message)
        conflict, status = None, 400
    if isinstance(exc, meetings.MeetingChanged):
        move_form = None  # show the other coordinator's version
    context = _show_context(consultation, meeting, move_form=move_form, conflict=conflict)
    return render_template("meetings/show.html", **context), status


@bp.post("/c/<slug>/meetings/<public_id>/move")
@login_required
def move(slug: str, public_id: str):
    consultation, meeting = _meeting(slug, public_id, coordinator=True)
    form = _move_form(meeting, formdata=request.form)
    if not form.validate_on_submit():
        if form.revision.errors:
            abort(400)
        return render_template(
            "meetings/show.html", **_show_context(consultation, meeting, move_form=form)
        ), 400
    try:
        changed = meetings.move_meeting(
            db.get_session(),
            meeting,
            day=form.date.data,
            at=form.time.data,
            place=form.place.data,
            revision=form.revision.data,
            now=utcnow(),
        )
    except meetings.MeetingRefused as exc:
        return _refused(consultation, meeting, exc, move_form=form)
    except invitations.InvitationRefused as exc:
        return _refused(consultation, meeting, exc)
    db.commit()
    if changed:
        flash(
            _l("The meeting was changed. Everyone who had an invitation has been sent the new version."),
            "success",
        )
    else:
        flash(_l("Nothing was changed."), "success")
    return redirect(url_for("meetings.show", slug=slug, public_id=public_id), code=303)


@bp.post("/c/<slug>/meetings/<public_id>/cancel")
@login_required
def cancel(slug: str, public_id: str):
    consultation, meeting = _meeting(slug, public_id, coordinator=True)
    form = RevisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        meetings.cancel_meeting(db.get_session(), meeting, revision=form.revision.data, now=utcnow())
    except meetings.MeetingRefused as exc:
        return _refused(consultation, meeting, exc)
    db.commit()
    flash(_l("The meeting is cancelled. Everyone who had an invitation has been told."), "success")
    return redirect(url_for("meetings.show", slug=slug, public_id=public_id), code=303)


@bp.post("/c/<slug>/meetings/<public_id>/invitations")
@login_required
def send(slug: str, public_id: str):
    consultation, meeting = _meeting(slug, public_id, coordinator=True)
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        count = invitations.send_invitations(db.get_session(), meeting, now=utcnow())
    except invitations.InvitationRefused as exc:
        return _refused(consultation, meeting, exc)
    db.commit()
    flash(_l("%(n)s invitations were sent.", n=count), "success")
    return redirect(url_for("meetings.show", slug=slug, public_id=public_id), code=303)


# --- Answering through the e-mailed link (no login) ------------------------------------------------


def _token_page(template: str, status: int = 200, **context):
    return _no_store(make_response(render_template(template, **context), status))


def _invitee_for_link(token: str):
    """(invitee, meeting, consultation, problem): problem is None, "invalid" or "closed"."""
    s = db.get_session()
    invitee = invitations.invitee_for_rsvp_token(s, token)
    if invitee is None:
        return None, None, None, "invalid"
    meeting = get_row(s, Meeting, invitee.meeting_id)
    consultation = get_row(s, Consultation, meeting.consultation_id)
    if (
        invitee.removed_at is not None
        or meeting.status != MeetingStatus.PLANNED
        or meetings.meeting_end(meeting) <= utcnow()
    ):
        return invitee, meeting, consultation, "closed"
    return invitee, meeting, consultation, None


@bp.route("/rsvp/<token>", methods=["GET", "POST"])
@limited("links", methods=("GET", "POST"))
def rsvp(token: str):
    invitee, meeting, consultation, problem = _invitee_for_link(token)
    if problem == "invalid":
        return _token_page("meetings/rsvp_invalid.html", 404, closed=False)
    if problem == "closed":
        return _token_page(
            "meetings/rsvp_invalid.html", 410, closed=True, meeting=meeting, consultation=consultation
        )
    s = db.get_session()
    form = _rsvp_form(invitee, formdata=request.form if request.method == "POST" else None)
    if request.method == "GET" and request.args.get("answer") in {
        c.value for c in Rsvp if c != Rsvp.NO_ANSWER
    }:
        form.answer.data = request.args["answer"]
    saved, status = False, 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            substitute = s.get(User, form.substitute.data) if form.substitute.data else None
            try:
                invitations.set_rsvp(
                    s, meeting, invitee, Rsvp(form.answer.data), substitute=substitute, now=utcnow()
                )
            except invitations.InvitationRefused as exc:
                getattr(form, exc.field or "answer").errors.append(exc.message)
            else:
                db.commit(then_read=True)
                saved, status = True, 200
    user = s.get(User, invitee.user_id) if invitee.user_id else None
    return _token_page(
        "meetings/rsvp.html",
        status,
        form=form,
        invitee=invitee,
        meeting=meeting,
        consultation=consultation,
        meeting_end=meetings.meeting_end(meeting),
        saved=saved,
        person=user,
        token=token,
        video_link=invitations.video_link(consultation, meeting, invitee),
    )


# --- Personal calendar feed ------------------------------------------------------------------------


@bp.get("/calendar-feed")
@login_required
def feed_settings():
    feed = feeds.feed_of(db.get_session(), current_user)
    return render_template("meetings/feed.html", feed=feed, feed_url=None, decision=DecisionForm())


@bp.post("/calendar-feed")
@login_required
def create_feed():
    if not DecisionForm().validate_on_submit():
        abort(400)
    s = db.get_session()
    token = feeds.create_feed(s, current_user, now=utcnow())
    db.commit()
    url = external_url("meetings.feed", token=token)
    return _no_store(
        make_response(
            render_template(
                "meetings/feed.html",
                feed=feeds.feed_of(s, current_user),
                feed_url=url,
                decision=DecisionForm(),
            )
        )
    )


@bp.post("/calendar-feed/revoke")
@login_required
def revoke_feed():
    if not DecisionForm().validate_on_submit():
        abort(400)
    feeds.revoke_feed(db.get_session(), current_user)
    db.commit()
    flash(
        _l("Your calendar address no longer works. Remove the calendar from your calendar program."),
        "success",
    )
    return hx_redirect(url_for("meetings.feed_settings"))


@bp.get("/feed/<token>.ics")
@limited("links", methods=("GET",))
def feed(token: str):
    s = db.get_session()
    now = utcnow()
    found = feeds.user_for_token(s, token, now=now)
    if found is None:
        abort(404)
    user, record_use = found
    if record_use:
        db.write_after_response(lambda ws: feeds.record_use(ws, token, now=now))
    with force_locale(i18n.locale_of(user.locale)):
        body = feeds.feed_calendar(s, user, now=now)
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="samrad.ics"'
    # Calendar programs poll the feed: an unchanged feed is answered 304 with no body. Only the person's
    # own calendar may keep a copy ("private"), and it must ask again each time ("no-cache").
    response.headers["Cache-Control"] = "private, no-cache"
    response.add_etag()
    return response.make_conditional(request)
