"""``omnibridge emulator ups|fedex|usps|dhl_express``: a carrier emulator as ``config/connectors/<carrier>.yaml``
expects it (the profile's default credentials, account and ``server_url``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omnibridge.sdk.emulator import EmulatorOptions, EmulatorServer

if TYPE_CHECKING:
    from connectors.karrio.emulators.base import CarrierEmulator

__all__ = ["EMULATED_ACCOUNTS", "EmulatedAccount", "build"]


@dataclass(frozen=True)
class EmulatedAccount:
    """The account one carrier emulator serves. ``id_key``/``secret_key`` are the profile keys of the two
    credentials; ``extra`` the other settings to print (USPS's CRID and MID, which the emulator does not check)."""

    client_id: str
    client_secret: str
    account_number: str
    id_key: str = "client_id"
    secret_key: str = "client_secret"  # noqa: S105 - a settings key, not a credential
    extra: str = ""


EMULATED_ACCOUNTS: dict[str, EmulatedAccount] = {
    "ups": EmulatedAccount("emulator-client", "emulator-secret", "A1B2C3"),
    "fedex": EmulatedAccount("emulator-client", "emulator-secret", "740561073", "api_key", "secret_key"),
    "usps": EmulatedAccount(
        "emulator-client", "emulator-secret", "1000123456", extra=", crid: 56982563, mid: 902912345"
    ),
    "dhl_express": EmulatedAccount("emulator-client", "emulator-secret", "953123456", "username", "password"),
}


def build(carrier: str, options: EmulatorOptions) -> EmulatorServer:
    """One carrier account: OAuth (or Basic) credentials, rates, labels, tracking (no catalog to seed)."""
    from connectors.karrio.emulators.dhl_express import DhlExpressEmulator
    from connectors.karrio.emulators.fedex import FedexEmulator
    from connectors.karrio.emulators.ups import UpsEmulator
    from connectors.karrio.emulators.usps import UspsEmulator

    classes: dict[str, Callable[..., CarrierEmulator]] = {
        "ups": UpsEmulator,
        "fedex": FedexEmulator,
        "usps": UspsEmulator,
        "dhl_express": DhlExpressEmulator,
    }
    account = EMULATED_ACCOUNTS[carrier]
    emulator = classes[carrier](
        client_id=account.client_id, client_secret=account.client_secret, account_number=account.account_number
    )
    base = options.base_url
    return EmulatorServer(
        app=emulator.app,
        emulator=emulator,
        summary=[
            f"{carrier} emulator on {base}",
            f"  connector settings: server_url: {base}, {account.id_key}: {account.client_id}, {account.secret_key}: "
            f"{account.client_secret}, account_number: {account.account_number}{account.extra}",
            "  drive it: /_emulator/state, /_emulator/advance, /_emulator/fail-next, /_emulator/lose-next"
            " (docs/emulators.md)",
        ],
    )
