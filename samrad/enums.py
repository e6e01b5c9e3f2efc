"""Fixed vocabularies of the domain. Values are stored in the database; labels are translated."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Sector(StrEnum):
    """Whether an organisation exercises public authority; secrecy rules differ between the two."""

    PUBLIC_AUTHORITY = "public_authority"
    CIVIL_SOCIETY = "civil_society"

    @property
    def label(self):
        return SECTOR_LABELS[self]


SECTOR_LABELS = {
    Sector.PUBLIC_AUTHORITY: _l("Public authority"),
    Sector.CIVIL_SOCIETY: _l("Civil society"),
}


class OrganisationType(StrEnum):
    """Organisation types named in the domain brief (§5.1 item 3)."""

    SOCIAL_SERVICES = "social_services"
    POLICE = "police"
    WOMENS_SHELTER = "womens_shelter"
    GIRLS_SHELTER = "girls_shelter"
    REFUGEE_RECEPTION = "refugee_reception"
    CENTRE_AGAINST_VIOLENCE = "centre_against_violence"
    HEALTH_CARE = "health_care"
    SCHOOL = "school"
    BARNAHUS = "barnahus"
    COUNTY_BOARD = "county_board"
    PROSECUTOR = "prosecutor"
    MIGRATION_AGENCY = "migration_agency"
    SOCIAL_INSURANCE = "social_insurance"
    SHELTERED_HOUSING = "sheltered_housing"
    OTHER_NGO = "other_ngo"
    NATIONAL_COMPETENCE_TEAM = "national_competence_team"
    OTHER = "other"

    @property
    def label(self):
        return ORGANISATION_TYPE_LABELS[self]

    @property
    def default_sector(self) -> Sector:
        civil = {self.WOMENS_SHELTER, self.GIRLS_SHELTER, self.OTHER_NGO}
        return Sector.CIVIL_SOCIETY if self in civil else Sector.PUBLIC_AUTHORITY


ORGANISATION_TYPE_LABELS = {
    OrganisationType.SOCIAL_SERVICES: _l("Social services"),
    OrganisationType.POLICE: _l("Police"),
    OrganisationType.WOMENS_SHELTER: _l("Women's shelter"),
    OrganisationType.GIRLS_SHELTER: _l("Girls' shelter"),
    OrganisationType.REFUGEE_RECEPTION: _l("Refugee reception"),
    OrganisationType.CENTRE_AGAINST_VIOLENCE: _l("Centre against violence"),
    OrganisationType.HEALTH_CARE: _l("Health care"),
    OrganisationType.SCHOOL: _l("School and pupil health"),
    OrganisationType.BARNAHUS: _l("Barnahus"),
    OrganisationType.COUNTY_BOARD: _l("County administrative board"),
    OrganisationType.PROSECUTOR: _l("Prosecutor"),
    OrganisationType.MIGRATION_AGENCY: _l("Swedish Migration Agency"),
    OrganisationType.SOCIAL_INSURANCE: _l("Swedish Social Insurance Agency"),
    OrganisationType.SHELTERED_HOUSING: _l("Sheltered housing"),
    OrganisationType.OTHER_NGO: _l("Other voluntary organisation"),
    OrganisationType.NATIONAL_COMPETENCE_TEAM: _l("National competence team"),
    OrganisationType.OTHER: _l("Other"),
}


class Role(StrEnum):
    """A user's role in one consultation. Administrators are global (``User.is_admin``)."""

    COORDINATOR = "coordinator"
    MEMBER = "member"
    CASE_OFFICER = "case_officer"
    STATISTICS_VIEWER = "statistics_viewer"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.COORDINATOR: _l("Coordinator"),
    Role.MEMBER: _l("Standing member"),
    Role.CASE_OFFICER: _l("Case officer"),
    Role.STATISTICS_VIEWER: _l("Statistics viewer"),
}

#: Roles a professional may ask for through the public join form.
REQUESTABLE_ROLES = (Role.MEMBER, Role.CASE_OFFICER)


class JoinRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"

    @property
    def label(self):
        return JOIN_REQUEST_STATUS_LABELS[self]


JOIN_REQUEST_STATUS_LABELS = {
    JoinRequestStatus.PENDING: _l("Waiting for the coordinator"),
    JoinRequestStatus.APPROVED: _l("Approved"),
    JoinRequestStatus.DECLINED: _l("Declined"),
}


class VideoProvider(StrEnum):
    NONE = "none"
    JITSI = "jitsi"
    STATIC = "static"

    @property
    def label(self):
        return VIDEO_PROVIDER_LABELS[self]


VIDEO_PROVIDER_LABELS = {
    VideoProvider.NONE: _l("No video link"),
    VideoProvider.JITSI: _l("Jitsi (a new room for every meeting)"),
    VideoProvider.STATIC: _l("One fixed link (e.g. Teams or Zoom)"),
}


