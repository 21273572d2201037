"""`--scheduler`: a cluster that cannot grade is refused before anything is graded, saying what to
start (grading on a Dask cluster itself: tests/test_parallel_grading.py)."""
import pytest

from autograder.cli import main
from autograder.grading import SchedulerUnavailable, connect

distributed = pytest.importorskip("distributed")


def test_no_scheduler_at_the_address_says_what_to_start():
    with pytest.raises(SchedulerUnavailable, match="could not reach a Dask scheduler at "
                       "tcp://127.0.0.1:9 .*start one with `dask scheduler`, then `dask worker"):
        connect("tcp://127.0.0.1:9", seconds=1)


def test_a_scheduler_without_workers_is_refused():
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        with pytest.raises(SchedulerUnavailable, match="has no worker .*start them with `dask "
                           f"worker {cluster.scheduler_address} --nthreads 1`"):
            connect(cluster.scheduler_address, seconds=1)


def test_grade_and_regrade_take_a_scheduler(capsys):
    for command in ("grade", "regrade"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--scheduler ADDRESS" in capsys.readouterr().out
