"""The failover drill as CI runs it (deploy/ha/drill.py; `make ha-drill` prints the same figures).

One throwaway cluster: three etcd members and three Patroni-managed PostgreSQL 15 nodes on loopback
(synchronous_mode, synchronous_node_count 1), the app under gunicorn on the multi-host URL with the
Patroni leader check and a standby for reads, three threads creating orders (client_order_id +
Idempotency-Key, retried with the same key after a 503/504) and one reading a report. The cases run
one after the other on that cluster: fill the leader's disk (as root), kill only Patroni on the
leader, kill -9 PostgreSQL on the leader, kill the etcd Raft leader, lose the leader's server, and
the same without synchronous mode for comparison. About 3-4 minutes in all; CI runs it in its own
step (`-m ha`).
"""

from __future__ import annotations

import os

import pytest

from tests.deploy.ha_support import cluster, drill

pytestmark = [
    pytest.mark.ha,
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        bool(cluster.missing_tools()),
        reason=f"needs {', '.join(cluster.missing_tools())} (apt-get install -y patroni etcd-server postgresql-15)",
    ),
]

SYNCHRONOUS_CASES = ("kill-patroni", "kill-postgres", "kill-etcd", "server-loss")
AS_ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def summary() -> drill.DrillSummary:
    result = drill.run()
    print("\n" + result.report())
    return result


@pytest.mark.parametrize("name", SYNCHRONOUS_CASES)
def test_no_acknowledged_order_is_lost(summary, name):
    case = summary.case(name)
    assert case.acknowledged > 0, case.report()
    assert case.present == case.acknowledged, case.report()


@pytest.mark.parametrize("name", SYNCHRONOUS_CASES)
def test_writes_are_back_within_30_seconds_and_never_a_500(summary, name):
    case = summary.case(name)
    assert case.recovered_seconds is not None, case.report()
    assert case.recovered_seconds <= drill.RECOVERY_TARGET_SECONDS, case.report()
    assert case.other_5xx == 0, case.report()


@pytest.mark.parametrize("name", ("kill-patroni", "server-loss"))
def test_losing_the_leader_promotes_another_node_and_the_outage_was_seen(summary, name):
    case = summary.case(name)
    assert case.new_leader and case.new_leader not in case.fault, case.report()
    assert case.statuses[503] > 0, "the outage was never seen as 503: the fault did not bite"


def test_a_primary_whose_patroni_died_acknowledges_nothing_after_the_promotion(summary):
    case = summary.case("kill-patroni")
    assert case.demoted_acknowledged == 0, case.report()
    # The old PostgreSQL really ran on: the fence, not a dead server, kept the writes away.
    assert "still running read-write until the repair: True" in case.report()


def test_reports_keep_answering_from_a_replica_while_the_primary_is_down(summary):
    for name in ("kill-patroni", "server-loss"):
        case = summary.case(name)
        answered = sum(n for (status, _), n in case.reads.items() if status == 200)
        assert answered > 0, case.report()
        assert (200, "replica") in case.reads, case.report()
        assert not any(status and status >= 500 and status != 503 for status, _ in case.reads), case.report()
        assert case.report_gap_seconds is not None and case.report_gap_seconds < 5, case.report()


def test_losing_one_etcd_member_does_not_stop_writes(summary):
    case = summary.case("kill-etcd")
    assert case.recovered_seconds is not None and case.outage_seconds < 5, case.report()


def test_asynchronous_mode_for_comparison_loses_what_the_standby_never_got(summary):
    case = summary.case("async-server-loss")
    assert case.other_5xx == 0, case.report()
    assert case.present < case.acknowledged, case.report()


def test_every_check_passes(summary):
    assert all(check.ok for check in summary.checks), summary.report()


@pytest.mark.skipif(not AS_ROOT, reason="the disk-full case needs root (a tmpfs in a private mount namespace)")
def test_a_full_disk_refuses_writes_with_503_and_they_resume_once_it_is_freed(summary):
    case = summary.case("disk-full")
    assert case.present == case.acknowledged, case.report()
    assert case.other_5xx == 0, case.report()
    assert case.statuses[503] > 0, "the full disk never refused a write: the fault did not bite"
    assert "unchanged: no failover" in case.new_leader, case.report()
    assert case.recovered_seconds is not None and case.recovered_seconds <= drill.RECOVERY_TARGET_SECONDS
