"""The names the shipped expressions use are read right, or the check of the
rules and the dashboard against a real Prometheus would miss a wrong one."""

from __future__ import annotations

from tests.support.promql import names_in


def test_selectors_matchers_and_groupings() -> None:
    names = names_in(
        'sum by (namespace, ingestservice) (rate(http_requests_total{status=~"5..", a!="x,y"}[5m]))'
        " / on (namespace) group_left(pod) max without (le) (up offset 5m) > 0.05"
    )
    assert names.metrics == {"http_requests_total", "up"}
    assert names.labels == {"namespace", "ingestservice", "status", "a", "pod", "le"}


def test_functions_keywords_numbers_and_strings_are_not_metrics() -> None:
    names = names_in(
        'histogram_quantile(0.99, sum by (le) (rate(x_bucket{route="/v1/{job_id}"}[1m]))) > 2'
        " unless on (name) y == bool 1e3 and z or absent(w)"
    )
    assert names.metrics == {"x_bucket", "y", "z", "w"}
    assert names.labels == {"le", "route", "name"}
