"""The ``autograder`` command: a thin shell over the library.

Each subcommand (``build``, ``grade``, ``regrade``, ``roster``, ``history``, ``restore``,
``export``, ``feedback``, ``report``, ``check``) declares its arguments in ``parser()`` and is run
by its ``run_<command>(args)``, which calls one library function and turns its result into a
message and an exit status.
"""
import argparse
import os
import sys
import textwrap
from pathlib import Path

from .course import UNIT_IDS
from .sandbox import UNSANDBOXED, SandboxUnavailable
from . import course_folder

EXAMPLES = {
    "build": """
        autograder build                              # every unit with a solutions notebook
        autograder build 04_single_layer_gradients    # one unit
    """,
    "grade": """
        autograder grade 04_single_layer_gradients                     # submitted/<student>/<unit>/
        autograder grade 04_single_layer_gradients --submissions lms/  # lms/<student>/...
        autograder grade 04_single_layer_gradients --jobs 4            # four at a time
        autograder grade 04_single_layer_gradients --scheduler tcp://grader:8786  # a Dask cluster
        autograder grade 04_single_layer_gradients --submissions lms/ --ids lms-ids.csv
        autograder grade 04_single_layer_gradients --submissions lms/ --times lms-times.csv
    """,
    "roster": """
        autograder roster import roster.csv   # columns student_id,first_name,last_name,email
    """,
    "regrade": """
        autograder regrade 04_single_layer_gradients         # only what changed or had a problem
        autograder regrade 04_single_layer_gradients alice   # alice, whatever changed
    """,
    "history": """
        autograder history 04_single_layer_gradients   # each finished run: date, count, mean
    """,
    "restore": """
        autograder restore 04_single_layer_gradients 2026-12-07T124012Z   # that run's grades again
    """,
    "export": """
        autograder export 04_single_layer_gradients --format gradescope  # exports/<unit>/gradescope/
        autograder export 04_single_layer_gradients --format csv         # exports/<unit>/<unit>-lms.csv
        autograder export 04_single_layer_gradients --format canvas      # exports/<unit>/<unit>-canvas.csv
        autograder export --all --format csv      # exports/all-units/: every graded unit, a total
    """,
    "feedback": """
        autograder feedback 04_single_layer_gradients   # feedback/<student>/<unit>/summary.html
    """,
    "report": """
        autograder report 04_single_layer_gradients   # reports/<unit>.html, _tests.csv, _pairs.csv
        autograder report --all                       # reports/all-units.html: student x unit
    """,
    "check": """
        autograder check                                # all units
        autograder check 04_single_layer_gradients
    """,
}


TRUST_MODEL = """\
Every process that runs a student's code (the notebook's kernel, the judge's children, whatever they
start) runs in a bubblewrap sandbox of its own, per submission. Defended (tests/test_sandbox.py,
tests/test_hostile_class.py):
  - reading the reference nnlib/, solutions/, the gradebook, grades/, feedback/, other students'
    folders or the grading user's home: none of them exists inside the sandbox;
  - changing what is judged or recorded: the judge reads the submitted files, which the kernel never
    sees (it works on a copy in a tmpfs), and only this process writes the gradebook, CSV and JSON;
  - outliving grading: every process it started dies with its PID namespace (daemons included);
  - the network: its own network namespace, with nothing but its own loopback;
  - filling the disk or memory: what it writes lives in size-limited tmpfs (256 MB each) and is gone
    afterwards; the kernel's address space, the judge's CPU, memory and processes are limited;
  - tampering inside the kernel (patched numpy, fake output, sys.exit): the judge decides outside.
Not defended: plagiarism (a correct answer copied before submission); a kernel exploit breaking out
of the namespaces (keep the machine's kernel up to date); a CPU-bound kernel cell runs until the cell
time-out. Without bubblewrap or user namespaces, grading stops and says how to fix it."""

COURSE_HELP = f"""\
The course is a folder of yours (a clone of the course: nbgrader_config.py, solutions/, nnlib/),
and everything autograder writes goes into it: submitted/, autograded/, feedback/, grades/,
reports/, exports/ and gradebook.db. autograder works on --course DIR, else on
${course_folder.ENVIRONMENT_VARIABLE}, else on the working folder or the nearest folder above it holding
nbgrader_config.py; nbgrader's commands run in the course folder use the same course and gradebook."""

