"""Form elements are written exactly as WTForms writes them, only faster (``forms.html_params``)."""

from __future__ import annotations

import importlib
import pkgutil
from types import SimpleNamespace

import wtforms.widgets
from flask import render_template
from flask_babel import force_locale, lazy_gettext
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from wtforms import SelectField
from wtforms.validators import InputRequired
from wtforms.widgets import core as widgets_core

import samrad.web
from samrad.models.evaluation import QuestionKind
from samrad.web import forms
from samrad.web.case_forms import CaseForm
from samrad.web.evaluations.answering import answer_form, blank_questions

NAMES = st.sampled_from(
    ["id", "name", "class_", "for_", "data_hx_post", "aria_describedby", "aria_invalid", "a<b", 'q"t']
) | st.text(min_size=1, max_size=12)
HOSTILE = st.text(alphabet=st.sampled_from("<>&\"'\x00 éå\u202e=`"), max_size=12) | st.text(max_size=20)
VALUES = (
    st.booleans()
    | st.none()
    | st.integers()
    | HOSTILE
    | HOSTILE.map(Markup)
    | st.just(Markup('<b title="x">&amp;</b>'))
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(NAMES, VALUES, max_size=6))
def test_attributes_are_written_as_wtforms_writes_them(attributes):
    # Keyword names must be identifiers for a call, not for a dict splat: the splat is what widgets do.
    assert forms.html_params(**attributes) == forms.WTFORMS_HTML_PARAMS(**attributes)
    assert isinstance(forms.html_params(**attributes), Markup)


def test_known_cases_and_lazy_text(app):
    with app.test_request_context():
        assert str(forms.html_params(checked=True, readonly=False, name="text1", abc="hello")) == (
            'abc="hello" checked name="text1"'
        )
        assert str(forms.html_params(value='"><script>', data_hx_post="/x?a=1&b=2", class_="c")) == (
            'class="c" data-hx-post="/x?a=1&amp;b=2" value="&#34;&gt;&lt;script&gt;"'
        )
        assert str(forms.html_params(title=Markup('say "hi"'))) == 'title="say &quot;hi&quot;"'
        label = lazy_gettext("Your name")
        assert forms.html_params(placeholder=label) == forms.WTFORMS_HTML_PARAMS(placeholder=label)


def test_the_app_renders_every_widget_through_it(app):
    # create_app installed it: the module function, the package's name for it and both widget bases.
    assert widgets_core.html_params is forms.html_params
    assert wtforms.widgets.html_params is forms.html_params
    assert widgets_core.Input.html_params is forms.html_params
    assert widgets_core.Button.html_params is forms.html_params
    with app.test_request_context():
        form = CaseForm(formdata=None, meta=forms.SHOWN_ONLY)
        html = "".join(str(field()) for field in form)
    assert 'name="background"' in html
    assert 'type="checkbox"' in html


#: The fields the form macro renders choice by choice (macros/forms.html).
CHOICE_FIELDS = ("RadioField", "CheckboxesField")


def _choice_fields():
    """Every radio and checkbox field of every form class in the app, and of an evaluation's answer form."""
    for module in pkgutil.walk_packages(samrad.web.__path__, "samrad.web."):
        importlib.import_module(module.name)
    classes, stack = [], list(FlaskForm.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        classes.append(cls)
    forms_built = []
    for cls in classes:
        try:
            forms_built.append(cls(formdata=None, meta=forms.SHOWN_ONLY))
        except TypeError:  # built by a function with arguments (the answer form, below)
            continue
    questions = [
        SimpleNamespace(number=n, kind=QuestionKind.SCALE, text=f"Påstående {n} <&>") for n in (1, 2)
    ]
    forms_built.append(answer_form(SimpleNamespace(questions=questions)))
    for form in forms_built:
        for field in form:
            if field.type in CHOICE_FIELDS:
                yield field


def test_choices_are_written_as_wtforms_writes_its_option_fields(app):
    with app.test_request_context():
        fields = list(_choice_fields())
        names = {f"{type(f.meta).__qualname__}.{f.name}" for f in fields}
        assert len(fields) >= 12, names
        for field in fields:
            if not field.choices or callable(field.choices):
                field.choices = forms.options([("1", "Ett & två"), ("2", lazy_gettext("Your name"))])
            first = next(iter(field.iter_choices()))
            # One choice selected, and attributes given to the field, as a re-shown form has them.
            field.data = (
                [field.coerce(first.value)] if field.type == "CheckboxesField" else field.coerce(first.value)
            )
            for render_kw in (None, {"class_": "x", "data_hx_get": '/a?b="c"&d'}):
                field.render_kw = render_kw
                expected = [(str(o()), str(o.label())) for o in field]
                assert [(str(i), str(label)) for i, label in forms.choice_inputs(field)] == expected, (
                    field.name
                )
                assert any("checked" in i for i, _ in expected), field.name


class _Selects(FlaskForm):
    plain = SelectField("Möte", coerce=forms.parse_int, validate_choice=False)
    first = SelectField(
        "Möte", coerce=forms.parse_int, validate_choice=False, widget=forms.SharedOptionsSelect()
    )
    second = SelectField(
        "Möte", coerce=forms.parse_int, validate_choice=False, widget=forms.SharedOptionsSelect()
    )
    required = SelectField(
        "Möte", coerce=forms.parse_int, validators=[InputRequired()], widget=forms.SharedOptionsSelect()
    )


# The app only gives each example a request context: nothing of it changes between examples.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    labels=st.lists(HOSTILE, min_size=1, max_size=5),
    chosen=st.none() | st.integers(min_value=0, max_value=6),
    render_kw=st.none() | st.just({"class_": "x", "data_hx_get": '/a?b="c"&d'}),
)
def test_shared_options_are_written_as_wtforms_writes_a_select(app, labels, chosen, render_kw):
    pairs = [(n, label) for n, label in enumerate(labels)]
    with app.test_request_context():
        form = _Selects(formdata=None, meta=forms.SHOWN_ONLY)
        shared = forms.SharedChoices(forms.options(pairs))
        for field in (form.plain, form.first, form.second, form.required):
            field.choices = forms.options(pairs) if field is form.plain else shared
            field.render_kw = render_kw
        form.plain.data = form.first.data = form.required.data = chosen
        form.second.data = None if chosen is not None else 0  # another value: other options, its own
        plain = str(form.plain())
        for field in (form.first, form.second, form.required, form.first):  # the first again: kept
            shared_widget, field.widget = field.widget, widgets_core.Select()
            expected = str(field())
            field.widget = shared_widget
            assert str(field()) == expected
        assert str(form.first()).replace('id="first" name="first"', 'id="plain" name="plain"') == plain
        assert set(shared.written) == {chosen, form.second.data}
        assert "required" in str(form.required()) and "required" not in plain