class Weekday(StrEnum):
    MONDAY = "MO"
    TUESDAY = "TU"
    WEDNESDAY = "WE"
    THURSDAY = "TH"
    FRIDAY = "FR"

    @property
    def label(self):
        return WEEKDAY_LABELS[self]


WEEKDAY_LABELS = {
    Weekday.MONDAY: _l("Monday"),
    Weekday.TUESDAY: _l("Tuesday"),
    Weekday.WEDNESDAY: _l("Wednesday"),
    Weekday.THURSDAY: _l("Thursday"),
    Weekday.FRIDAY: _l("Friday"),
}


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"

    @property
    def label(self):
        return OUTBOX_STATUS_LABELS[self]


OUTBOX_STATUS_LABELS = {
    OutboxStatus.PENDING: _l("Waiting to be sent"),
    OutboxStatus.SENDING: _l("Being sent"),
    OutboxStatus.SENT: _l("Delivered"),
    OutboxStatus.FAILED: _l("Not delivered"),
}


class JobOutcome(StrEnum):
    """How the last run of a scheduled job ended (``samrad.jobs.run_job`` records it)."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"

    @property
    def label(self):
        return JOB_OUTCOME_LABELS[self]


JOB_OUTCOME_LABELS = {
    JobOutcome.RUNNING: _l("Running"),
    JobOutcome.OK: _l("Succeeded"),
    JobOutcome.FAILED: _l("Failed"),
}


# --- Cases -----------------------------------------------------------------------------------------


class CaseStatus(StrEnum):
    """Where a case stands. Transitions live in ``samrad.services.cases`` (one function each)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # sent back to the submitter with a comment
    WITHDRAWN = "withdrawn"
    ACCEPTED = "accepted"  # accepted for a meeting, not yet on a published agenda
    ON_AGENDA = "on_agenda"  # on a published agenda
    DISCUSSED = "discussed"
    FOLLOW_UP = "follow_up"  # discussed, and a follow-up at a later meeting is wanted
    CLOSED = "closed"

    @property
    def label(self):
        return CASE_STATUS_LABELS[self]


CASE_STATUS_LABELS = {
    CaseStatus.DRAFT: _l("Draft"),
    CaseStatus.SUBMITTED: _l("Submitted, waiting for the coordinator"),
    CaseStatus.RETURNED: _l("Returned to you"),
    CaseStatus.WITHDRAWN: _l("Withdrawn"),
    CaseStatus.ACCEPTED: _l("Accepted for a meeting"),
    CaseStatus.ON_AGENDA: _l("On a published agenda"),
    CaseStatus.DISCUSSED: _l("Discussed"),
    CaseStatus.FOLLOW_UP: _l("Follow-up wanted"),
    CaseStatus.CLOSED: _l("Closed"),
}


class CaseCategory(StrEnum):
    HONOUR_VIOLENCE = "honour_violence"
    CHILD_MARRIAGE = "child_marriage"
    FORCED_MARRIAGE = "forced_marriage"
    GENITAL_MUTILATION = "genital_mutilation"
    TAKEN_ABROAD = "taken_abroad"
    PARTNER_VIOLENCE = "partner_violence"
    PROSTITUTION_TRAFFICKING = "prostitution_trafficking"
    OTHER = "other"

    @property
    def label(self):
        return CASE_CATEGORY_LABELS[self]

    @property
    def is_honour_related(self) -> bool:
        """Honour-related cases go first when agenda time runs short (the Norrbotten rule)."""
        return self in HONOUR_RELATED


CASE_CATEGORY_LABELS = {
    CaseCategory.HONOUR_VIOLENCE: _l("Honour-related violence and oppression"),
    CaseCategory.CHILD_MARRIAGE: _l("Child marriage"),
    CaseCategory.FORCED_MARRIAGE: _l("Forced marriage"),
    CaseCategory.GENITAL_MUTILATION: _l("Female genital mutilation"),
    CaseCategory.TAKEN_ABROAD: _l("Risk of being taken abroad"),
    CaseCategory.PARTNER_VIOLENCE: _l("Violence in close relationships"),
    CaseCategory.PROSTITUTION_TRAFFICKING: _l("Prostitution and human trafficking"),
    CaseCategory.OTHER: _l("Other"),
}

HONOUR_RELATED = frozenset(
    {
        CaseCategory.HONOUR_VIOLENCE,
        CaseCategory.CHILD_MARRIAGE,
        CaseCategory.FORCED_MARRIAGE,
        CaseCategory.GENITAL_MUTILATION,
        CaseCategory.TAKEN_ABROAD,
    }
)


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER_UNKNOWN = "other_unknown"

    @property
    def label(self):
        return SEX_LABELS[self]


