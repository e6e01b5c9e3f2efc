"""Evaluations: the anonymous answer form, and the coordinator's and statistics viewers' pages.

The answer flow keeps the token out of every address but the first:
``GET /evaluation/<token>`` (the e-mail link; logs redact the token) only checks the token, keeps it in
the browser's signed session cookie and redirects to ``/evaluations/answer/<evaluation>``, which names
the meeting's evaluation but no person. The form posts there; the token travels in the cookie, is used
up in the same transaction as the counters, and is then forgotten. The answer views never load the
logged-in user (a respondent may be logged in): nothing in the database is touched on their behalf,
and no page or log line ties the request to an account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlmodel import select
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from samrad import db
from samrad.charts import Series, stacked_percent_bars
from samrad.extensions import login_manager
from samrad.i18n import date_filter
from samrad.models import Consultation, Meeting, utcnow
from samrad.models.evaluation import QuestionKind, ScaleOption
from samrad.periods import Period
from samrad.services import evaluations as service
from samrad.urls import evaluation_link
from samrad.web import guard
from samrad.web.access import Action, load_consultation, may
from samrad.web.forms import DecisionForm, options, period_between
from samrad.web.htmx import is_htmx, render

bp = Blueprint("evaluations", __name__)

#: Session key holding {evaluation public id: token} between the e-mail link and the answer.
TOKENS_KEY = "evaluation_tokens"
MAX_HELD_TOKENS = 5

SERIES_CLASSES = {
    ScaleOption.AGREE_FULLY: "chart-s1",
    ScaleOption.AGREE_PARTLY: "chart-s2",
    ScaleOption.DISAGREE: "chart-s3",
}


def min_respondents() -> int:
    return current_app.config["EVALUATION_MIN_RESPONDENTS"]


# --- Answering (anonymous) -------------------------------------------------------------------------


def anonymous(view):
    """Serve the view without ever loading the logged-in user: no session row is touched, no
    ``last_seen_at`` moves when someone answers, and the page does not show who is logged in."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        g._login_user = login_manager.anonymous_user()
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapped


def _message(title, message, status: int):
    return render_template("evaluations/message.html", title=title, message=message), status


def _unknown_link():
    return _message(
        _l("The link does not work"),
        _l(
            "The link may be incomplete, or the evaluation has closed: an evaluation is open for %(days)s "
            "days after the meeting. If you have already answered: thank you!",
            days=current_app.config["EVALUATION_OPEN_DAYS"],
        ),
        404,
    )


def _already_answered():
    return _message(
        _l("You have already answered"),
        _l("Each link works once, and this one has been used to answer. Thank you for your answers!"),
        409,
    )


def _closed():
    return _message(
        _l("The evaluation has closed"),
        _l("The evaluation of this meeting no longer takes answers. Nothing was saved."),
        410,
    )


def _held_tokens() -> dict[str, str]:
    held = session.get(TOKENS_KEY)
    return dict(held) if isinstance(held, dict) else {}


def _forget_token(public_id: str) -> None:
    held = _held_tokens()
    if held.pop(public_id, None) is not None:
        session[TOKENS_KEY] = held


@bp.get("/evaluation/<token>")
@anonymous
def land(token: str):
    """The e-mail link: check the token, keep it in the session cookie, move to a token-free address."""
    found = service.find_token(db.get_session(), token)
    if found is None:
        return _unknown_link()
    evaluation, used = found
    if used:
        return _already_answered()
    if not service.accepts_answers(evaluation, now=utcnow()):
        return _closed()
    held = _held_tokens()
    held[evaluation.public_id] = token
    session[TOKENS_KEY] = dict(list(held.items())[-MAX_HELD_TOKENS:])
    return redirect(url_for("evaluations.answer", public_id=evaluation.public_id), code=303)


class AnswerForm(FlaskForm):
    confirm_text = BooleanField(_l("I have checked the text: it points out nobody, so send it as it is"))


def _question_field(number: int) -> str:
    return f"q{number}"


