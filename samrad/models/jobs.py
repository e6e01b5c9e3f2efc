"""What the scheduled jobs last did, for the health page and ``samrad status``."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from samrad.enums import JobOutcome
from samrad.models.base import UTCDateTime, enum_type


class JobRun(SQLModel, table=True):
    """One row per job name, overwritten by every run (``samrad.jobs.run_job``); not a history."""

    name: str = Field(primary_key=True, max_length=60)
    last_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_outcome: JobOutcome | None = Field(default=None, sa_type=enum_type(JobOutcome))
    #: Counts and error class names only: never case text, e-mail bodies or addresses.
    last_detail: str = Field(default="", max_length=500)
    last_ok_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Written by the scheduler process; None while no scheduler runs the job.
    next_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StatisticsGeneration(SQLModel, table=True):
    """One row whose number grows after every committed change to what the statistics count (cases and
    their categories, meetings, agenda items, invitees, organisations …; ``samrad.db`` bumps it), so a
    worker uses statistics it counted before only while nothing they came from has changed."""

    id: int = Field(default=1, primary_key=True)
    #: Starts at a random number, so two databases (or one made again) never share a generation.
    generation: int = Field(default=0, sa_type=sa.BigInteger)
