"""The conformance kit itself: a sound toy connector passes the checks, and each deliberate flaw fails its check."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, SecretStr

from omnibridge.sdk.metadata import Capability
from omnibridge.testing import ConformanceHarness, WebhookVector, conformance_suite
from omnibridge.testing.checks_common import ConformanceFailure, NotApplicable
from omnibridge.testing.checks_payloads import forgeries
from omnibridge.testing.checks_spec import credential_field_problems
from omnibridge.testing.suite import CHECKS, run_check

from .toy import ALL_CAPABILITIES, PlainSecretSettings, ToySettings, harness

BY_NAME = {check.name: check for check in CHECKS}


def failure(name: str, harness_cls: type[ConformanceHarness]) -> ConformanceFailure:
    with pytest.raises(ConformanceFailure) as caught:
        run_check(BY_NAME[name], harness_cls, timeout=20)
    assert caught.value.check == name
    return caught.value


def passes(name: str, harness_cls: type[ConformanceHarness]) -> None:
    run_check(BY_NAME[name], harness_cls, timeout=20)


SOUND_CHECKS = sorted(set(BY_NAME) - {"spec_entry_point"})


NOT_DECLARED = {
    "listings_write",
    "prices_write",
    "carrier_rates",
    "carrier_labels",
    "carrier_tracking",
    "files",
    "fulfilment_provider",
}


@pytest.mark.parametrize("name", sorted(set(SOUND_CHECKS) - NOT_DECLARED))
def test_a_sound_connector_passes_every_check(name: str) -> None:
    passes(name, harness())


@pytest.mark.parametrize("name", sorted(NOT_DECLARED))
def test_checks_of_undeclared_capabilities_skip(name: str) -> None:
    with pytest.raises(NotApplicable, match="not declared"):
        passes(name, harness())


def test_an_unregistered_connector_fails_the_entry_point_check() -> None:
    found = failure("spec_entry_point", harness())
    assert "'toy'" in str(found)
    assert "omnibridge.connectors" in str(found)


def test_a_plain_str_credential_fails() -> None:
    found = failure("spec_credentials_secret", harness(settings_model=PlainSecretSettings))
    assert "api_token" in found.seen
    assert credential_field_problems(ToySettings) == []


def test_optional_and_container_secrets_are_accepted() -> None:
    class Settings(BaseModel):
        api_key: SecretStr | None = None
        refresh_tokens: list[SecretStr] = []
        password_hint: str = ""

    assert credential_field_problems(Settings) == ["password_hint: str"]


def test_declaring_a_capability_without_its_protocol_fails() -> None:
    found = failure("orders_cancel", harness("no_cancel"))
    assert found.capability == "orders.cancel"
    assert "OrderCanceller" in found.expected


def test_implementing_a_protocol_without_declaring_it_fails() -> None:
    found = failure("undeclared_not_claimed", harness(capabilities=ALL_CAPABILITIES - {Capability.ORDERS_CANCEL}))
    assert "orders.cancel is not declared" in found.seen


def test_accepting_a_webhook_without_declaring_webhooks_fails() -> None:
    found = failure(
        "undeclared_not_claimed", harness("accept_all", capabilities=ALL_CAPABILITIES - {Capability.WEBHOOKS})
    )
    assert "accepted an unsigned delivery" in found.seen


def test_an_undeclared_capability_is_skipped_as_not_declared() -> None:
    with pytest.raises(NotApplicable, match=r"orders\.read not declared"):
        run_check(BY_NAME["orders_read"], harness(capabilities=ALL_CAPABILITIES - {Capability.ORDERS_READ}))


def test_accepting_a_forged_webhook_fails() -> None:
    found = failure("webhook_forgeries", harness("forgery"))
    assert "one body byte flipped" in found.expected
    assert "accepted" in found.seen


def test_the_kit_forges_a_flipped_byte_a_dropped_and_an_altered_signature() -> None:
    vector = WebhookVector("v", b"abc", {"Sig": "AAAA", "Other": "x"}, signature_headers=("sig",))
    forged = {what: (body, headers) for what, body, headers in forgeries(vector)}
    assert forged["one body byte flipped"] == (b"acc", {"Sig": "AAAA", "Other": "x"})
    assert forged["sig removed"] == (b"abc", {"Other": "x"})
    assert forged["sig altered"] == (b"abc", {"Other": "x", "sig": "AABA"})


def test_exceeding_the_rate_limit_fails() -> None:
    found = failure("rate_limit_respected", harness("no_rate_limit"))
    assert found.capability == "inventory.read"
    assert "refused" in found.seen


def test_double_applying_a_retried_write_fails() -> None:
    found = failure("idempotent_retry", harness("double_apply", capabilities=ALL_CAPABILITIES - {
        Capability.INVENTORY_COMPARE_AND_SET
    }))  # fmt: skip
    assert "shows 11, not the target 8" in found.seen


def test_a_harness_that_does_not_lose_the_response_fails_instead_of_passing_vacuously() -> None:
    found = failure("idempotent_retry", harness("control_ignores_lose"))
    assert "did the harness inject the failure?" in found.seen


def test_a_blind_overwrite_fails_compare_and_set() -> None:
    found = failure("inventory_compare_and_set", harness("blind_overwrite"))
    assert "STALE" in found.expected


def test_a_401_reported_as_retriable_fails() -> None:
    found = failure("error_auth_is_fatal", harness("auth_retriable"))
    assert "FatalConnectorError" in found.expected
    assert "RetriableConnectorError" in found.seen


def test_an_unclassified_exception_fails() -> None:
    found = failure("error_bad_request_classified", harness("unclassified_400"))
    assert "unclassified exception ValueError" in found.seen


def test_a_wrong_mapper_fixture_fails() -> None:
    found = failure("mapper_fixtures", harness(mapper_expected=4))
    assert "'quantity'" in found.expected
    assert found.seen == "3"


def test_conformance_suite_builds_a_test_class_with_one_test_per_check() -> None:
    cls = conformance_suite(harness(), known_failures={"rate_limit_respected": "tracked"})
    names = [name for name in vars(cls) if name.startswith("test_")]
    assert names == [f"test_{check.name}" for check in CHECKS]
    marks = getattr(vars(cls)["test_rate_limit_respected"], "pytestmark", [])
    assert [mark.name for mark in marks] == ["xfail"]
    with pytest.raises(ValueError, match="names no check"):
        conformance_suite(harness(), known_failures={"no_such_check": "x"})
    with pytest.raises(TypeError, match="ConformanceHarness subclass"):
        conformance_suite(object)  # type: ignore[arg-type]
