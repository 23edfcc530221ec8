"""The ``scale`` benchmark runs (quick size, the baseline and one replica) and its figures are consistent; never
timed. The command line refuses replica counts it cannot use."""

from __future__ import annotations

import pytest
from support import postgres_base_url

from bench import scale
from bench.__main__ import main


@pytest.mark.slow
@pytest.mark.postgres
def test_the_baseline_and_each_replica_count_get_a_row_and_every_sale_is_applied() -> None:
    postgres_base_url()  # skips without PostgreSQL
    result = scale.run(quick=True, replicas=(1,))
    baseline, replica = result["rows"]
    assert baseline["replicas"] == "1 (no --replica)"
    assert replica["replicas"] == 1
    for row in result["rows"]:
        assert row["sales"] == 60
        assert row["applied"] >= row["sales"]  # a notification per sale at least, each applied
        assert 0 < row["apply p50 ms"] <= row["apply p99 ms"]
        assert row["applied/s"] > 0
        assert row["cpu cores (daemons)"] > 0


@pytest.mark.parametrize("value", ["a,b", "0,1"])
def test_bad_replica_counts_are_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["scale", "--replicas", value])
    assert exited.value.code == 2
    assert "--replicas" in capsys.readouterr().err


def test_replica_counts_apply_to_the_scale_benchmark_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["ledger", "--replicas", "2"])
    assert "scale benchmark only" in capsys.readouterr().err
