"""Events reach the handler as EventBridge delivers them, whatever the emulator left out."""

from __future__ import annotations

from simulator.delivery.reconcile import ENVELOPE_KEYS, reconcile_event

MOTO_DELIVERED = {
    "id": "d9612a34-ed52-4c8b-af64-956281b26325", "time": "2024-01-01T00:00:00Z", "version": "0",
    "detail-type": "GuardDuty Finding", "source": "aws.guardduty", "region": "us-east-1", "resources": [],
    "detail": {"id": "abc", "accountId": "123456789012"},
}


def test_the_missing_account_is_the_bus_owner_and_keys_come_in_aws_order() -> None:
    event = reconcile_event(MOTO_DELIVERED, account_id="123456789012")

    assert event["account"] == "123456789012"
    assert list(event) == list(ENVELOPE_KEYS)
    assert {k: v for k, v in event.items() if k != "account"} == MOTO_DELIVERED
    assert "account" not in MOTO_DELIVERED  # the input is left alone


def test_an_account_already_present_is_kept_and_unknown_keys_survive() -> None:
    delivered = {**MOTO_DELIVERED, "account": "111122223333", "replay-name": "r1"}

    event = reconcile_event(delivered, account_id="123456789012")

    assert event["account"] == "111122223333"
    assert list(event)[-1] == "replay-name"


def test_non_object_bodies_pass_through() -> None:
    assert reconcile_event("raw text", account_id="123456789012") == "raw text"
    assert reconcile_event([1, 2], account_id="123456789012") == [1, 2]
