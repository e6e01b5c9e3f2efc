"""Web forms (Flask-WTF): validation and CSRF for every state-changing request."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

from flask import Flask, g, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.widgets import core as widgets_core

from samrad import periods
from samrad.clock import stockholm_date, utcnow
from samrad.enums import REQUESTABLE_ROLES, OrganisationType, Role, Sector, VideoProvider, Weekday
from samrad.periods import Period
from samrad.web import MAX_ID


class CheckboxesField(SelectMultipleField):
    """A group of checkboxes; rendered inside a fieldset with the label as legend."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def csrf_field() -> Markup:
    """The hidden CSRF input of every form on a page, rendered once per token instead of through a WTForms
    field per form (the agenda builder has dozens of small forms; the field's rendering was a tenth of
    the page's time). The same token and field name Flask-WTF checks; the field is kept for the request,
    as Flask-WTF keeps the token (its lookup of the configuration was most of a call, forty on a page)."""
    field = g.get("_csrf_field")
    if field is None:
        field = g._csrf_field = Markup('<input name="csrf_token" type="hidden" value="{}">').format(
            generate_csrf()
        )
    return field


#: WTForms' own attribute writer, kept so a test can hold :func:`html_params` to it.
WTFORMS_HTML_PARAMS = widgets_core.html_params


def html_params(**attributes) -> Markup:
    """The attributes of a form element as HTML, exactly as WTForms writes them (sorted by name; ``True``
    alone, ``False`` left out, names and values escaped, ``data_``/``aria_`` names hyphenated).

    WTForms formats each attribute through ``Markup.format``, whose escaping formatter was a quarter of
    the new-case form's time and a fifth of the queue's (every checkbox, radio button and option is an
    element). Escaping each value once and joining plain strings gives the same text;
    ``tests/web/test_forms.py`` compares the two on hostile input."""
    written: list[str] = []
    for name, value in sorted(attributes.items()):
        name = escape(widgets_core.clean_key(name))
        if value is True:
            written.append(name)
        elif value is not False:
            # escape() leaves Markup as it is, and Markup may hold a quote (WTForms writes it as &quot;)
            written.append(f'{name}="{str.replace(escape(value), chr(34), "&quot;")}"')
    return Markup(" ".join(written))


def choice_inputs(field) -> list[tuple[Markup, Markup]]:
    """Each choice of a radio or checkbox field as its ``(input, label)``: the HTML of WTForms' own
    ``for option in field: option(), option.label()``, without building a field for every choice (that
    was 40 µs a choice; the new-case form has 32 choices, the evaluation form 18).
    ``tests/web/test_forms.py`` holds the two to each other for every such field of every form."""
    widget = field.option_widget
    given = {widgets_core.clean_key(k): v for k, v in (field.render_kw or {}).items()}
    flags = {k: getattr(field.flags, k) for k in widget.validation_attrs if k in dir(field.flags)}
    rendered = []
    # WTForms' own walk over the choices (tuples or Choice objects alike), as its ``__iter__`` uses.
    for index, choice in enumerate(field._iter_choices_normalized()):
        option_id = f"{field.id}-{index}"
        attributes = {"id": option_id, "type": widget.input_type, "value": str(choice.value)}
        if choice.selected:
            attributes["checked"] = True
        attributes.update(given)
        for name, value in flags.items():
            attributes.setdefault(name, value() if callable(value) else value)
        label = escape(choice.label or choice.value)
        rendered.append(
            (
                Markup(f"<input {html_params(name=field.name, **attributes)}>"),
                Markup(f"<label {html_params(for_=option_id)}>{label}</label>"),
            )
        )
    return rendered


class SharedChoices(list):
    """Choices that many select fields of one page offer alike (the queue offers every waiting case the
    same coming meetings). A field with these choices and :class:`SharedOptionsSelect` as its widget
    writes its options once per chosen value for all of them: the queue's twelve selects of four options
    each were 3 300 of its 55 000 Python calls."""

    def __init__(self, choices: Iterable[SelectChoice]) -> None:
        super().__init__(choices)
        self.written: dict[object, Markup] = {}


class SharedOptionsSelect(widgets_core.Select):
    """WTForms' select, with the options of :class:`SharedChoices` written once (other choices as WTForms
    writes them). ``tests/web/test_forms.py`` holds the two to each other."""

    def __call__(self, field, **kwargs):
        choices = field.choices
        if not isinstance(choices, SharedChoices) or self.multiple or field.has_groups():
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        for name in self.validation_attrs:
            if name not in kwargs and getattr(field.flags, name, False):
                kwargs[name] = getattr(field.flags, name)
        written = choices.written.get(field.data)
        if written is None:
            written = Markup("".join(self.render_option(c) for c in field._iter_choices_normalized()))
            choices.written[field.data] = written
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{written}</select>")


