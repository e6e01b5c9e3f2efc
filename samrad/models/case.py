"""A de-identified case brought to a consultation for advice. The case stays owned by its organisation.

Free text (``background``, ``questions``, ``return_comment``) is purged on a retention schedule; the coded
fields stay for statistics. Categories and who exposes the person are rows of their own so that statistics
can count them with SQL.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, Relationship, SQLModel

from samrad.enums import AgeBand, CaseCategory, CaseStatus, Exposer, RiskAssessment, Sex
from samrad.models.base import UTCDateTime, enum_type, utcnow


class Case(SQLModel, table=True):
    # "case" is an SQL keyword; a plain name keeps hand-written SQL and reports simple.
    __tablename__ = "case_record"
    __table_args__ = (
        sa.UniqueConstraint("consultation_id", "reference"),
        sa.UniqueConstraint("consultation_id", "reference_year", "reference_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: A reference such as UNA-2026-014: consultation prefix, year, running number. No personal data.
    #: Given at the first submission (drafts have none), so numbers run without gaps.
    reference: str | None = Field(default=None, max_length=40)
    #: The year and running number inside ``reference``; unique per consultation, so that two
    #: simultaneous submissions cannot get the same number.
    reference_year: int | None = None
    reference_number: int | None = None
    consultation_id: int = Field(foreign_key="consultation.id", ondelete="RESTRICT", index=True)
    #: The organisation that owns the case (the case officer's organisation when submitted).
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="RESTRICT", index=True)
    officer_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL", index=True)
    #: Who presents: empty for the case officer, else a colleague's e-mail (invited for this slot only).
    presenter_email: str = Field(default="", max_length=254)
    status: CaseStatus = Field(default=CaseStatus.DRAFT, sa_type=enum_type(CaseStatus), index=True)
    #: Fictitious training cases are excluded from every statistic.
    is_training: bool = False

    # Coded facts, kept after the free text is purged.
    sex: Sex = Field(sa_type=enum_type(Sex))
    age_band: AgeBand = Field(sa_type=enum_type(AgeBand))
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id", ondelete="RESTRICT")
    risk_assessment: RiskAssessment = Field(sa_type=enum_type(RiskAssessment))
    report_of_concern_made: bool = False

    # Free text: de-identified, checked by the guard, purged on the retention schedule.
    questions: str = Field(default="", sa_type=sa.Text)
    background: str = Field(default="", sa_type=sa.Text)
    return_comment: str = Field(default="", sa_type=sa.Text)

    #: The meeting asked for; None means "the next possible meeting".
    requested_meeting_id: int | None = Field(default=None, foreign_key="meeting.id", ondelete="SET NULL")
    #: The meeting the coordinator accepted the case for (kept after it was discussed there, until the
    #: case is accepted for a later meeting).
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", ondelete="SET NULL", index=True)
    presentation_minutes: int = 15

    #: The submitter attested that the case is de-identified; how many guard warnings they overrode.
    attested_deidentified: bool = False
    overridden_findings: int = 0
    #: A random key from the form, so that the same form posted twice creates one case.
    submission_key: str | None = Field(default=None, max_length=64, unique=True)

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_discussed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    text_purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Moved on by every change of the case the ORM writes, whose UPDATE names the version it read (a
    #: StaleDataError when another change came first): at PostgreSQL's READ COMMITTED two requests can read
    #: the same case before either writes, and the second would otherwise write its change over the
    #: first's (a case returned and accepted at once). Bulk UPDATEs (the retention purge) leave it.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

    categories: list["CaseCategoryEntry"] = Relationship(
        sa_relationship_kwargs={"lazy": "selectin", "cascade": "all, delete-orphan"}
    )
    # Read when asked for (one case's page or form): lists show a case by reference and category.
    exposers: list["CaseExposerEntry"] = Relationship(
        sa_relationship_kwargs={"lazy": "select", "cascade": "all, delete-orphan"}
    )


class CaseCategoryEntry(SQLModel, table=True):
    __tablename__ = "case_category"

    case_id: int = Field(foreign_key="case_record.id", ondelete="CASCADE", primary_key=True)
    category: CaseCategory = Field(sa_type=enum_type(CaseCategory), primary_key=True)


class CaseExposerEntry(SQLModel, table=True):
    __tablename__ = "case_exposer"

    case_id: int = Field(foreign_key="case_record.id", ondelete="CASCADE", primary_key=True)
    exposer: Exposer = Field(sa_type=enum_type(Exposer), primary_key=True)