def _questionnaire(*texts):
    """Scale questions, the last one free text."""
    last = len(texts)
    kinds = {n: QuestionKind.TEXT if n == last else QuestionKind.SCALE for n in range(1, last + 1)}
    questions = [SimpleNamespace(number=n, kind=kinds[n], text=t) for n, t in enumerate(texts, 1)]
    return SimpleNamespace(questions=questions)


def test_an_answer_form_asks_exactly_its_questionnaires_questions(app):
    questionnaire = _questionnaire
    with app.test_request_context():
        first = answer_form(questionnaire("Alla kom till tals.", "Något oklart?"))
        again = answer_form(questionnaire("Alla kom till tals.", "Något oklart?"))
        edited = answer_form(questionnaire("Alla kom till tals.", "Tiden räckte.", "Något oklart?"))
        assert type(first) is type(again)  # the same questions: the class is made once
        assert [(f.name, f.type, f.label.text) for f in first if f.name.startswith("q")] == [
            ("q1", "RadioField", "1. Alla kom till tals."),
            ("q2", "TextAreaField", "2. Något oklart?"),
        ]
        assert [(f.name, f.label.text) for f in edited if f.name.startswith("q")] == [
            ("q1", "1. Alla kom till tals."),
            ("q2", "2. Tiden räckte."),
            ("q3", "3. Något oklart?"),
        ]


def test_the_kept_blank_questions_are_the_questionnaires_own_in_the_language_asked(app):
    """Every respondent first gets the same empty fields, written once per set of questions and language:
    they are what the form writes for those questions, another language gets its own words, and an edited
    questionnaire its own fields."""
    first = _questionnaire("Alla kom till tals.", "Något oklart?")
    with app.test_request_context():
        kept = blank_questions(first)
        assert blank_questions(_questionnaire("Alla kom till tals.", "Något oklart?")) is kept
        fresh = render_template("evaluations/_questions.html", form=answer_form(first), numbers=[1, 2])
        assert str(kept) == fresh
        assert "<legend>1. Alla kom till tals.</legend>" in kept and "Instämmer helt" in kept
        assert 'name="q2"' in kept and "checked" not in kept and "error" not in kept
        edited = blank_questions(_questionnaire("Alla kom till tals.", "Tiden räckte.", "Något oklart?"))
        assert "<legend>2. Tiden räckte.</legend>" in edited and 'name="q3"' in edited
        with force_locale("en"):
            english = blank_questions(first)
        assert "Agree fully" in english and "Instämmer helt" not in english
        assert "Agree fully" not in blank_questions(first)


def test_the_csrf_field_carries_the_requests_token_once_built(app, client):
    """Every form on a page renders the field kept for the request; it is Flask-WTF's token for this
    session, which the next session does not share, and the token Flask-WTF accepts on a POST."""
    from flask_wtf.csrf import generate_csrf, validate_csrf

    with app.test_request_context("/"):
        first = forms.csrf_field()
        token = generate_csrf()
        assert forms.csrf_field() is first
        assert first == Markup(f'<input name="csrf_token" type="hidden" value="{token}">')
        validate_csrf(token)
    with app.test_request_context("/"):
        assert token not in forms.csrf_field()
