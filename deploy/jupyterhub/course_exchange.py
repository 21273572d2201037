"""nbgrader's file exchange with students kept apart (nbgrader issue #978).

nbgrader's default exchange leaves every submission folder world-writable (0777) and only warns when
a folder in ``inbound/`` claims a student who does not own it. Here, with the exchange laid out by
``course_hub.prepare_exchange`` (``inbound/`` write-only for students, sticky, group the
instructors'):

- ``PrivateSubmit`` hands a submission to the instructors' group alone: its folder 0770, its files
  0640 (the group comes from ``inbound/``'s setgid bit), so no other student can read or change it
  even knowing its name;
- ``OwnedCollect`` collects only folders owned by the student they name: a folder made by B under
  A's name is refused with an error, and A's own latest submission is collected.

Feedback keeps nbgrader's scheme: ``feedback/`` cannot be listed by students and each page is named
by a hash of the submission's secret, which only the student and the instructors can read.
"""
import glob
import os
import pwd
import shutil

from nbgrader.exchange.default import ExchangeCollect, ExchangeSubmit
from nbgrader.utils import ignore_patterns

SUBMISSION_FOLDER_MODE = 0o770
SUBMISSION_FILE_MODE = 0o640


class PrivateSubmit(ExchangeSubmit):
    def do_copy(self, src, dest, log=None):
        """nbgrader's copy (same files left out, same size limit), except that into inbound/ no
        folder's mode is copied: that would drop the setgid bit, and the files nbgrader writes next
        (timestamp, secret) would then belong to the student's group, unreadable to instructors."""
        if os.path.dirname(os.path.abspath(dest)) != os.path.abspath(self.inbound_path):
            return super().do_copy(src, dest, log)
        if self.get_size(src) > 1000 * self.coursedir.max_dir_size:
            raise RuntimeError("Directory size is too big")
        ignore = ignore_patterns(exclude=self.coursedir.ignore, include=self.coursedir.include,
                                 max_file_size=self.coursedir.max_file_size, log=self.log)
        for folder, subfolders, files in os.walk(src):
            left_out = ignore(folder, subfolders + files)
            subfolders[:] = [name for name in subfolders if name not in left_out]
            target = os.path.join(dest, os.path.relpath(folder, src))
            os.makedirs(target, exist_ok=True)
            for name in files:
                if name not in left_out:
                    shutil.copyfile(os.path.join(folder, name), os.path.join(target, name))

    def copy_files(self):
        super().copy_files()
        submission = os.path.join(self.inbound_path, self.assignment_filename)
        # nbgrader made the folder 0777 so that the instructor may delete it; the instructors'
        # group (inherited from inbound/) can, and nobody else can enter it.
        self.set_perms(submission, fileperms=SUBMISSION_FILE_MODE, dirperms=SUBMISSION_FOLDER_MODE)
        os.chmod(submission, SUBMISSION_FOLDER_MODE)


def owner_name(path):
    try:
        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except KeyError:
        return None


class OwnedCollect(ExchangeCollect):
    def init_src(self):
        super().init_src()
        student_id = self.coursedir.student_id or "*"
        pattern = os.path.join(self.inbound_path, f"{student_id}+{self.coursedir.assignment_id}+*")
        genuine = {}
        for path in glob.glob(pattern):
            record = self._path_to_record(path)
            owner = owner_name(path)
            if owner != record["username"]:
                self.log.error("Refused %s: it claims to be %s's submission but was made by %s",
                               record["filename"], record["username"], owner)
                continue
            genuine.setdefault(record["username"], []).append(record)
        # nbgrader's rule, on the genuine folders only: each student's latest submission, or with
        # before_duedate the latest one made in time.
        self.src_records = []
        for records in genuine.values():
            records = self._sort_by_timestamp(records)
            if self.duedate is not None and self.before_duedate:
                in_time = [record for record in records if record["timestamp"] <= self.duedate]
                records = in_time or records
            self.src_records.append(records[0])
