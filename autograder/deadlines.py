"""Deadlines: when each unit is due, per-student extensions, and what a late submission loses.

The course's settings are in ``deadlines.toml`` in the course folder (next to the gradebook), read
by ``autograder grade`` and by nbgrader's own ``autograde``; without the file nothing is ever late::

    timezone = "Europe/Berlin"      # for times written without an offset (an IANA name)

    [late_policy]
    grace_minutes = 10              # this late still counts as on time
    per_day = 0.1                   # share of the score lost per day late, each day begun counts
    maximum = 0.5                   # the most a late submission can lose (1: down to zero)

    [due]
    04_single_layer_gradients = "2027-01-15 23:59"

    [extensions.04_single_layer_gradients]
    alice = "2 days"                # or "36 hours", "90 minutes"

A unit missing from ``[due]`` keeps the due date set in the formgrader (nbgrader's gradebook), if
any. The penalty is nbgrader's: ``LatePenalty`` is the course's late-submission plugin for
``AssignLatePenalties``, and ``autograder`` applies the same ``LatePolicy`` to the final score (a
grader's manual score included) of every report it writes.

When a submission was handed in is nbgrader's ``timestamp.txt`` in ``submitted/<student>/<unit>/``:
written by the exchange when nbgrader collects it, or by ``autograder grade --times FILE.csv`` for an
LMS export (``write_timestamp``).
"""
import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Unicode

DEADLINES_FILE = "deadlines.toml"
DAY = 24 * 3600
# nbgrader's timestamp.txt format (what its exchange writes and ``parse_utc`` reads).
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(days?|hours?|minutes?)\s*")


@dataclass(frozen=True)
class LatePolicy:
    """What a submission ``seconds_late`` loses: ``per_day`` of its score for each day begun after
    ``grace_minutes``, at most ``maximum`` of it."""
    grace_minutes: float = 0.0
    per_day: float = 0.0
    maximum: float = 1.0

    def days_late(self, seconds_late):
        """Days late as the policy counts them: each day begun, after the grace period."""
        if seconds_late <= self.grace_minutes * 60:
            return 0
        return math.ceil(seconds_late / DAY)

    def penalty(self, score, seconds_late):
        """Points lost by a submission scoring ``score`` and handed in ``seconds_late`` late."""
        share = min(self.per_day * self.days_late(seconds_late), self.maximum)
        return round(max(score, 0.0) * share, 6)

    def describe(self):
        if not self.per_day:
            return "late submissions lose nothing"
        grace = f" after a grace period of {self.grace_minutes:g} minutes" if self.grace_minutes else ""
        return (f"{100 * self.per_day:g}% of the score per day late (each day begun counts){grace}, "
                f"at most {100 * self.maximum:g}%")


@dataclass
class Deadlines:
    """The course's deadlines (``load``); times are aware datetimes in UTC."""
    due: dict = field(default_factory=dict)          # unit -> datetime
    extensions: dict = field(default_factory=dict)   # unit -> {student: timedelta}
    policy: LatePolicy = field(default_factory=LatePolicy)
    zone: object = timezone.utc                      # for times written without an offset

    def due_for(self, unit, student, fallback=None):
        """``(due, extension)`` of ``student`` for ``unit``: the file's due date, else
        ``fallback`` (the gradebook's), plus the student's extension; ``(None, None)`` if the
        unit has no due date."""
        due = self.due.get(unit, fallback)
        if due is None:
            return None, None
        extension = self.extensions.get(unit, {}).get(student)
        return due + (extension or timedelta()), extension


class DeadlinesError(ValueError):
    """``deadlines.toml`` cannot be used; the message names the file and the entry."""


def parse_time(text, zone=timezone.utc):
    """An aware UTC datetime from ``2027-01-15 23:59`` (in ``zone``), ``2027-01-15T23:59:00+01:00``
    or nbgrader's ``2027-01-15 23:59:00.000000 UTC``; ``ValueError`` otherwise."""
    text = str(text).strip()
    if text.endswith(" UTC"):
        text = text[:-4] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(timezone.utc)


