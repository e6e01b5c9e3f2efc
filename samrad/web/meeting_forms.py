"""Forms for meetings, break periods, answers and the calendar feed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import HiddenInput

from samrad.enums import Rsvp
from samrad.web.forms import DateWithin, options

ANSWERS = (Rsvp.ON_SITE, Rsvp.VIA_LINK, Rsvp.CANNOT_ATTEND)
NO_SUBSTITUTE = 0


#: Planned at most two years ahead. A meeting in the past is refused by the service with its own message;
#: a break may be recorded at most two years back.
AHEAD = DateWithin(back=None, ahead=730, too_late=_l("Plan at most two years ahead."))
BREAK_DAY = DateWithin(back=730, ahead=730, too_late=_l("Plan at most two years ahead."))


def _date(label, within=AHEAD):
    return DateField(
        label,
        validators=[InputRequired(message=_l("Enter a date.")), within],
        description=_l("For example 2027-03-11."),
    )


class MeetingForm(FlaskForm):
    """Add a single meeting."""

    date = _date(_l("Date"))
    time = TimeField(
        _l("Start time"),
        validators=[InputRequired(message=_l("Enter a start time."))],
        description=_l("For example 13:00."),
    )
    place = StringField(_l("Place"), validators=[DataRequired(), Length(max=300)])


class MoveMeetingForm(MeetingForm):
    """Move a meeting; ``revision`` is the meeting's revision when the form was shown."""

    revision = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class RevisionForm(FlaskForm):
    """A button that changes a meeting (cancel): only the revision check."""

    revision = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class ExtendSeriesForm(FlaskForm):
    until = _date(_l("Plan meetings up to and including"))


class BreakPeriodForm(FlaskForm):
    label = StringField(
        _l("Name of the break"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("For example Summer or Christmas and New Year."),
    )
    first_day = _date(_l("First day without meetings"), BREAK_DAY)
    last_day = _date(_l("Last day without meetings"), BREAK_DAY)


class RsvpForm(FlaskForm):
    answer = RadioField(
        _l("Will you come?"),
        choices=options((a.value, a.label) for a in ANSWERS),
        validators=[InputRequired(message=_l("Choose an answer."))],
    )
    substitute = SelectField(
        _l("Substitute (if you cannot attend)"),
        coerce=int,
        default=NO_SUBSTITUTE,
        description=_l("A colleague from your organisation who comes instead. They get an invitation."),
    )

    def set_substitutes(self, users) -> None:
        self.substitute.choices = options(
            [(NO_SUBSTITUTE, _l("No substitute")), *((u.id, u.name) for u in users)]
        )
