"""Forms of the case journey (beside ``forms.py``, so that parallel work on other forms merges cleanly)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Email, InputRequired, Length, Optional, ValidationError

from samrad.enums import PRESENTATION_MINUTES, AgeBand, CaseCategory, Exposer, RiskAssessment, Sex
from samrad.services.cases import BACKGROUND_MAX, QUESTIONS_MAX, RETURN_COMMENT_MAX
from samrad.web.forms import CheckboxesField, SharedOptionsSelect, options, parse_int

NEXT_POSSIBLE = 0
CHOOSE = 0


def _enum_choices(enum_cls):
    return options((m.value, m.label) for m in enum_cls)


def _one_of(enum_cls, message):
    return [InputRequired(message=message), AnyOf([m.value for m in enum_cls], message=message)]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AtLeastOne:
    """A multi-select with at least one known value (unknown values get the same clear message)."""

    def __init__(self, allowed, message):
        self.allowed, self.message = {str(a) for a in allowed}, message

    def __call__(self, form, field):
        if not field.data or any(str(v) not in self.allowed for v in field.data):
            raise ValidationError(self.message)


class AcuteForm(FlaskForm):
    """The first question (a GET form: nothing is stored whatever the answer)."""

    class Meta:
        csrf = False

    acute = RadioField(
        _l("Is the situation acute?"),
        choices=options(
            [
                ("yes", _l("Yes, someone is in danger now or needs protection today")),
                ("no", _l("No, it is not acute")),
            ]
        ),
        validators=[InputRequired(message=_l("Answer whether the situation is acute."))],
        description=_l("The consultation meets every other week and cannot act in acute situations."),
    )


class CaseForm(FlaskForm):
    #: Carried from the first question; anything but "no" ends the journey without storing anything.
    acute = HiddenField(default="no")
    #: Random per form: the same form posted twice creates one case.
    submission_key = HiddenField()
    organisation = RadioField(_l("Submitting organisation"), coerce=int, validate_choice=False)
    categories = CheckboxesField(
        _l("What the case is about"),
        choices=_enum_choices(CaseCategory),
        validators=[AtLeastOne((m.value for m in CaseCategory), _l("Choose at least one kind of violence."))],
        description=_l("Choose every kind that applies."),
    )
    sex = RadioField(
        _l("Sex of the person the case is about"),
        choices=_enum_choices(Sex),
        validate_choice=False,
        validators=_one_of(Sex, _l("Choose girl or woman, boy or man, or other or unknown.")),
    )
    age_band = RadioField(
        _l("Age"),
        choices=_enum_choices(AgeBand),
        validate_choice=False,
        validators=_one_of(AgeBand, _l("Choose one of the age bands in the list.")),
        description=_l("Only an age band is stored, never an exact age or date of birth."),
    )
    municipality = SelectField(
        _l("Municipality the case concerns"),
        coerce=int,
        validate_choice=False,
        description=_l("Participants of the meeting see it; it never appears in e-mails."),
    )
    exposers = CheckboxesField(
        _l("Who exposes the person"),
        choices=_enum_choices(Exposer),
        validators=[AtLeastOne((m.value for m in Exposer), _l("Choose at least one, or “Someone else”."))],
    )
    questions = TextAreaField(
        _l("Your questions to the consultation"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Write what you want advice on.")),
            Length(max=QUESTIONS_MAX, message=_l("Write at most %(max)d characters.", max=QUESTIONS_MAX)),
        ],
        description=_l("What do you want advice on? At most %(max)d characters.", max=QUESTIONS_MAX),
        render_kw={"rows": 4, "maxlength": QUESTIONS_MAX},
    )
    background = TextAreaField(
        _l("Short background"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Write a short background.")),
            Length(max=BACKGROUND_MAX, message=_l("Write at most %(max)d characters.", max=BACKGROUND_MAX)),
        ],
        description=_l(
            "Only what the consultation needs to give advice. No names, personal identity numbers, "
            "addresses, phone numbers, e-mail addresses, dates of birth, schools or other details that "
            "identify a person. At most %(max)d characters.",
            max=BACKGROUND_MAX,
        ),
        render_kw={"rows": 8, "maxlength": BACKGROUND_MAX},
    )
    risk_assessment = RadioField(
        _l("Has a structured risk assessment been made?"),
        choices=_enum_choices(RiskAssessment),
        validate_choice=False,
        validators=_one_of(RiskAssessment, _l("Answer whether a risk assessment has been made.")),
    )
    report_of_concern = RadioField(
        _l("Has a report of concern (orosanmälan) been made?"),
        choices=options([("yes", _l("Yes")), ("no", _l("No, or it does not apply"))]),
        validate_choice=False,
        validators=[
            InputRequired(message=_l("Answer whether a report of concern has been made.")),
            AnyOf(["yes", "no"], message=_l("Answer whether a report of concern has been made.")),
        ],
    )
    requested_meeting = SelectField(_l("Meeting"), coerce=int, validate_choice=False)
    presentation_minutes = RadioField(
        _l("Time you need at the meeting"),
        choices=options((m, _l("%(minutes)d minutes", minutes=m)) for m in PRESENTATION_MINUTES),
        coerce=int,
        validate_choice=False,
        validators=[
            InputRequired(message=_l("Choose how much time you need.")),
            AnyOf(list(PRESENTATION_MINUTES), message=_l("Choose how much time you need.")),
        ],
    )
    presenter = RadioField(
        _l("Who presents the case"),
        choices=options([("self", _l("I do")), ("colleague", _l("A colleague"))]),
        default="self",
        validate_choice=False,
        validators=[AnyOf(["self", "colleague"], message=_l("Choose who presents the case."))],
    )
    presenter_email = EmailField(
        _l("Your colleague's work e-mail address"),
        validators=[
            Optional(),
            Email(message=_l("Enter an e-mail address such as name@kommun.se.")),
            Length(max=254),
        ],
        description=_l("The colleague is invited to this case's slot only."),
    )
    warnings_digest = HiddenField()
    confirm_warnings = BooleanField(_l("I have checked the highlighted words: they do not identify anyone"))
    attest = BooleanField(
        _l("I confirm that the case is de-identified"),
        description=_l(
            "Nobody can be identified from what I have written, alone or together with the other answers."
        ),
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Not an inline validator: Optional() stops the field's chain when the address is empty.
        if self.presenter.data == "colleague" and not (self.presenter_email.data or "").strip():
            self.presenter_email.errors = [
                *self.presenter_email.errors,
                _l("Enter your colleague's e-mail address."),
            ]
            valid = False
        return valid

    def validate_municipality(self, field):
        if field.data not in {c.value for c in field.choices} or field.data == CHOOSE:
            raise ValidationError(_l("Choose the municipality the case concerns."))

    def validate_requested_meeting(self, field):
        if field.data not in {c.value for c in field.choices}:
            raise ValidationError(_l("Choose the next possible meeting or one in the list."))

    def validate_organisation(self, field):
        if self.organisation.choices and field.data not in {c.value for c in field.choices}:
            raise ValidationError(_l("Choose the organisation you bring the case for."))


class ReturnForm(FlaskForm):
    comment = TextAreaField(
        _l("Comment to the case officer"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Write why the case is returned.")),
            Length(
                max=RETURN_COMMENT_MAX,
                message=_l("Write at most %(max)d characters.", max=RETURN_COMMENT_MAX),
            ),
        ],
        description=_l("Shown on the case page only, never in the e-mail. Do not identify anyone."),
        render_kw={"rows": 3, "maxlength": RETURN_COMMENT_MAX},
    )
    warnings_digest = HiddenField()
    confirm_warnings = BooleanField(_l("I have checked the highlighted words: they do not identify anyone"))


class TriageForm(FlaskForm):
    """Accept a waiting case for a meeting (or move an accepted one): the choices are the coming meetings,
    each with the time its agenda already takes."""

    meeting = SelectField(
        _l("Meeting"), coerce=parse_int, validate_choice=False, widget=SharedOptionsSelect()
    )

    def set_meetings(self, boxes, label) -> None:
        self.meeting.choices = options((box.meeting.id, label(box)) for box in boxes)

    def validate_meeting(self, field):
        if field.data is None or field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose a meeting in the list."))
