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

__all__ = [
    "get_row",
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
