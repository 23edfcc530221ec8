"""Build the :class:`ConnectorSpec` of one karrio-driven carrier (cheap: imports no karrio code)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.karrio.gateway import karrio_available
from connectors.karrio.settings import KarrioCarrierSettings
from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec, EmulatorHook, EmulatorOptions, EmulatorServer

if TYPE_CHECKING:
    from connectors.karrio.client import KarrioCarrierConnector

__all__ = ["EMULATOR_PORTS", "carrier_spec", "emulator_hook"]
__version__ = "0.1.0"

_CAPABILITIES = frozenset({Capability.RATES, Capability.LABELS, Capability.TRACKING})
# The port each carrier's shipped profile (config/connectors/<carrier>.yaml) points its server_url at.
EMULATOR_PORTS: dict[str, int] = {"ups": 8807, "fedex": 8808, "usps": 8809, "dhl_express": 8810}


def emulator_hook(carrier: str, label: str) -> EmulatorHook:
    """``omnibridge emulator <carrier>``: the carrier's emulator, imported only when built."""

    def build(options: EmulatorOptions) -> EmulatorServer:
        from connectors.karrio.emulators.serve import build as build_carrier

        return build_carrier(carrier, options)

    return EmulatorHook(
        build=build,
        default_port=EMULATOR_PORTS[carrier],
        description=f"{label}: one account, rates, labels, tracking",
        settings={},
    )


def carrier_spec(
    carrier: str,
    label: str,
    settings_model: type[KarrioCarrierSettings],
    description: str,
    docs_url: str,
    *,
    karrio_name: str | None = None,
) -> ConnectorSpec:
    """The spec of ``carrier`` (karrio's package ``karrio.<karrio_name or carrier>``); raises ``ImportError``
    when that package is not installed, which the registry reports as a load failure of that connector."""
    package = karrio_name or carrier
    if not karrio_available(package):
        raise ImportError(
            f"karrio's {label} package is not installed: pip install -e '.[carriers]' in the omnibridge checkout"
            f" (or karrio.{package})"
        )

    def create_client(settings: KarrioCarrierSettings) -> KarrioCarrierConnector:
        from connectors.karrio.carriers import PROFILES
        from connectors.karrio.client import KarrioCarrierConnector

        return KarrioCarrierConnector(PROFILES[carrier], settings)

    return ConnectorSpec(
        id=carrier,
        label=label,
        kind=ConnectorKind.CARRIER,
        settings_model=settings_model,
        capabilities=_CAPABILITIES,
        factory=create_client,
        version=__version__,
        description=description,
        docs_url=docs_url,
        extra={"driver": "karrio"},
        emulator=emulator_hook(carrier, label),
    )