def answer_form(questionnaire, formdata=None) -> AnswerForm:
    class Form_(AnswerForm):
        pass

    for q in questionnaire.questions:
        label = f"{q.number}. {q.text}"
        if q.kind == QuestionKind.SCALE:
            # The service checks the choice, so that its message (in Swedish) is the one shown.
            field = RadioField(
                label, choices=options((o.value, o.label) for o in ScaleOption), validate_choice=False
            )
        else:
            field = TextAreaField(
                label,
                description=_l(
                    "Optional, at most %(max)s characters. Do not write names or anything else that points "
                    "out a person – not even a colleague.",
                    max=service.TEXT_MAX,
                ),
                render_kw={"rows": 5},
            )
        setattr(Form_, _question_field(q.number), field)
    return Form_(formdata=formdata) if formdata is not None else Form_()


def _show_problems(form: AnswerForm, problems: dict[int, service.Problem]) -> None:
    for number, problem in problems.items():
        field = form[_question_field(number)]
        text = (field.data or "").replace("\r\n", "\n").strip()
        if problem.code == "missing":
            message = _l("Choose one of the answers.")
        elif problem.code == "invalid_option":
            message = _l("That answer is not one of the options. Choose one of the answers.")
        elif problem.code == "too_long":
            message = _l(
                "Write at most %(max)s characters (you wrote %(n)s).", max=service.TEXT_MAX, n=len(text)
            )
        elif problem.code == "identifying":
            blocking = [f for f in problem.findings if f.severity == "block"]
            message = _l(
                "The text contains %(what)s. Remove it and send again: the evaluation must not point out "
                "anyone.",
                what=guard.quoted(text, blocking),
            )
        else:
            message = _l(
                "The text may contain %(what)s. Make sure it points out nobody, not even a colleague. "
                "Change the text, or tick the box below the form to send it as it is.",
                what=guard.quoted(text, problem.findings),
            )
        field.errors = [*field.errors, message]


@bp.route("/evaluations/answer/<public_id>", methods=["GET", "POST"])
@anonymous
def answer(public_id: str):
    s = db.get_session()
    evaluation = service.evaluation_by_public_id(s, public_id) or abort(404)
    if not service.accepts_answers(evaluation, now=utcnow()):
        _forget_token(public_id)
        return _closed()
    token = _held_tokens().get(public_id)
    if token is None:
        return _message(
            _l("Open the link in your e-mail"),
            _l(
                "To answer, open the link in the e-mail you got after the meeting. If you have already "
                "answered: thank you!"
            ),
            400,
        )
    meeting = db.get_row(s, Meeting, evaluation.meeting_id)
    consultation = db.get_row(s, Consultation, meeting.consultation_id)
    form = answer_form(evaluation.questionnaire, request.form if request.method == "POST" else None)
    status = 200
    needs_confirmation = False
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            answers = {
                q.number: form[_question_field(q.number)].data for q in evaluation.questionnaire.questions
            }
            try:
                service.submit_answers(
                    s, evaluation, token, answers, now=utcnow(), confirm_warnings=bool(form.confirm_text.data)
                )
            except service.InvalidAnswers as exc:
                _show_problems(form, exc.problems)
                needs_confirmation = any(p.code == "check_names" for p in exc.problems.values())
                status = 400
            except service.TokenUsed:
                _forget_token(public_id)
                return _already_answered()
            except service.UnknownToken:
                _forget_token(public_id)
                return _unknown_link()
            except service.TokenForAnotherEvaluation:
                _forget_token(public_id)
                return _message(
                    _l("The link belongs to another meeting"),
                    _l(
                        "The link you opened is for the evaluation of another meeting. Open the link in the "
                        "e-mail about this meeting. Nothing was saved."
                    ),
                    409,
                )
            except service.EvaluationClosed:
                _forget_token(public_id)
                return _closed()
            else:
                db.commit()
                _forget_token(public_id)
                return redirect(url_for("evaluations.thanks"), code=303)
    return (
        render_template(
            "evaluations/answer.html",
            form=form,
            evaluation=evaluation,
            meeting=meeting,
            consultation=consultation,
            needs_confirmation=needs_confirmation,
            min_respondents=min_respondents(),
        ),
        status,
    )


@bp.get("/evaluations/thanks")
@anonymous
def thanks():
    return render_template("evaluations/thanks.html", min_respondents=min_respondents())


# --- Overview, opening and closing ----------------------------------------------------------------


