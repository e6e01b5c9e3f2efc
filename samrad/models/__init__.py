"""All table models; importing this package registers every table on ``SQLModel.metadata``."""

from samrad.models.audit import AuditEvent
from samrad.models.base import UTCDateTime, get_row, utcnow
from samrad.models.case import Case, CaseCategoryEntry, CaseExposerEntry
from samrad.models.consultation import Consultation, ConsultationRole, JoinRequest, StandingSeat
from samrad.models.evaluation import (
    Evaluation,
    EvaluationComment,
    EvaluationCount,
    EvaluationPendingAnswer,
    EvaluationQuestion,
    EvaluationSpent,
    EvaluationToken,
    Questionnaire,
)
from samrad.models.jobs import JobRun, StatisticsGeneration
from samrad.models.meeting import AgendaItem, AgendaVersion, BreakPeriod, CalendarFeed, Invitee, Meeting
from samrad.models.organisation import Municipality, Organisation
from samrad.models.outbox import OutboxMessage
from samrad.models.user import (
    AccountInvitation,
    LoginAttempt,
    Membership,
    RateLimitCounter,
    RecoveryCode,
    TwoFactor,
    User,
    UserSession,
)

#: What the statistics are counted from: a committed change to any of these makes cached statistics old.
STATISTICS_INPUTS = (
    Case,
    CaseCategoryEntry,
    CaseExposerEntry,
    Meeting,
    AgendaItem,
    Invitee,
    Membership,
    Organisation,
    Municipality,
    StandingSeat,
    Consultation,
)
#: Columns of those that no statistic reads: a change to these alone — an agenda put in another order, the
#: most frequent edit of all — leaves every county's kept statistics in place.
#: ``tests/unit/test_statistics_cache.py`` fails if the statistics modules ever name one of them.
STATISTICS_IGNORED_COLUMNS: dict[type, frozenset[str]] = {
    AgendaItem: frozenset({"position"}),
    Meeting: frozenset({"agenda_revision"}),
}

__all__ = [
    "get_row",
    "STATISTICS_IGNORED_COLUMNS",
    "STATISTICS_INPUTS",
    "StatisticsGeneration",
    "AccountInvitation",
    "AgendaItem",
    "AuditEvent",
    "AgendaVersion",
    "BreakPeriod",
    "CalendarFeed",
    "Case",
    "CaseCategoryEntry",
    "CaseExposerEntry",
    "Evaluation",
    "EvaluationComment",
    "EvaluationCount",
    "EvaluationQuestion",
    "EvaluationPendingAnswer",
    "EvaluationSpent",
    "EvaluationToken",
    "Invitee",
    "Meeting",
    "Consultation",
    "ConsultationRole",
    "JobRun",
    "JoinRequest",
    "LoginAttempt",
    "RateLimitCounter",
    "Membership",
    "Municipality",
    "Organisation",
    "OutboxMessage",
    "Questionnaire",
    "RecoveryCode",
    "StandingSeat",
    "TwoFactor",
    "User",
    "UserSession",
    "UTCDateTime",
    "utcnow",
]
