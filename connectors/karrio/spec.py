"""Build the :class:`ConnectorSpec` of one karrio-driven carrier (cheap: imports no karrio code)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.karrio.gateway import karrio_available
from connectors.karrio.settings import KarrioCarrierSettings
from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec

if TYPE_CHECKING:
    from connectors.karrio.client import KarrioCarrierConnector

__all__ = ["carrier_spec"]
__version__ = "0.1.0"

_CAPABILITIES = frozenset({Capability.RATES, Capability.LABELS, Capability.TRACKING})


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
    )