@bp.get("/c/<slug>/evaluations")
@login_required
def index(slug: str):
    consultation = load_consultation(slug, Action.VIEW_STATISTICS)
    s = db.get_session()
    is_coordinator = may(Action.MANAGE_CONSULTATION, consultation)
    return render_template(
        "evaluations/index.html",
        consultation=consultation,
        rows=service.evaluations_overview(s, consultation),
        is_coordinator=is_coordinator,
        pending=len(service.pending_comments(s, consultation, min_respondents=min_respondents()))
        if may(Action.REVIEW_COMMENTS, consultation)
        else 0,
        period=PeriodForm(request.args, meta={"csrf": False}),
        decision=DecisionForm(),
        min_respondents=min_respondents(),
        now=utcnow(),
    )


def _meeting_in(consultation, public_id: str) -> Meeting:
    s = db.get_session()
    meeting = s.exec(
        select(Meeting)
        .where(Meeting.public_id == public_id)
        .where(Meeting.consultation_id == consultation.id)
    ).first()
    if meeting is None:
        abort(404)
    return meeting


def open_evaluation(meeting: Meeting):
    """Open the meeting's evaluation with the configured answering time (closing a meeting does too)."""
    return service.open_evaluation(
        db.get_session(),
        meeting,
        now=utcnow(),
        open_for=timedelta(days=current_app.config["EVALUATION_OPEN_DAYS"]),
        link_for=evaluation_link,
    )


