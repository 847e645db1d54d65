"""The operator's settings from its environment: defaults, parsing, refusals naming the variable."""

from __future__ import annotations

import pytest

from ingest_operator.config import ConfigError, load_config


def test_an_empty_environment_gives_a_cluster_wide_operator_with_the_defaults() -> None:
    config = load_config({"POD_NAME": "ingest-operator-7d9f"})

    assert config.clusterwide
    assert config.watch_namespaces == ()
    assert (config.metrics_port, config.liveness_port) == (8080, 8081)
    assert config.log_level == "info"
    assert config.resync_seconds == 300
    assert config.instance == "ingest-operator-7d9f"


def test_watch_namespaces_is_a_comma_separated_list_without_blanks_or_repeats() -> None:
    config = load_config({"WATCH_NAMESPACES": " team-a, team-b,,team-a "})

    assert config.watch_namespaces == ("team-a", "team-b")
    assert not config.clusterwide


def test_a_port_of_zero_turns_an_endpoint_off() -> None:
    config = load_config({"METRICS_PORT": "0", "LIVENESS_PORT": "9000", "RESYNC_SECONDS": "0"})

    assert (config.metrics_port, config.liveness_port, config.resync_seconds) == (0, 9000, 0)


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("WATCH_NAMESPACES", "team-a,Team_B", "'Team_B' is not a valid namespace name"),
        ("METRICS_PORT", "eighty", "must be a port from 0 (off) to 65535"),
        ("LIVENESS_PORT", "70000", "must be a port from 0 (off) to 65535"),
        ("LOG_LEVEL", "verbose", "must be one of debug, info, warning, error"),
        ("RESYNC_SECONDS", "-5", "must be a whole number of seconds"),
    ],
)
def test_a_bad_value_is_refused_with_the_variable_name(
    variable: str, value: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config({variable: value})

    assert refused.value.variable == variable
    assert str(refused.value).startswith(f"{variable}: ")
    assert problem in str(refused.value)


ELECTION = {"LEADER_ELECTION": "true", "POD_NAMESPACE": "ingest-system"}


def test_without_leader_election_the_process_reconciles_alone() -> None:
    assert load_config({}).leader_election is None
    assert load_config({"LEADER_ELECTION": "false"}).leader_election is None


def test_leader_election_defaults_to_controller_runtimes_timings_in_the_pods_namespace() -> None:
    election = load_config(ELECTION).leader_election

    assert election is not None
    assert (election.namespace, election.lease_name) == ("ingest-system", "ingest-operator")
    assert (
        election.lease_duration_seconds,
        election.renew_deadline_seconds,
        election.retry_period_seconds,
    ) == (15, 10, 2)


@pytest.mark.parametrize(
    ("settings", "variable", "problem"),
    [
        ({"LEADER_ELECTION": "yes"}, "LEADER_ELECTION", "must be true or false"),
        ({"POD_NAMESPACE": ""}, "POD_NAMESPACE", "must name the operator's namespace"),
        ({"LEADER_ELECTION_ID": "Ingest_Lease"}, "LEADER_ELECTION_ID", "not a valid Lease name"),
        ({"LEASE_DURATION_SECONDS": "0"}, "LEASE_DURATION_SECONDS", "at least 1 second"),
        (
            {"LEASE_DURATION_SECONDS": "10", "RENEW_DEADLINE_SECONDS": "10"},
            "RENEW_DEADLINE_SECONDS",
            "must be less than LEASE_DURATION_SECONDS",
        ),
        (
            {"RENEW_DEADLINE_SECONDS": "6", "RETRY_PERIOD_SECONDS": "5"},
            "RETRY_PERIOD_SECONDS",
            "must be less than RENEW_DEADLINE_SECONDS",
        ),
    ],
)
def test_lease_settings_the_elector_cannot_run_with_are_refused(
    settings: dict[str, str], variable: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config({**ELECTION, **settings})

    assert refused.value.variable == variable
    assert problem in str(refused.value)
