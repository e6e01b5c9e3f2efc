"""Fixed vocabularies of the domain. Values are stored in the database; labels are translated."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class LabelledEnum(StrEnum):
    """A vocabulary whose members have translated labels (``member.label``), given by :func:`set_labels`."""

    @property
    def label(self):
        return _LABELS[type(self)][self]


_LABELS: dict[type, dict] = {}


def set_labels(enum_cls: type[LabelledEnum], labels: dict) -> dict:
    """Register the labels of every member of ``enum_cls`` (all members must have one)."""
    missing = set(enum_cls) - set(labels)
    if missing:
        raise ValueError(f"{enum_cls.__name__} has no label for {sorted(missing)}")
    _LABELS[enum_cls] = labels
    return labels


class Sector(LabelledEnum):
    """Whether an organisation exercises public authority; secrecy rules differ between the two."""

    PUBLIC_AUTHORITY = "public_authority"
    CIVIL_SOCIETY = "civil_society"


SECTOR_LABELS = set_labels(
    Sector,
    {
        Sector.PUBLIC_AUTHORITY: _l("Public authority"),
        Sector.CIVIL_SOCIETY: _l("Civil society"),
    },
)


class OrganisationType(LabelledEnum):
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
    def default_sector(self) -> Sector:
        civil = {self.WOMENS_SHELTER, self.GIRLS_SHELTER, self.OTHER_NGO}
        return Sector.CIVIL_SOCIETY if self in civil else Sector.PUBLIC_AUTHORITY


ORGANISATION_TYPE_LABELS = set_labels(
    OrganisationType,
    {
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
    },
)


class Role(LabelledEnum):
    """A user's role in one consultation. Administrators are global (``User.is_admin``)."""

    COORDINATOR = "coordinator"
    MEMBER = "member"
    CASE_OFFICER = "case_officer"
    STATISTICS_VIEWER = "statistics_viewer"


ROLE_LABELS = set_labels(
    Role,
    {
        Role.COORDINATOR: _l("Coordinator"),
        Role.MEMBER: _l("Standing member"),
        Role.CASE_OFFICER: _l("Case officer"),
        Role.STATISTICS_VIEWER: _l("Statistics viewer"),
    },
)

#: Roles a professional may ask for through the public join form.
REQUESTABLE_ROLES = (Role.MEMBER, Role.CASE_OFFICER)


