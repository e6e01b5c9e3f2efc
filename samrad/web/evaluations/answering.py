"""The anonymous answer form of an evaluation.

The answer flow keeps the token out of every address but the first:
``GET /evaluation/<token>`` (the e-mail link; logs redact the token) only checks the token, keeps it
sealed in the browser's session cookie (AES-GCM under the installation's secret, for
:data:`COOKIE_HOURS`; the cookie itself is only signed, so the token must not be readable in it) and
redirects to ``/evaluations/answer/<evaluation>``, which names the meeting's evaluation but no person.
The form posts there; the token travels in the cookie, is used up when the answers enter the pool, and
is then forgotten. The answer views never load the
logged-in user (a respondent may be logged in): nothing in the database is touched on their behalf,
and no page or log line ties the request to an account.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache, wraps

from flask import abort, current_app, g, make_response, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, RadioField, TextAreaField

from samrad import db, i18n, keys
from samrad.extensions import login_manager
from samrad.models import utcnow
from samrad.models.evaluation import QuestionKind, ScaleOption
from samrad.services import evaluations as service
from samrad.web import guard
from samrad.web.evaluations.common import bp, message_page, min_respondents
from samrad.web.forms import options
from samrad.web.limits import limited

#: Session key holding {evaluation public id: sealed token} between the e-mail link and the answer.
TOKENS_KEY = "evaluation_tokens"
MAX_HELD_TOKENS = 5
#: How long the sealed token in the cookie opens: time enough to fill in the form; the link works again.
COOKIE_HOURS = 4


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


def _unknown_link():
    return message_page(
        _l("The link does not work"),
        _l(
            "The link may be incomplete, or the evaluation has closed: an evaluation is open for %(days)s "
            "days after the meeting. If you have already answered: thank you!",
            days=current_app.config["EVALUATION_OPEN_DAYS"],
        ),
        404,
    )


def _already_answered():
    return message_page(
        _l("You have already answered"),
        _l("Each link works once, and this one has been used to answer. Thank you for your answers!"),
        409,
    )


def _closed():
    return message_page(
        _l("The evaluation has closed"),
        _l("The evaluation of this meeting no longer takes answers. Nothing was saved."),
        410,
    )


def _held_tokens() -> dict[str, str]:
    held = session.get(TOKENS_KEY)
    return dict(held) if isinstance(held, dict) else {}


def _hold_token(public_id: str, token: str) -> None:
    until = int((utcnow() + timedelta(hours=COOKIE_HOURS)).timestamp())
    sealed = keys.sealer(keys.ANSWER_COOKIE).seal(
        json.dumps({"token": token, "until": until}).encode("utf-8"), bound_to=public_id
    )
    held = _held_tokens()
    held.pop(public_id, None)
    held[public_id] = sealed
    session[TOKENS_KEY] = dict(list(held.items())[-MAX_HELD_TOKENS:])


def _held_token(public_id: str) -> str | None:
    """The token this browser holds for the evaluation, if it opens and has not expired."""
    sealed = _held_tokens().get(public_id)
    raw = (
        keys.sealer(keys.ANSWER_COOKIE).unseal(sealed, bound_to=public_id)
        if isinstance(sealed, str)
        else None
    )
    if raw is None:
        return None
    held = json.loads(raw)
    if held["until"] < utcnow().timestamp():
        return None
    return str(held["token"])


def _forget_token(public_id: str) -> None:
    held = _held_tokens()
    if held.pop(public_id, None) is not None:
        session[TOKENS_KEY] = held


@bp.get("/evaluation/<token>")
@limited("links", methods=("GET",))
@anonymous
def land(token: str):
    """The e-mail link: check the token, keep it in the session cookie, move to a token-free address."""
    found = service.find_token(db.get_session(), token, sealer=keys.sealer(keys.ANSWERS))
    if found is None:
        return _unknown_link()
    evaluation, used = found
    if used:
        return _already_answered()
    if not service.accepts_answers(evaluation, now=utcnow()):
        return _closed()
    _hold_token(evaluation.public_id, token)
    return redirect(url_for("evaluations.answer", public_id=evaluation.public_id), code=303)


class AnswerForm(FlaskForm):
    confirm_text = BooleanField(_l("I have checked the text: it points out nobody, so send it as it is"))


def _question_field(number: int) -> str:
    return f"q{number}"


def _questions_key(questionnaire) -> tuple[tuple[int, QuestionKind, str], ...]:
    return tuple((q.number, q.kind, q.text) for q in questionnaire.questions)


def answer_form(questionnaire, formdata=None) -> AnswerForm:
    form_class = _answer_form_class(_questions_key(questionnaire))
    return form_class(formdata=formdata) if formdata is not None else form_class()


def blank_questions(questionnaire) -> Markup:
    """The questionnaire's fields, empty, in the current language: what every respondent is shown first."""
    return _blank_questions(_questions_key(questionnaire), i18n.current_locale())


@lru_cache(maxsize=64)
def _blank_questions(questions: tuple[tuple[int, QuestionKind, str], ...], _locale) -> Markup:
    # Every respondent of every meeting asked these questions gets the same empty fields, so they are
    # written once per set of questions and language (a fifth of the form's request). Answers sent back
    # with a problem are written afresh (answer.html), with what the person wrote and the messages.
    return Markup(
        render_template(
            "evaluations/_questions.html",
            form=_answer_form_class(questions)(formdata=None),
            numbers=[number for number, _, _ in questions],
        )
    )


@lru_cache(maxsize=64)
def _answer_form_class(questions: tuple[tuple[int, QuestionKind, str], ...]) -> type[AnswerForm]:
    # A form class per set of questions, made once: making it was a tenth of the form's request. The key
    # is the questions themselves, so a questionnaire's new version is another class.
    class Form_(AnswerForm):
        pass

    for number, kind, text in questions:
        label = f"{number}. {text}"
        if kind == QuestionKind.SCALE:
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
        setattr(Form_, _question_field(number), field)
    return Form_


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
@limited("evaluation")
@anonymous
def answer(public_id: str):
    s = db.get_session()
    # An answer is checked before its change begins: on SQLite, other answers are written meanwhile. The
    # change compares again what it depends on (still open, the token unused).
    with db.read_before_writing():
        found = service.evaluation_to_answer(s, public_id) or abort(404)
    evaluation, consultation_name, starts_at = found
    if not service.accepts_answers(evaluation, now=utcnow()):
        _forget_token(public_id)
        return _closed()
    token = _held_token(public_id)
    if token is None:
        return message_page(
            _l("Open the link in your e-mail"),
            _l(
                "To answer, open the link in the e-mail you got after the meeting. If you have already "
                "answered: thank you!"
            ),
            400,
        )
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
                with db.read_before_writing():
                    checked = service.checked_answers(
                        s, evaluation, answers, confirm_warnings=bool(form.confirm_text.data)
                    )
                service.record_answers(
                    s, evaluation, token, checked, now=utcnow(), sealer=keys.sealer(keys.ANSWERS)
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
                return message_page(
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
            blank=blank_questions(evaluation.questionnaire) if request.method == "GET" else None,
            numbers=[q.number for q in evaluation.questionnaire.questions],
            evaluation=evaluation,
            consultation_name=consultation_name,
            starts_at=starts_at,
            needs_confirmation=needs_confirmation,
            min_respondents=min_respondents(),
        ),
        status,
    )


@bp.get("/evaluations/thanks")
@anonymous
def thanks():
    return render_template("evaluations/thanks.html", min_respondents=min_respondents())
