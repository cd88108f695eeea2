"""The failover drill as CI runs it (deploy/ha/drill.py; `make ha-drill` prints the same figures).

etcd + two Patroni-managed PostgreSQL 15 nodes on loopback, the app under gunicorn on the
multi-host URL, three threads creating orders (client_order_id + Idempotency-Key, retried with the
same key after a 503); the standby stops receiving WAL for 2 s, then the leader's server is
SIGKILLed. Everything runs once per mode; ~1 minute each.
"""

from __future__ import annotations

import pytest

from tests.deploy.ha_support import cluster, drill

pytestmark = pytest.mark.skipif(
    bool(cluster.missing_tools()),
    reason=f"needs {', '.join(cluster.missing_tools())} (apt-get install -y patroni etcd-server postgresql-15)",
)


@pytest.fixture(scope="module")
def results() -> dict[bool, drill.DrillResult]:
    return {sync: drill.run(sync, warmup=4.0, stall=2.0, settle=3.0) for sync in (True, False)}


def test_synchronous_mode_loses_no_acknowledged_order(results):
    result = results[True]
    print("\n" + result.report())
    assert result.acknowledged > 0
    assert result.present == result.acknowledged, result.report()
    assert result.half_written == 0, result.report()
    assert result.statuses[503] > 0, "the outage was never seen as 503: the kill did not bite"
    assert result.other_5xx == 0, result.report()
    assert result.new_leader and result.new_leader != result.killed


def test_writes_are_back_within_30_seconds_without_restarting_gunicorn(results):
    for result in results.values():
        assert result.recovered_seconds is not None, result.report()
        assert result.recovered_seconds <= drill.RECOVERY_TARGET_SECONDS, result.report()


def test_asynchronous_mode_for_comparison_loses_what_the_standby_never_got(results):
    result = results[False]
    print("\n" + result.report())
    assert result.other_5xx == 0, result.report()
    assert result.half_written == 0, result.report()  # lost whole, never torn
    # What synchronous mode protects against: commits acknowledged while the standby lagged.
    assert result.present < result.acknowledged, result.report()
