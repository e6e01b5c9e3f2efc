"""What the scheduled jobs last did, for the health page and ``samrad status``."""

from datetime import datetime

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
