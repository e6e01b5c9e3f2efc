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