SEX_LABELS = {
    Sex.FEMALE: _l("Girl or woman"),
    Sex.MALE: _l("Boy or man"),
    Sex.OTHER_UNKNOWN: _l("Other or unknown"),
}


class AgeBand(StrEnum):
    """Age is only ever stored as a band (domain brief, product decisions)."""

    CHILD = "0-12"
    TEEN = "13-17"
    YOUNG_ADULT = "18-26"
    ADULT = "27-64"
    SENIOR = "65+"

    @property
    def label(self):
        return AGE_BAND_LABELS[self]


AGE_BAND_LABELS = {
    AgeBand.CHILD: _l("0–12 years"),
    AgeBand.TEEN: _l("13–17 years"),
    AgeBand.YOUNG_ADULT: _l("18–26 years"),
    AgeBand.ADULT: _l("27–64 years"),
    AgeBand.SENIOR: _l("65 years or older"),
}


class Exposer(StrEnum):
    """Who exposes the person to violence (multi-select)."""

    PARENT = "parent"
    SIBLING = "sibling"
    PARTNER = "partner"
    RELATIVE = "relative"
    OTHER = "other"

    @property
    def label(self):
        return EXPOSER_LABELS[self]


EXPOSER_LABELS = {
    Exposer.PARENT: _l("Parent"),
    Exposer.SIBLING: _l("Sibling"),
    Exposer.PARTNER: _l("Partner or former partner"),
    Exposer.RELATIVE: _l("Other relative"),
    Exposer.OTHER: _l("Someone else"),
}


class RiskAssessment(StrEnum):
    PATRIARK = "patriark"
    OTHER = "other"
    NONE = "none"

    @property
    def label(self):
        return RISK_ASSESSMENT_LABELS[self]


RISK_ASSESSMENT_LABELS = {
    RiskAssessment.PATRIARK: _l("Yes, with PATRIARK"),
    RiskAssessment.OTHER: _l("Yes, with another method"),
    RiskAssessment.NONE: _l("No"),
}

PRESENTATION_MINUTES = (10, 15, 20, 30)


# --- Meetings --------------------------------------------------------------------------------------


class MeetingStatus(StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"
    CLOSED = "closed"  # held; closing opens the evaluation

    @property
    def label(self):
        return MEETING_STATUS_LABELS[self]


MEETING_STATUS_LABELS = {
    MeetingStatus.PLANNED: _l("Planned"),
    MeetingStatus.CANCELLED: _l("Cancelled"),
    MeetingStatus.CLOSED: _l("Held"),
}


class AgendaItemKind(StrEnum):
    CASE = "case"
    WELCOME = "welcome"  # welcome and the consultation's rules
    COMPETENCE = "competence"  # competence development
    TRAINING_CASE = "training_case"  # a fictitious case when there are no real ones
    EXPERIENCE_EXCHANGE = "experience_exchange"
    OTHER = "other"

    @property
    def label(self):
        return AGENDA_ITEM_KIND_LABELS[self]


AGENDA_ITEM_KIND_LABELS = {
    AgendaItemKind.CASE: _l("Case"),
    AgendaItemKind.WELCOME: _l("Welcome and rules"),
    AgendaItemKind.COMPETENCE: _l("Competence development"),
    AgendaItemKind.TRAINING_CASE: _l("Fictitious training case"),
    AgendaItemKind.EXPERIENCE_EXCHANGE: _l("Experience exchange"),
    AgendaItemKind.OTHER: _l("Other"),
}


class InviteeKind(StrEnum):
    STANDING = "standing"  # a standing member (or the coordinator)
    PRESENTER = "presenter"  # invited for one case's slot only
    SUBSTITUTE = "substitute"  # stands in for an invitee from the same organisation who cannot attend


class Rsvp(StrEnum):
    NO_ANSWER = "no_answer"
    ON_SITE = "on_site"
    VIA_LINK = "via_link"
    CANNOT_ATTEND = "cannot_attend"

    @property
    def label(self):
        return RSVP_LABELS[self]


RSVP_LABELS = {
    Rsvp.NO_ANSWER: _l("No answer yet"),
    Rsvp.ON_SITE: _l("On site"),
    Rsvp.VIA_LINK: _l("Via the video link"),
    Rsvp.CANNOT_ATTEND: _l("Cannot attend"),
}


class Attendance(StrEnum):
    ABSENT = "absent"
    ON_SITE = "on_site"
    VIA_LINK = "via_link"

    @property
    def label(self):
        return ATTENDANCE_LABELS[self]


ATTENDANCE_LABELS = {
    Attendance.ABSENT: _l("Did not attend"),
    Attendance.ON_SITE: _l("Attended on site"),
    Attendance.VIA_LINK: _l("Attended via link"),
}