def parse_duration(value):
    """A ``timedelta`` from ``"2 days"``, ``"36 hours"``, ``"90 minutes"`` or a number of days."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return timedelta(days=value)
    match = DURATION.fullmatch(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration (write e.g. \"2 days\", \"36 hours\")")
    amount, unit = float(match[1]), match[2].rstrip("s")
    return timedelta(**{f"{unit}s": amount})


def load(course_dir):
    """The deadlines of the course in ``course_dir`` (no file: none); ``DeadlinesError`` naming the
    entry that cannot be used."""
    from .course import UNIT_IDS

    path = Path(course_dir) / DEADLINES_FILE
    if not path.is_file():
        return Deadlines()
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise DeadlinesError(f"{DEADLINES_FILE}: {error}") from error
    unknown = set(settings) - {"timezone", "late_policy", "due", "extensions"}
    if unknown:
        raise DeadlinesError(f"{DEADLINES_FILE}: unknown setting(s) {', '.join(sorted(unknown))}; "
                             "expected timezone, [late_policy], [due], [extensions.<unit>]")
    try:
        zone = ZoneInfo(settings.get("timezone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise DeadlinesError(f"{DEADLINES_FILE}: timezone {settings.get('timezone')!r} is not a "
                             "time zone name such as \"Europe/Berlin\"") from error

    def unit_of(name, where):
        if name not in UNIT_IDS:
            raise DeadlinesError(f"{DEADLINES_FILE}: {where}: unknown unit {name!r}; the units are: "
                                 f"{', '.join(UNIT_IDS)}")
        return name

    due = {}
    for unit, text in settings.get("due", {}).items():
        unit_of(unit, "[due]")
        try:
            due[unit] = parse_time(text, zone)
        except (ValueError, TypeError) as error:
            raise DeadlinesError(f"{DEADLINES_FILE}: [due] {unit} = {text!r} is not a date and time "
                                 "(write e.g. \"2027-01-15 23:59\")") from error
    extensions = {}
    for unit, students in settings.get("extensions", {}).items():
        unit_of(unit, "[extensions]")
        if not isinstance(students, dict):
            raise DeadlinesError(f"{DEADLINES_FILE}: [extensions.{unit}] must list students, "
                                 "e.g. alice = \"2 days\"")
        try:
            extensions[unit] = {student: parse_duration(value) for student, value in students.items()}
        except ValueError as error:
            raise DeadlinesError(f"{DEADLINES_FILE}: [extensions.{unit}]: {error}") from error
    policy_settings = settings.get("late_policy", {})
    unknown = set(policy_settings) - {"grace_minutes", "per_day", "maximum"}
    if unknown:
        raise DeadlinesError(f"{DEADLINES_FILE}: [late_policy]: unknown setting(s) "
                             f"{', '.join(sorted(unknown))}; expected grace_minutes, per_day, maximum")
    try:
        policy = LatePolicy(**{key: float(value) for key, value in policy_settings.items()})
    except (TypeError, ValueError) as error:
        raise DeadlinesError(f"{DEADLINES_FILE}: [late_policy]: every value must be a number") from error
    if not (policy.grace_minutes >= 0 and 0 <= policy.per_day <= 1 and 0 <= policy.maximum <= 1):
        raise DeadlinesError(f"{DEADLINES_FILE}: [late_policy]: grace_minutes must be >= 0, per_day "
                             "and maximum between 0 and 1 (shares of the score)")
    return Deadlines(due, extensions, policy, zone)


def write_timestamp(folder, moment):
    """Record when the submission in ``folder`` was handed in, as nbgrader's exchange does."""
    from .files import write_atomically

    return write_atomically(Path(folder) / "timestamp.txt",
                            moment.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT))


def read_times(path, zone=timezone.utc):
    """``{lms_name or student_id: datetime}`` from a CSV with the columns ``student,submitted_at``
    (``--times``); ``ValueError`` naming the line of a bad row."""
    from .files import csv_rows

    times = {}
    for where, row in csv_rows(path, ("student", "submitted_at")):
        if not row["student"]:
            raise ValueError(f"{where}: no student")
        try:
            times[row["student"]] = parse_time(row["submitted_at"], zone)
        except ValueError as error:
            raise ValueError(f"{where}: {row['submitted_at']!r} is not a date and time "
                             "(write e.g. 2027-01-15 23:59 or 2027-01-15T23:59:00+01:00)") from error
    return times


def describe_lateness(seconds_late, policy):
    """``"1 day 2 h 5 min late"`` (or ``"on time"``)."""
    if seconds_late <= 0:
        return "on time"
    minutes = int(seconds_late // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = ([f"{days} day{'s' * (days != 1)}"] if days else []) + \
        ([f"{hours} h"] if hours else []) + [f"{minutes} min"]
    within = " (within the grace period)" if policy.days_late(seconds_late) == 0 else ""
    return " ".join(parts) + " late" + within


class LatePenalty(LateSubmissionPlugin):
    """nbgrader's late-submission plugin for this course: the ``[late_policy]`` of
    ``deadlines.toml`` (``AssignLatePenalties.plugin_class``)."""

    course_directory = Unicode("", help="The folder holding deadlines.toml").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        policy = load(self.course_directory).policy
        return policy.penalty(score, total_seconds_late) or None