class JoinRequestStatus(LabelledEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


JOIN_REQUEST_STATUS_LABELS = set_labels(
    JoinRequestStatus,
    {
        JoinRequestStatus.PENDING: _l("Waiting for the coordinator"),
        JoinRequestStatus.APPROVED: _l("Approved"),
        JoinRequestStatus.DECLINED: _l("Declined"),
    },
)


class VideoProvider(LabelledEnum):
    NONE = "none"
    JITSI = "jitsi"
    STATIC = "static"


VIDEO_PROVIDER_LABELS = set_labels(
    VideoProvider,
    {
        VideoProvider.NONE: _l("No video link"),
        VideoProvider.JITSI: _l("Jitsi (a new room for every meeting)"),
        VideoProvider.STATIC: _l("One fixed link (e.g. Teams or Zoom)"),
    },
)


class Weekday(LabelledEnum):
    MONDAY = "MO"
    TUESDAY = "TU"
    WEDNESDAY = "WE"
    THURSDAY = "TH"
    FRIDAY = "FR"


WEEKDAY_LABELS = set_labels(
    Weekday,
    {
        Weekday.MONDAY: _l("Monday"),
        Weekday.TUESDAY: _l("Tuesday"),
        Weekday.WEDNESDAY: _l("Wednesday"),
        Weekday.THURSDAY: _l("Thursday"),
        Weekday.FRIDAY: _l("Friday"),
    },
)


class OutboxStatus(LabelledEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


OUTBOX_STATUS_LABELS = set_labels(
    OutboxStatus,
    {
        OutboxStatus.PENDING: _l("Waiting to be sent"),
        OutboxStatus.SENDING: _l("Being sent"),
        OutboxStatus.SENT: _l("Delivered"),
        OutboxStatus.FAILED: _l("Not delivered"),
    },
)


class JobOutcome(LabelledEnum):
    """How the last run of a scheduled job ended (``samrad.jobs.run_job`` records it)."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


JOB_OUTCOME_LABELS = set_labels(
    JobOutcome,
    {
        JobOutcome.RUNNING: _l("Running"),
        JobOutcome.OK: _l("Succeeded"),
        JobOutcome.FAILED: _l("Failed"),
    },
)


# --- Cases -----------------------------------------------------------------------------------------


class CaseStatus(LabelledEnum):
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


CASE_STATUS_LABELS = set_labels(
    CaseStatus,
    {
        CaseStatus.DRAFT: _l("Draft"),
        CaseStatus.SUBMITTED: _l("Submitted, waiting for the coordinator"),
        # Read by the coordinator as well as the case officer (the queue, the case page): said of the case.
        CaseStatus.RETURNED: _l("Returned to the case officer"),
        CaseStatus.WITHDRAWN: _l("Withdrawn"),
        CaseStatus.ACCEPTED: _l("Accepted for a meeting"),
        CaseStatus.ON_AGENDA: _l("On a published agenda"),
        CaseStatus.DISCUSSED: _l("Discussed"),
        CaseStatus.FOLLOW_UP: _l("Follow-up wanted"),
        CaseStatus.CLOSED: _l("Closed"),
    },
)


class CaseCategory(LabelledEnum):
    HONOUR_VIOLENCE = "honour_violence"
    CHILD_MARRIAGE = "child_marriage"
    FORCED_MARRIAGE = "forced_marriage"
    GENITAL_MUTILATION = "genital_mutilation"
    TAKEN_ABROAD = "taken_abroad"
    PARTNER_VIOLENCE = "partner_violence"
    PROSTITUTION_TRAFFICKING = "prostitution_trafficking"
    OTHER = "other"

    @property
    def is_honour_related(self) -> bool:
        """Honour-related cases go first when agenda time runs short (the Norrbotten rule)."""
        return self in HONOUR_RELATED


CASE_CATEGORY_LABELS = set_labels(
    CaseCategory,
    {
        CaseCategory.HONOUR_VIOLENCE: _l("Honour-related violence and oppression"),
        CaseCategory.CHILD_MARRIAGE: _l("Child marriage"),
        CaseCategory.FORCED_MARRIAGE: _l("Forced marriage"),
        CaseCategory.GENITAL_MUTILATION: _l("Female genital mutilation"),
        CaseCategory.TAKEN_ABROAD: _l("Risk of being taken abroad"),
        CaseCategory.PARTNER_VIOLENCE: _l("Violence in close relationships"),
        CaseCategory.PROSTITUTION_TRAFFICKING: _l("Prostitution and human trafficking"),
        CaseCategory.OTHER: _l("Other"),
    },
)

HONOUR_RELATED = frozenset(
    {
        CaseCategory.HONOUR_VIOLENCE,
        CaseCategory.CHILD_MARRIAGE,
        CaseCategory.FORCED_MARRIAGE,
        CaseCategory.GENITAL_MUTILATION,
        CaseCategory.TAKEN_ABROAD,
    }
)


class Sex(LabelledEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER_UNKNOWN = "other_unknown"


SEX_LABELS = set_labels(
    Sex,
    {
        Sex.FEMALE: _l("Girl or woman"),
        Sex.MALE: _l("Boy or man"),
        Sex.OTHER_UNKNOWN: _l("Other or unknown"),
    },
)


class AgeBand(LabelledEnum):
    """Age is only ever stored as a band (domain brief, product decisions)."""

    CHILD = "0-12"
    TEEN = "13-17"
    YOUNG_ADULT = "18-26"
    ADULT = "27-64"
    SENIOR = "65+"


AGE_BAND_LABELS = set_labels(
    AgeBand,
    {
        AgeBand.CHILD: _l("0–12 years"),
        AgeBand.TEEN: _l("13–17 years"),
        AgeBand.YOUNG_ADULT: _l("18–26 years"),
        AgeBand.ADULT: _l("27–64 years"),
        AgeBand.SENIOR: _l("65 years or older"),
    },
)


class Exposer(LabelledEnum):
    """Who exposes the person to violence (multi-select)."""

    PARENT = "parent"
    SIBLING = "sibling"
    PARTNER = "partner"
    RELATIVE = "relative"
    OTHER = "other"


EXPOSER_LABELS = set_labels(
    Exposer,
    {
        Exposer.PARENT: _l("Parent"),
        Exposer.SIBLING: _l("Sibling"),
        Exposer.PARTNER: _l("Partner or former partner"),
        Exposer.RELATIVE: _l("Other relative"),
        Exposer.OTHER: _l("Someone else"),
    },
)


class RiskAssessment(LabelledEnum):
    PATRIARK = "patriark"
    OTHER = "other"
    NONE = "none"


RISK_ASSESSMENT_LABELS = set_labels(
    RiskAssessment,
    {
        RiskAssessment.PATRIARK: _l("Yes, with PATRIARK"),
        RiskAssessment.OTHER: _l("Yes, with another method"),
        RiskAssessment.NONE: _l("No"),
    },
)

PRESENTATION_MINUTES = (10, 15, 20, 30)


# --- Meetings --------------------------------------------------------------------------------------


class MeetingStatus(LabelledEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"
    CLOSED = "closed"  # held; closing opens the evaluation


MEETING_STATUS_LABELS = set_labels(
    MeetingStatus,
    {
        MeetingStatus.PLANNED: _l("Planned"),
        MeetingStatus.CANCELLED: _l("Cancelled"),
        MeetingStatus.CLOSED: _l("Held"),
    },
)


class AgendaItemKind(LabelledEnum):
    CASE = "case"
    WELCOME = "welcome"  # welcome and the consultation's rules
    COMPETENCE = "competence"  # competence development
    TRAINING_CASE = "training_case"  # a fictitious case when there are no real ones
    EXPERIENCE_EXCHANGE = "experience_exchange"
    OTHER = "other"


AGENDA_ITEM_KIND_LABELS = set_labels(
    AgendaItemKind,
    {
        AgendaItemKind.CASE: _l("Case"),
        AgendaItemKind.WELCOME: _l("Welcome and rules"),
        AgendaItemKind.COMPETENCE: _l("Competence development"),
        AgendaItemKind.TRAINING_CASE: _l("Fictitious training case"),
        AgendaItemKind.EXPERIENCE_EXCHANGE: _l("Experience exchange"),
        AgendaItemKind.OTHER: _l("Other"),
    },
)


class InviteeKind(StrEnum):
    STANDING = "standing"  # a standing member (or the coordinator)
    PRESENTER = "presenter"  # invited for one case's slot only
    SUBSTITUTE = "substitute"  # stands in for an invitee from the same organisation who cannot attend


class Rsvp(LabelledEnum):
    NO_ANSWER = "no_answer"
    ON_SITE = "on_site"
    VIA_LINK = "via_link"
    CANNOT_ATTEND = "cannot_attend"


RSVP_LABELS = set_labels(
    Rsvp,
    {
        Rsvp.NO_ANSWER: _l("No answer yet"),
        Rsvp.ON_SITE: _l("On site"),
        Rsvp.VIA_LINK: _l("Via the video link"),
        Rsvp.CANNOT_ATTEND: _l("Cannot attend"),
    },
)


class Attendance(LabelledEnum):
    ABSENT = "absent"
    ON_SITE = "on_site"
    VIA_LINK = "via_link"


ATTENDANCE_LABELS = set_labels(
    Attendance,
    {
        Attendance.ABSENT: _l("Did not attend"),
        Attendance.ON_SITE: _l("Attended on site"),
        Attendance.VIA_LINK: _l("Attended via link"),
    },
)


class AuditVerb(LabelledEnum):
    """What a person (or a scheduled job) did to an object recorded in the audit log."""

    VIEWED = "viewed"
    CREATED = "created"
    CHANGED = "changed"
    DELETED = "deleted"
    EXPORTED = "exported"
    LOGGED_IN = "logged_in"


AUDIT_VERB_LABELS = set_labels(
    AuditVerb,
    {
        AuditVerb.VIEWED: _l("Viewed"),
        AuditVerb.CREATED: _l("Created"),
        AuditVerb.CHANGED: _l("Changed"),
        AuditVerb.DELETED: _l("Deleted"),
        AuditVerb.EXPORTED: _l("Exported"),
        AuditVerb.LOGGED_IN: _l("Logged in"),
    },
)


class AuditKind(LabelledEnum):
    """The kinds of object the audit log follows. Evaluations are deliberately not among them: an answer
    must not be traceable to its respondent, not even through the time someone opened the form."""

    CASE = "case"
    CASE_QUEUE = "case_queue"
    AGENDA = "agenda"
    MEETING = "meeting"
    USER = "user"
    ROLE = "role"
    TWO_FACTOR = "two_factor"
    CONSULTATION = "consultation"
    ORGANISATION = "organisation"
    MUNICIPALITY = "municipality"
    STATISTICS = "statistics"
    AUDIT_LOG = "audit_log"


AUDIT_KIND_LABELS = set_labels(
    AuditKind,
    {
        AuditKind.CASE: _l("Case"),
        AuditKind.CASE_QUEUE: _l("Case queue"),
        AuditKind.AGENDA: _l("Agenda"),
        AuditKind.MEETING: _l("Meeting"),
        AuditKind.USER: _l("Account"),
        AuditKind.ROLE: _l("Role"),
        AuditKind.TWO_FACTOR: _l("Two-factor authentication"),
        AuditKind.CONSULTATION: _l("Consultation settings"),
        AuditKind.ORGANISATION: _l("Organisation"),
        AuditKind.MUNICIPALITY: _l("Municipality"),
        AuditKind.STATISTICS: _l("Statistics"),
        AuditKind.AUDIT_LOG: _l("Audit log"),
    },
)
