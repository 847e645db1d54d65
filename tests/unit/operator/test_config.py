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
