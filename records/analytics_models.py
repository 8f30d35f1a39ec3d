"""Persistence of regional analytics: the rollups reports read (never raw statements), the
rollup job's watermark, and cached reports.

- `learning_days`: one row per pupil and day (JST) with any learning record, exact: kept by
  records.rollups from statements, recomputed whole for every (person, day) a new, late or
  voided statement touches.
- `school_weeks`: one row per school and week (Monday, JST), the additive sums every indicator
  needs, with enrolled pupils as denominators. Reports aggregate these, so a national report
  reads ~30,000 x 52 rows, not billions of pupil-days.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, JSONDocument

TZDateTime = DateTime(timezone=True)
SCORE_BINS = 10  # school_weeks.h0 .. h9: pupils by mean scaled score, bins of 0.1


class LearningDay(Base):
    """What one pupil did on one day (JST), from their non-voided statements."""

    __tablename__ = "learning_days"
    # Derived personal data: it goes with the person (erasure), like the statements it sums.
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    statements: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[float] = mapped_column(Float)  # result.duration, capped per statement
    attempted: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    score_sum: Mapped[float] = mapped_column(Float)  # sum of result.score.scaled (0..1)
    score_n: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_learning_days_school_day", "school_id", "day"),)


class SchoolWeek(Base):
    """Additive sums for one school and one week; every indicator is a ratio of these."""

    __tablename__ = "school_weeks"
    school_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)  # the Monday
    school_days: Mapped[int] = mapped_column(Integer)  # weekdays that are not holidays
    pupils: Mapped[int] = mapped_column(Integer)  # enrolled on any school day of the week
    enrolled_days: Mapped[int] = mapped_column(Integer)  # sum over school days of enrolled
    active_days: Mapped[int] = mapped_column(Integer)  # enrolled pupil-school-days with activity
    active3: Mapped[int] = mapped_column(Integer)  # enrolled pupils active on 3+ days
    minutes: Mapped[float] = mapped_column(Float)
    attempted: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    scored: Mapped[int] = mapped_column(Integer)  # pupils with a scaled score this week
    h0: Mapped[int] = mapped_column(Integer, default=0)
    h1: Mapped[int] = mapped_column(Integer, default=0)
    h2: Mapped[int] = mapped_column(Integer, default=0)
    h3: Mapped[int] = mapped_column(Integer, default=0)
    h4: Mapped[int] = mapped_column(Integer, default=0)
    h5: Mapped[int] = mapped_column(Integer, default=0)
    h6: Mapped[int] = mapped_column(Integer, default=0)
    h7: Mapped[int] = mapped_column(Integer, default=0)
    h8: Mapped[int] = mapped_column(Integer, default=0)
    h9: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_school_weeks_week", "week"),)


class RollupState(Base):
    """The rollup job's progress: statements up to `watermark` (seq) are rolled up; `version`
    grows with every change to the rollups, so cached reports know when they are stale."""

    __tablename__ = "rollup_state"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    watermark: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)


class DisparityReport(Base):
    """A computed report (already disclosure-controlled), cached by its parameters."""

    __tablename__ = "disparity_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    rollup_version: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    computed_at: Mapped[datetime] = mapped_column(TZDateTime)
