"""Event objects: named after what they say, so a repeat is one Event with a count."""

from __future__ import annotations

from ingest_operator.events import MAX_MESSAGE_LENGTH, event_name, render_event

SHOP = {
    "apiVersion": "ingest.example.com/v1alpha1",
    "kind": "IngestService",
    "metadata": {"name": "shop", "namespace": "team-a", "uid": "5f0c1a2b"},
}


def test_the_same_event_has_the_same_name_and_a_different_one_another() -> None:
    first = event_name(SHOP, type="Warning", reason="SecretMissing", message="Secret 'db'")
    again = event_name(SHOP, type="Warning", reason="SecretMissing", message="Secret 'db'")
    other = event_name(SHOP, type="Warning", reason="SecretMissing", message="Secret 'redis'")

    assert first == again != other
    assert first.startswith("shop.")


def test_an_event_points_at_its_object_and_says_who_reported_it() -> None:
    event = render_event(
        SHOP,
        type="Normal",
        reason="Available",
        message="x" * 5000,
        now="2026-11-28T10:00:00Z",
        reporting_instance="ingest-operator-7d9f",
    )

    assert event["involvedObject"] == {
        "apiVersion": "ingest.example.com/v1alpha1",
        "kind": "IngestService",
        "name": "shop",
        "namespace": "team-a",
        "uid": "5f0c1a2b",
    }
    assert event["metadata"]["namespace"] == "team-a"
    assert len(event["message"]) == MAX_MESSAGE_LENGTH
    assert (event["count"], event["firstTimestamp"]) == (1, "2026-11-28T10:00:00Z")
    assert event["reportingComponent"] == "ingest.example.com/ingest-operator"
    assert event["reportingInstance"] == "ingest-operator-7d9f"