NO_SANDBOX_HELP = ("grade without the sandbox: student code then runs with your rights and could read "
                   "the reference and change grades; the report, CSV and JSON say so")


SCHEDULER_VARIABLE = "AUTOGRADER_SCHEDULER"
SCHEDULER_HELP = ("grade on the workers of this Dask cluster (e.g. tcp://grader:8786, started with "
                  "`dask scheduler` and `dask worker ADDRESS --nthreads 1`) instead of --jobs "
                  f"local processes; a worker needs only the course's environment (default: "
                  f"${SCHEDULER_VARIABLE} if set)")


def _unit(value):
    if value not in UNIT_IDS:
        raise argparse.ArgumentTypeError(f"unknown unit {value!r}; the units are: {', '.join(UNIT_IDS)}")
    return value


def _positive(value):
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


def _folder(value):
    path = Path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is not a folder")
    return path


def _id_mapping(value):
    from .intake import read_mapping
    try:
        return read_mapping(value)
    except (OSError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _times(path, course):
    """``--times``, read once the course (whose deadlines.toml names the time zone) is known."""
    from .deadlines import DeadlinesError, load, read_times
    try:
        return read_times(path, load(course).zone)
    except (OSError, ValueError, DeadlinesError) as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _warn_if_unsandboxed(args):
    if args.no_sandbox:
        print(f"autograder {args.command}: WARNING: {UNSANDBOXED}", file=sys.stderr)


def run_build(args):
    from .build import UnsavedWork, build
    try:
        folders = build(args.units, root=args.course)
    except UnsavedWork as error:
        print(f"autograder build: {error}", file=sys.stderr)
        return 2
    for folder in folders:
        print(f"built {folder.relative_to(args.course)}")
    return 0


def run_grade(args):
    _warn_if_unsandboxed(args)
    from .deadlines import DeadlinesError
    from .grading import NoSubmissions, SchedulerUnavailable, grade
    from .grading_task import WorkerUnfit
    from .stopping import GradingStopped
    try:
        report = grade(args.unit, submissions=args.submissions, work_dir=args.course,
                       root=args.course, cell_timeout=args.timeout,
                       feedback=not args.no_feedback, jobs=args.jobs, sandboxed=not args.no_sandbox,
                       id_mapping=args.ids, all_submitted=args.all, times=args.times,
                       scheduler=args.scheduler)
    except (SandboxUnavailable, DeadlinesError, SchedulerUnavailable, WorkerUnfit) as error:
        print(f"autograder grade: nothing was graded: {error}", file=sys.stderr)
        return 2
    except NoSubmissions as error:
        print(f"autograder grade: {error}", file=sys.stderr)
        return 2
    except GradingStopped as stop:
        print(f"\nautograder grade: {stop}", file=sys.stderr)
        return stop.exit_status
    print(report.summary())
    return 1 if report.failures else 0


def run_regrade(args):
    _warn_if_unsandboxed(args)
    from .grading import NoSubmissions, SchedulerUnavailable, grade
    from .grading_task import WorkerUnfit
    from .stopping import GradingStopped
    try:
        report = grade(args.unit, work_dir=args.course, root=args.course,
                       students=args.students or None, changed_only=not args.students,
                       cell_timeout=args.timeout, sandboxed=not args.no_sandbox, jobs=args.jobs,
                       scheduler=args.scheduler)
    except (ValueError, SandboxUnavailable, NoSubmissions, SchedulerUnavailable,
            WorkerUnfit) as error:
        # DeadlinesError is a ValueError
        print(f"autograder regrade: {error}", file=sys.stderr)
        return 2
    except GradingStopped as stop:
        print(f"\nautograder regrade: {stop}", file=sys.stderr)
        return stop.exit_status
    if not args.students:
        regraded = len(report.students) - len(report.unchanged)
        print(f"{args.unit}: graded again {regraded}, kept {len(report.unchanged)} unchanged "
              "(same submission, same tests, no problem)")
        if regraded:
            print(report.summary())
        return 1 if report.failures else 0
    for result in (s for s in report.students if s.student_id in args.students):
        print(f"{result.student_id}: {result.score:g} / {result.max_score:g}")
        for test in result.tests:
            if test.score < test.max_score:
                print(f"  {test.name}: {test.message}")
    return 1 if any(s.problems for s in report.students if s.student_id in args.students) else 0


def run_history(args):
    from .results import history
    runs = history(args.unit, args.course)
    if not runs:
        print(f"autograder history: no finished run of {args.unit} yet", file=sys.stderr)
        return 2
    print(f"{'run (UTC)':<22} {'submissions':>11} {'mean':>12}")
    for run in runs:
        print(f"{run.name:<22} {run.students:>11} {run.mean:>7.2f} / {run.max_score:<4g}"
              + ("  current" if run.current else ""))
    return 0


def run_restore(args):
    from .results import restore
    try:
        paths = restore(args.unit, args.run_name, args.course)
    except FileNotFoundError as error:
        print(f"autograder restore: {error}", file=sys.stderr)
        return 2
    print(f"{args.unit}: the grades of run {args.run_name} are current again "
          f"({', '.join(path.name for path in paths)}); `autograder feedback {args.unit}` rewrites "
          "the feedback pages from them")
    return 0


def run_roster(args):
    from .intake import import_roster
    try:
        count = import_roster(args.file, args.course)
    except (OSError, ValueError) as error:
        print(f"autograder roster: nothing was imported: {error}", file=sys.stderr)
        return 2
    print(f"{count} students in the gradebook")
    return 0


def run_export(args):
    from .export import ALL_UNITS, TABLE_FORMATS, export, export_all
    if (args.unit is None) == (not args.all):
        print("autograder export: name one UNIT, or --all for a table across units", file=sys.stderr)
        return 2
    if args.all and args.fmt not in TABLE_FORMATS:
        print(f"autograder export: --all writes one table ({', '.join(TABLE_FORMATS)}); Gradescope "
              "takes one unit at a time", file=sys.stderr)
        return 2
    from .deadlines import DeadlinesError
    try:
        paths = (export_all(args.fmt, args.course) if args.all
                 else export(args.unit, args.fmt, args.course))
    except (FileNotFoundError, DeadlinesError) as error:
        print(f"autograder export: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(paths)} file(s) under exports/{ALL_UNITS if args.all else args.unit}/")
    return 0


def run_feedback(args):
    from .deadlines import DeadlinesError
    from .feedback import FeedbackNotRendered, write_feedback
    try:
        pages = write_feedback(args.unit, work_dir=args.course, root=args.course)
    except (FileNotFoundError, DeadlinesError) as error:
        print(f"autograder feedback: {error}", file=sys.stderr)
        return 2
    except FeedbackNotRendered as error:  # every other page was written; the problem is recorded
        print(f"autograder feedback: {error}", file=sys.stderr)
        return 1
    print(f"wrote feedback for {len(pages)} students in feedback/*/{args.unit}/")
    return 0


def run_report(args):
    from .deadlines import DeadlinesError
    from .report import write_course_report, write_unit_report
    if (args.unit is None) == (not args.all):
        print("autograder report: name one UNIT, or --all for every graded unit", file=sys.stderr)
        return 2
    try:
        summary = (write_course_report(args.course)[1] if args.all
                   else write_unit_report(args.unit, args.course).summary)
    except (FileNotFoundError, DeadlinesError) as error:
        print(f"autograder report: {error}", file=sys.stderr)
        return 2
    print(summary)
    return 0


def run_check(args):
    from .selfcheck import check
    try:
        results = check(args.units, root=args.course)
    except SandboxUnavailable as error:
        print(f"autograder check: nothing was graded: {error}", file=sys.stderr)
        return 2
    for result in results:
        print(f"{'ok  ' if result.ok else 'FAIL'} {result.unit}")
        for error in result.errors:
            print(f"       {error}")
    if not results:
        print("no unit has an assignment yet")
    return 0 if all(result.ok for result in results) else 1


# --- The student copy and carrying one's own code forward (autograder/release.py, carry_forward.py)
EXAMPLES.update({
    "release": """
        autograder release --student-copy ../course-for-students --through 05   # units 01 to 05
    """,
    "carry-forward": """
        autograder carry-forward 05   # your code of units 01-04 into exercises/05_backprop/nnlib
    """,
})


def run_release(args):
    from .release import LeakError, write_student_copy
    try:
        made = write_student_copy(args.student_copy, args.through, root=args.course)
    except (FileExistsError, ValueError, LeakError) as error:
        print(f"autograder release: nothing was written: {error}", file=sys.stderr)
        return 2
    print(f"wrote the student copy of {made['units'][0]} to {made['units'][-1]} in "
          f"{args.student_copy}: {made['files']} files, {made['bytes'] / 1e6:.1f} MB; lectures "
          f"{', '.join(made['lectures'])}"
          + (f" (left out, they run on the reference: {', '.join(made['left_out'])})"
             if made["left_out"] else ""))
    return 0


def run_carry_forward(args):
    from .carry_forward import carry_forward, course_units
    from .release import manifests
    try:
        report = carry_forward(args.course, args.unit,
                               manifests=manifests(course_units(args.course), args.course))
    except (FileNotFoundError, ValueError) as error:
        print(f"autograder carry-forward: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


def add_student_copy_commands(command):
    release = command("release", "Write the student copy: lectures, exercises and editions up to "
                                 "a unit, a student README and environment, and nothing of the "
                                 "reference.", run_release)
    release.add_argument("--student-copy", required=True, type=Path, metavar="DIR",
                         help="a new (or empty) folder")
    release.add_argument("--through", required=True, metavar="UNIT", help="the last unit, e.g. 05")
    carry = command("carry-forward", "Bring the student's own code of earlier units into a unit's "
                                     "nnlib (checked, backed up; the reference where it fails).",
                    run_carry_forward)
    carry.add_argument("unit", metavar="UNIT", help="05 or 05_backprop")
# ---


def parser():
    main = argparse.ArgumentParser(prog="autograder", description="Release, grade and check the "
                                   "course's assignments (nbgrader underneath).", epilog=COURSE_HELP,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    main.add_argument("--course", type=Path, metavar="DIR",
                      help="the course folder (default: $NNCOURSE_DIR, else the working folder or "
                           "the nearest one above it holding nbgrader_config.py)")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help_text, run):
        # The list of commands shows each one's first paragraph; its own --help, all of it.
        sub = commands.add_parser(name, help=help_text.split("\n\n")[0], description=help_text,
                                  formatter_class=argparse.RawDescriptionHelpFormatter,
                                  epilog="examples:" + textwrap.dedent(EXAMPLES[name]))
        sub.set_defaults(run=run)
        return sub

    build = command("build", "Regenerate exercises/<unit>/: the student notebook and nnlib edition.",
                    run_build)
    build.add_argument("units", nargs="*", type=_unit, metavar="UNIT")

    grade = command("grade", "Autograde every submission of a unit; write feedback and "
                             "grades/<unit>.csv.\n\n" + TRUST_MODEL, run_grade)
    grade.add_argument("unit", type=_unit, metavar="UNIT")
    grade.add_argument("--submissions", type=_folder, metavar="DIR",
                       help="a folder of student folders (an LMS export), copied into submitted/")
    grade.add_argument("--timeout", type=int, default=None, metavar="SECONDS",
                       help="seconds a notebook cell may run (default: the course setting)")
    grade.add_argument("--no-feedback", action="store_true", help="skip writing feedback pages")
    grade.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1, metavar="N",
                       help="submissions graded at the same time (default: the number of cores)")
    grade.add_argument("--scheduler", metavar="ADDRESS", help=SCHEDULER_HELP,
                       default=os.environ.get(SCHEDULER_VARIABLE) or None)
    grade.add_argument("--no-sandbox", action="store_true", help=NO_SANDBOX_HELP)
    grade.add_argument("--ids", type=_id_mapping, metavar="MAPPING.csv",
                       help="a CSV lms_name,student_id: the student id of each LMS folder")
    grade.add_argument("--all", action="store_true",
                       help="with --submissions, also grade again what submitted/ already holds")
    grade.add_argument("--times", type=Path, metavar="TIMES.csv",
                       help="a CSV student,submitted_at: when each student (LMS folder name or id) "
                            "handed in, for the due dates of deadlines.toml")

    regrade = command("regrade", "Grade again what changed since a unit was graded (a resubmission, "
                                 "a fixed test) or had a problem; or the students named.", run_regrade)
    regrade.add_argument("unit", type=_unit, metavar="UNIT")
    regrade.add_argument("students", nargs="*", metavar="STUDENT")
    regrade.add_argument("--timeout", type=int, default=None, metavar="SECONDS")
    regrade.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1, metavar="N",
                         help="submissions graded at the same time (default: the number of cores)")
    regrade.add_argument("--scheduler", metavar="ADDRESS", help=SCHEDULER_HELP,
                         default=os.environ.get(SCHEDULER_VARIABLE) or None)
    regrade.add_argument("--no-sandbox", action="store_true", help=NO_SANDBOX_HELP)

    roster = command("roster", "Put the class list into the gradebook (the formgrader shows "
                               "names).", run_roster)
    roster.add_argument("action", choices=["import"])
    roster.add_argument("file", type=Path, metavar="FILE.csv",
                        help="columns student_id,first_name,last_name,email")

    history = command("history", "List the finished grading runs of a unit (kept in "
                                 "grades/<unit>/).", run_history)
    history.add_argument("unit", type=_unit, metavar="UNIT")

    restore = command("restore", "Make an earlier run's grades the current grades/<unit>.json and "
                                 ".csv again.", run_restore)
    restore.add_argument("unit", type=_unit, metavar="UNIT")
    restore.add_argument("run_name", metavar="RUN", help="a run as `autograder history` lists it")

    export = command("export", "Export the last grading run for Gradescope, Canvas or an LMS gradebook.",
                     run_export)
    export.add_argument("unit", type=_unit, metavar="UNIT", nargs="?")
    export.add_argument("--all", action="store_true",
                        help="one table of every unit with saved results (csv or canvas)")
    export.add_argument("--format", required=True, choices=["canvas", "csv", "gradescope"], dest="fmt",
                        help="canvas: a Canvas gradebook import; csv: a generic LMS table (Moodle, "
                             "Blackboard); gradescope: a results.json per student")

    feedback = command("feedback", "Write HTML feedback for every graded student of a unit.",
                       run_feedback)
    feedback.add_argument("unit", type=_unit, metavar="UNIT")

    report = command("report", "Write reports/<unit>.html: scores, failures grouped by kind, similar "
                               "submissions (evidence, never a verdict).", run_report)
    report.add_argument("unit", type=_unit, metavar="UNIT", nargs="?")
    report.add_argument("--all", action="store_true", help="a student x unit table of every graded unit")

    check = command("check", "Check that each reference scores full marks and each untouched "
                             "release scores zero.", run_check)
    check.add_argument("units", nargs="*", type=_unit, metavar="UNIT")
    add_student_copy_commands(command)
    return main


def main(argv=None):
    """Run the command; returns the exit status (0 success, 1 some submissions failed, 2 usage)."""
    arguments = parser()
    args = arguments.parse_args(argv)
    try:
        args.course = course_folder.find(args.course)
    except course_folder.CourseNotFound as error:
        print(f"autograder {args.command}: {error}", file=sys.stderr)
        return 2
    if getattr(args, "times", None) is not None:
        try:
            args.times = _times(args.times, args.course)
        except argparse.ArgumentTypeError as error:
            arguments.error(f"argument --times: {error}")
    # For the rest of the run, whatever chooses the course by default (and every process started
    # from here) chooses this one.
    previous = os.environ.get(course_folder.ENVIRONMENT_VARIABLE)
    os.environ[course_folder.ENVIRONMENT_VARIABLE] = str(args.course)
    try:
        return args.run(args)
    finally:
        if previous is None:
            del os.environ[course_folder.ENVIRONMENT_VARIABLE]
        else:
            os.environ[course_folder.ENVIRONMENT_VARIABLE] = previous


if __name__ == "__main__":
    sys.exit(main())