@bp.post("/c/<slug>/meetings/<meeting_id>/evaluation")
@login_required
def open_(slug: str, meeting_id: str):
    consultation = load_consultation(slug, Action.MANAGE_CONSULTATION)
    meeting = _meeting_in(consultation, meeting_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        open_evaluation(meeting)
    except service.MeetingNotClosed:
        flash(_l("Only a meeting that has been held can be evaluated."), "error")
    except service.EvaluationExists:
        flash(_l("The evaluation of this meeting has already been opened."), "error")
    else:
        db.commit()
        flash(_l("The evaluation is open. Everyone who attended has been sent a link."), "success")
    return redirect(url_for("evaluations.index", slug=slug), code=303)


def _evaluation_in(consultation, public_id: str):
    s = db.get_session()
    evaluation = service.evaluation_by_public_id(s, public_id)
    if evaluation is None:
        abort(404)
    meeting = db.get_row(s, Meeting, evaluation.meeting_id)
    if meeting.consultation_id != consultation.id:
        abort(404)
    return evaluation, meeting


@bp.post("/c/<slug>/evaluations/<public_id>/close")
@login_required
def close(slug: str, public_id: str):
    consultation = load_consultation(slug, Action.MANAGE_CONSULTATION)
    evaluation, _meeting = _evaluation_in(consultation, public_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    if service.close_evaluation(db.get_session(), evaluation, now=utcnow()):
        db.commit()
        flash(_l("The evaluation is closed. No more answers are taken."), "success")
    else:
        flash(_l("The evaluation was already closed."), "info")
    return redirect(url_for("evaluations.index", slug=slug), code=303)


# --- Reports -----------------------------------------------------------------------------------------


class PeriodForm(FlaskForm):
    first = DateField(_l("From (meeting date)"), validators=[Optional()])
    last = DateField(_l("To (meeting date)"), validators=[Optional()])

    class Meta:
        csrf = False


def _period_from_request() -> tuple[PeriodForm, Period | None]:
    """The report's period from the query string (either end may be open), or None with a message."""
    form = PeriodForm(request.args, meta={"csrf": False})
    form.validate()
    return form, period_between(form.first, form.last)


def _meeting_label(meeting: Meeting) -> str:
    return date_filter(meeting.starts_at)


def _trend_charts(report: service.PeriodReport) -> dict[int, Markup]:
    charts = {}
    for number, text, points in report.trends:
        if not points:
            continue
        charts[number] = stacked_percent_bars(
            chart_id=f"trend-{number}",
            title=str(_l("%(number)s. %(text)s – answers per meeting", number=number, text=text)),
            description=str(
                _l(
                    "Stacked bars, one per meeting shown on its own, from the oldest to the newest: the "
                    "share who agreed fully, partly or not. The same numbers are in the table below."
                )
            ),
            categories=[_meeting_label(r.meeting) for r, _ in points],
            series=[
                Series(
                    str(option.label),
                    SERIES_CLASSES[option],
                    [float(q.options[i].percent) for _, q in points],
                    [f"{percent_filter(q.options[i].percent)} ({q.options[i].n})" for _, q in points],
                )
                for i, option in enumerate(ScaleOption)
            ],
        )
    return charts


@bp.get("/c/<slug>/evaluations/report")
@login_required
def report(slug: str):
    consultation = load_consultation(slug, Action.VIEW_STATISTICS)
    form, period = _period_from_request()
    if period is None:
        return render_template(
            "evaluations/report.html", consultation=consultation, period=form, report=None, charts={}
        ), 400
    result = service.period_report(db.get_session(), consultation, period, min_respondents=min_respondents())
    return render_template(
        "evaluations/report.html",
        consultation=consultation,
        period=form,
        report=result,
        charts=_trend_charts(result) if result.shown else {},
        options=list(ScaleOption),
    )


@bp.get("/c/<slug>/evaluations/report.csv")
@login_required
def report_export(slug: str):
    consultation = load_consultation(slug, Action.VIEW_STATISTICS)
    form, period = _period_from_request()
    if period is None:
        abort(400)
    result = service.period_report(db.get_session(), consultation, period, min_respondents=min_respondents())
    if not result.shown:
        return _message(
            _l("The report is withheld"),
            _l(
                "The period has fewer than %(k)s respondents, so nothing is exported. Choose a longer "
                "period.",
                k=min_respondents(),
            ),
            409,
        )
    response = Response(service.export_csv(result, per_meeting=True), mimetype="text/csv")
    first, last = form.first.data, form.last.data
    name = f"utvardering-{consultation.slug}-{first or 'start'}-{last or 'idag'}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/c/<slug>/evaluations/<public_id>")
@login_required
def meeting(slug: str, public_id: str):
    consultation = load_consultation(slug, Action.VIEW_STATISTICS)
    evaluation, meeting_ = _evaluation_in(consultation, public_id)
    result = service.meeting_report(db.get_session(), evaluation, min_respondents=min_respondents())
    return render_template(
        "evaluations/meeting.html",
        consultation=consultation,
        evaluation=evaluation,
        meeting=meeting_,
        report=result,
        min_respondents=min_respondents(),
    )


# --- Moderating free text --------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentItem:
    comment: object
    question: object
    meeting_starts_at: object
    #: What the guard found in the text, shown the way every form shows it.
    feedback: guard.Feedback


def comment_items(pending) -> list[CommentItem]:
    return [
        CommentItem(
            p.comment,
            p.question,
            p.meeting_starts_at,
            guard.Feedback("comment", f"comment-{p.comment.id}-text", p.comment.text, sorted(p.findings)),
        )
        for p in pending
    ]


@bp.app_template_filter("percent")
def percent_filter(value: Decimal) -> str:
    """66,67 % in Swedish, 66.67 % in English: at most two decimals, as in the published report."""
    return format_decimal(value, format="#,##0.##") + "\u00a0%"


@bp.get("/c/<slug>/evaluations/comments")
@login_required
def comments(slug: str):
    consultation = load_consultation(slug, Action.REVIEW_COMMENTS)
    return render_template(
        "evaluations/comments.html",
        consultation=consultation,
        pending=comment_items(
            service.pending_comments(db.get_session(), consultation, min_respondents=min_respondents())
        ),
        decision=DecisionForm(),
        min_respondents=min_respondents(),
    )


def _moderate(slug: str, comment_id: str, action, done_message):
    consultation = load_consultation(slug, Action.REVIEW_COMMENTS)
    s = db.get_session()
    comment = service.comment_in(s, consultation, comment_id)
    if comment is None:
        abort(404)
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        action(s, comment)
    except service.EvaluationStillOpen:
        abort(409)
    db.commit()
    if not is_htmx():
        flash(done_message, "success")
        return redirect(url_for("evaluations.comments", slug=slug), code=303)
    return render(
        "evaluations/comments.html",
        "evaluations/_comment_done.html",
        message=done_message,
        consultation=consultation,
        pending=[],
        decision=DecisionForm(),
        min_respondents=min_respondents(),
    )


@bp.post("/c/<slug>/evaluations/comments/<comment_id>/release")
@login_required
def release(slug: str, comment_id: str):
    return _moderate(
        slug, comment_id, service.release_comment, _l("Released: the comment appears in reports.")
    )


@bp.post("/c/<slug>/evaluations/comments/<comment_id>/remove")
@login_required
def remove(slug: str, comment_id: str):
    return _moderate(
        slug, comment_id, service.remove_comment, _l("Removed: the comment has been deleted for good.")
    )


# --- The questionnaire -----------------------------------------------------------------------------


class QuestionRow(Form):
    text = TextAreaField(
        _l("Question or statement"), validators=[Length(max=service.QUESTION_TEXT_MAX)], render_kw={"rows": 2}
    )
    kind = SelectField(
        _l("Kind of answer"),
        choices=options((k.value, k.label) for k in QuestionKind),
        default=QuestionKind.SCALE,
    )


class QuestionnaireForm(FlaskForm):
    base_version = HiddenField()
    title = StringField(_l("Title of the form"), validators=[DataRequired(), Length(max=service.TITLE_MAX)])
    questions = FieldList(FormField(QuestionRow), min_entries=1, max_entries=service.MAX_QUESTIONS)


EMPTY_ROWS = 3


@bp.route("/c/<slug>/evaluations/questionnaire", methods=["GET", "POST"])
@login_required
def questionnaire(slug: str):
    consultation = load_consultation(slug, Action.MANAGE_CONSULTATION)
    s = db.get_session()
    current = service.current_questionnaire(s, consultation)
    form = QuestionnaireForm() if request.method == "POST" else _questionnaire_form_for(current)
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            drafts = [
                service.QuestionDraft(QuestionKind(row.kind.data), row.text.data or "")
                for row in form.questions
            ]
            try:
                saved = service.save_questionnaire(
                    s,
                    consultation,
                    drafts,
                    title=form.title.data,
                    base_version=int(form.base_version.data or 0),
                    actor=current_user,
                    now=utcnow(),
                )
            except service.InvalidQuestionnaire as exc:
                _show_questionnaire_problems(form, exc.problems)
                status = 400
            except service.QuestionnaireChanged:
                flash(
                    _l(
                        "Someone else saved the form a moment ago. Here is their version; make your change "
                        "again."
                    ),
                    "error",
                )
                return redirect(url_for("evaluations.questionnaire", slug=slug), code=303)
            else:
                db.commit()
                if current is not None and saved.id == current.id:
                    flash(_l("Nothing was changed."), "info")
                else:
                    message = _l(
                        "Saved as version %(version)s. It is used from the next evaluation on.",
                        version=saved.version,
                    )
                    flash(message, "success")
                return redirect(url_for("evaluations.questionnaire", slug=slug), code=303)
    return render_template(
        "evaluations/questionnaire.html",
        consultation=consultation,
        form=form,
        current=current,
        versions=service.questionnaire_versions(s, consultation),
    ), status


def _questionnaire_form_for(current) -> QuestionnaireForm:
    """The editor filled with the current version (or the Norrbotten form) and a few empty rows."""
    drafts = (
        [service.QuestionDraft(q.kind, q.text) for q in current.questions]
        if current
        else (service.default_questions())
    )
    rows = [{"text": d.text, "kind": d.kind.value} for d in drafts]
    rows += [{"text": "", "kind": QuestionKind.SCALE.value}] * EMPTY_ROWS
    return QuestionnaireForm(
        data={
            "base_version": str(current.version if current else 0),
            "title": current.title if current else service.NORRBOTTEN_TITLE,
            "questions": rows,
        }
    )


def _show_questionnaire_problems(form: QuestionnaireForm, problems: dict[int, str]) -> None:
    if problems.get(0) == "no_questions":
        form.title.errors = [*form.title.errors, _l("The form needs at least one question.")]
    for index, problem in problems.items():
        if index and problem == "too_long":
            form.questions[index - 1].text.errors.append(
                _l("Write at most %(max)s characters.", max=service.QUESTION_TEXT_MAX)
            )