def write_attributes_quickly() -> None:
    """Let every WTForms widget write its attributes with :func:`html_params`. The widgets call the module's
    function, and the input and button widgets hold it as a class attribute as well."""
    widgets_core.html_params = html_params
    widgets_core.Input.html_params = staticmethod(html_params)
    widgets_core.Button.html_params = staticmethod(html_params)
    import wtforms.widgets  # noqa: PLC0415 — ``wtforms.fields`` asks the package for it

    wtforms.widgets.html_params = html_params


def init_app(app: Flask) -> None:
    """Templates render the CSRF field and choices through this module, and WTForms' widgets write
    their attributes with :func:`html_params`."""
    app.jinja_env.globals.update(csrf_field=csrf_field, choice_inputs=choice_inputs)
    write_attributes_quickly()


#: ``meta`` of a form built only to be shown (``formdata=None``): without a CSRF field of its own, since
#: every form on a page renders the request's token through :func:`csrf_field`. Building that field was
#: two thirds of building a small form, and the queue builds two per case.
SHOWN_ONLY = {"csrf": False}


def options(pairs) -> list[SelectChoice]:
    """Choices for select, radio and checkbox fields from (value, label) pairs."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


#: What a person is told about a date range that cannot be used, next to the field to fix.
PERIOD_MESSAGES = {
    "inverted": _l("The end date is before the start date."),
    "too_long": _l("Choose a period of at most ten years."),
    "invalid": _l("Choose dates from 2000 to 2100."),
}


def period_between(first_field, last_field, *, open_ends: bool = True) -> Period | None:
    """The period between two date fields (the one date-range rule of every form), or None with the
    message next to the field to fix. With ``open_ends`` either date may be left empty."""
    if first_field.errors or last_field.errors:
        return None
    if not open_ends:
        missing = [f for f in (first_field, last_field) if f.data is None]
        for f in missing:
            f.errors = [*f.errors, _l("Enter a date as YYYY-MM-DD.")]
        if missing:
            return None
    try:
        if not open_ends:
            periods.custom_period(first_field.data, last_field.data)  # inverted or too long first
        return periods.between(first_field.data, last_field.data)
    except periods.PeriodError as exc:
        field = (
            first_field if exc.code == "invalid" and first_field.data and not last_field.data else last_field
        )
        field.errors = [*field.errors, PERIOD_MESSAGES[exc.code]]
        return None


def parse_int(value: object) -> int | None:
    """A whole number a person or a page sent, or None when it is none or does not fit the database."""
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if -MAX_ID <= number <= MAX_ID else None


#: The largest ?page= read (a larger one reads as this): the offset it makes stays an ordinary number.
LAST_PAGE = 100_000


def requested_page() -> int:
    """The ``?page=`` of a paged list, from 1: anything that is not a page number reads as the first."""
    page = parse_int(request.args.get("page", "1")) or 1
    return min(max(page, 1), LAST_PAGE)


class WholeNumber:
    """For a number field: input that is not a whole number gets one message — ``message``, or WTForms' own
    "not a valid integer" — instead of that message followed by each later validator's complaint about
    the missing number ("Inte ett giltigt heltal Skriv ett år från 2000 till 2100.")."""

    def __init__(self, message=None) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if not field.process_errors:
            return
        field.errors.clear()
        raise StopValidation(self.message or field.process_errors[0])


def whole_number(low: int, high: int) -> list:
    """Validators of a whole number from ``low`` to ``high``, with one plain message for every way to miss."""
    message = _l("Enter a number from %(low)s to %(high)s.", low=low, high=high)
    return [WholeNumber(message), NumberRange(low, high, message=message)]


class DateWithin:
    """A date at most ``back`` days before today and ``ahead`` days after it (Stockholm), so that a typo
    such as year 9999 gets a message next to the field instead of a meeting no page can show."""

    def __init__(self, *, back: int | None, ahead: int, too_late=None):
        self.back, self.ahead = back, ahead
        self.too_late = too_late or _l("Choose a date at most %(years)s years ahead.", years=ahead // 365)

    def __call__(self, form, field) -> None:
        if field.data is None:
            return
        today = stockholm_date(utcnow())
        if field.data > today + timedelta(days=self.ahead):
            raise ValidationError(self.too_late)
        if self.back is not None and field.data < today - timedelta(days=self.back):
            raise ValidationError(_l("Choose a date at most %(years)s years back.", years=self.back // 365))


def _choices(enum_cls):
    return options((member.value, member.label) for member in enum_cls)


def work_email():
    return [
        DataRequired(),
        Email(message=_l("Enter an e-mail address such as name@kommun.se.")),
        Length(max=254),
    ]


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=256)],
        description=_l("At least 12 characters. A phrase of several unusual words is easy to remember."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )


class CodeForm(FlaskForm):
    """A code from the authenticator app (six digits) or, at login, a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(message=_l("Enter the code.")), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"},
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


