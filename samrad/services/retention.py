"""Retention: erase case free text some time after the case was last discussed, and delivered e-mail.

Only free text is erased. The coded fields (sex, age band, categories, who exposes, municipality, risk
assessment, dates) stay, so the statistics keep counting the case.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from samrad import outbox
from samrad.enums import CaseStatus
from samrad.models import AgendaItem, Case

#: A case that is queued for another discussion keeps its text until that discussion.
AWAITING_DISCUSSION = (CaseStatus.ACCEPTED, CaseStatus.ON_AGENDA)


def purge_case_text(session: Session, *, now: datetime, retention_days: int) -> int:
    """Erase background, questions, return comment and the advice given for cases last discussed
    ``retention_days`` or more days before ``now``, and stamp ``text_purged_at``.

    Runs as two UPDATE statements in the caller's transaction; running it again changes nothing.
    Objects already loaded in ``session`` are not refreshed. Returns the number of cases purged.
    """
    due = (
        select(Case.id)
        .where(Case.text_purged_at.is_(None))
        .where(Case.last_discussed_at.is_not(None))
        .where(Case.last_discussed_at <= now - timedelta(days=retention_days))
        .where(Case.status.not_in(AWAITING_DISCUSSION))
    )
    session.execute(
        update(AgendaItem).where(AgendaItem.case_id.in_(due)).values(advice=""),
        execution_options={"synchronize_session": False},
    )
    result = session.execute(
        update(Case)
        .where(Case.id.in_(due))
        .values(background="", questions="", return_comment="", text_purged_at=now),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def purge_sent_mail(session: Session) -> int:
    """Erase the bodies of delivered e-mail that still have one (delivery normally erases them)."""
    return outbox.purge_sent_bodies(session)
