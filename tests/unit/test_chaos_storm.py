"""Storm mode's pure parts: fanning a scenario out, percentiles, backlog, options."""

from __future__ import annotations

import pytest

from simulator.errors import InputError, UsageError
from simulator.scenario import load_scenario
from simulator.storm import StormOptions, backlog, fan_out, percentile


def test_fan_out_copies_the_findings_resource_and_keeps_the_original() -> None:
    scenario = load_scenario("crypto")
    fanned, names = fan_out(scenario, 12)
    assert names[0] == "miner" and names[1:3] == ["miner-01", "miner-02"] and len(set(names)) == 12
    instances = {instance.name: instance for instance in fanned.environment.instances}
    assert set(names) <= set(instances) and "neighbour" in instances
    assert all(instances[name].volumes == instances["miner"].volumes for name in names)
    assert all(not instances[name].bystander for name in names)
    assert fanned.steps == scenario.steps and len(scenario.environment.instances) == 2


def test_fan_out_refuses_what_it_cannot_copy() -> None:
    scenario = load_scenario("crypto")
    bucket_bound = scenario.model_copy(update={"findings": [scenario.findings[0].model_copy(
        update={"resource": "app-assets"})]})
    with pytest.raises(InputError, match="instances or users"):
        fan_out(bucket_bound, 3)


def test_percentiles_interpolate_between_ranks() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_backlog_counts_events_waiting_for_the_responder() -> None:
    published = [0.0, 0.1, 0.2, 0.3]
    started = [0.05, 0.5, 0.9, 1.2]
    assert backlog(published, started, until=0.3) == (3, 3)
    assert backlog(published, [0.01, 0.11, 0.21, 0.31], until=0.3) == (1, 1)


def test_storm_options_are_checked() -> None:
    assert StormOptions(rate=10, duration=2).count == 20
    assert StormOptions(rate=0.4, duration=1).count == 1
    for bad in (StormOptions(rate=0, duration=1), StormOptions(rate=1, duration=-1),
                StormOptions(rate=1, duration=1, resources=0), StormOptions(rate=1000, duration=1000)):
        with pytest.raises(UsageError):
            bad.check()


def test_a_fleet_larger_than_the_subnet_is_refused_before_anything_starts() -> None:
    from simulator.storm import subnet_room

    scenario = load_scenario("crypto")
    _, miner = scenario.environment.get("miner")
    assert subnet_room(scenario, miner) == 256 - 5 - 2  # a /24, less AWS's five, less miner and neighbour
    fan_out(scenario, 250)
    with pytest.raises(UsageError, match="subnet 'app-a' of 'miner' has addresses for 250 copies"):
        fan_out(scenario, 251)