class JoinRequestForm(FlaskForm):
    consultation = SelectField(_l("Consultation"), coerce=int, validators=[InputRequired()])
    name = StringField(
        _l("Your name"), validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "name"}
    )
    email = EmailField(
        _l("Work e-mail address"),
        validators=work_email(),
        description=_l("Use your work address; invitations are sent there."),
        render_kw={"autocomplete": "email"},
    )
    organisation = SelectField(
        _l("Organisation"),
        coerce=int,
        validators=[InputRequired()],
        description=_l("Choose “My organisation is not in the list” if you cannot find it."),
    )
    organisation_name = StringField(
        _l("Name of your organisation (if it is not in the list)"), validators=[Length(max=200)]
    )
    role = RadioField(
        _l("I want to"),
        choices=options(
            [
                (Role.MEMBER.value, _l("Take part in the meetings as a standing member of my organisation")),
                (Role.CASE_OFFICER.value, _l("Bring de-identified cases for advice")),
            ]
        ),
        validators=[InputRequired(message=_l("Choose what you want to do."))],
    )

    def validate_organisation_name(self, field):
        if self.organisation.data == 0 and not field.data.strip():
            raise ValidationError(_l("Write the name of your organisation."))


class ApproveJoinRequestForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), coerce=int, validators=[InputRequired()])
    role = SelectField(
        _l("Role"),
        choices=options((r.value, r.label) for r in REQUESTABLE_ROLES),
        validators=[InputRequired()],
    )


class DecisionForm(FlaskForm):
    """A bare button form (CSRF only)."""


class MunicipalityForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    county = StringField(_l("County"), validators=[DataRequired(), Length(max=100)])


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    type = SelectField(_l("Type"), choices=_choices(OrganisationType), validators=[InputRequired()])
    sector = RadioField(
        _l("Public authority or civil society"),
        choices=_choices(Sector),
        validators=[InputRequired()],
        description=_l("Secrecy rules differ: voluntary organisations are not public authorities."),
    )
    county = StringField(_l("County"), validators=[DataRequired(), Length(max=100)])
    municipality = SelectField(
        _l("Municipality"),
        coerce=int,
        validators=[InputRequired()],
        description=_l("For municipal bodies such as social services."),
    )


class UserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Work e-mail address"), validators=work_email())
    organisations = CheckboxesField(_l("Organisations"), coerce=int)
    roles = CheckboxesField(_l("Roles in consultations"))
    locale = SelectField(
        _l("Language"),
        choices=options([("", _l("Not chosen (Swedish)")), ("sv", "Svenska"), ("en", "English")]),
        validators=[Optional()],
    )
    is_admin = BooleanField(_l("Administrator (manages the whole register)"))
    is_active = BooleanField(_l("Account is active"), default=True)
    send_invitation = BooleanField(
        _l("Send an invitation e-mail with a link to set a password"), default=True
    )


SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ConsultationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Short name in addresses"),
        validators=[DataRequired(), Length(max=60)],
        description=_l("Lower-case letters, digits and hyphens, e.g. una-norrbotten."),
    )
    county = StringField(_l("County"), validators=[DataRequired(), Length(max=100)])
    host_organisation = SelectField(_l("Host organisation"), coerce=int, validators=[InputRequired()])
    place = StringField(_l("Meeting place"), validators=[DataRequired(), Length(max=300)])
    meeting_length_minutes = IntegerField(
        _l("Meeting length (minutes)"), default=120, validators=[InputRequired(), *whole_number(30, 480)]
    )
    rhythm_weeks = IntegerField(
        _l("A meeting every … weeks"), default=2, validators=[InputRequired(), *whole_number(1, 12)]
    )
    weekday = SelectField(_l("Weekday"), choices=_choices(Weekday), validators=[InputRequired()])
    start_time = TimeField(_l("Start time"), validators=[InputRequired()])
    case_deadline_days = IntegerField(
        _l("Deadline for cases (days before the meeting)"),
        default=7,
        validators=[InputRequired(), *whole_number(0, 60)],
    )
    video_provider = RadioField(
        _l("Video link"), choices=_choices(VideoProvider), validators=[InputRequired()]
    )
    video_url = StringField(
        _l("Video address"),
        validators=[
            Optional(),
            URL(require_tld=False, message=_l("Enter a full address starting with https://.")),
            Length(max=500),
        ],
        description=_l(
            "Jitsi: the server address, e.g. https://meet.jit.si. One fixed link: the meeting room link."
        ),
    )
    standing_seats = CheckboxesField(_l("Organisations with a standing seat"), coerce=int)

    def validate_slug(self, field):
        if not SLUG.match(field.data or ""):
            raise ValidationError(_l("Use lower-case letters a–z, digits and hyphens only."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Not an inline validator: Optional() stops the field's chain when the address is empty.
        if (
            self.video_provider.data in (VideoProvider.JITSI.value, VideoProvider.STATIC.value)
            and not (self.video_url.data or "").strip()
        ):
            self.video_url.errors = [
                *self.video_url.errors,
                _l("Enter the address for the chosen video link."),
            ]
            valid = False
        return valid
