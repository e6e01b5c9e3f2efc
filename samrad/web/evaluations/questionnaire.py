"""The consultation's own evaluation form, in versions."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from samrad import db
from samrad.models import utcnow
from samrad.models.evaluation import QuestionKind
from samrad.services import evaluations as service
from samrad.web.access import Action, load_consultation
from samrad.web.evaluations.common import bp
from samrad.web.forms import options, parse_int


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
                    base_version=parse_int(form.base_version.data) or 0,
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
