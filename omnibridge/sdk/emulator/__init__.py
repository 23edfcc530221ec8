"""Building blocks for vendor emulators: local ASGI apps that behave like a vendor's API.

* :class:`RequestRecorder` appends every request to the file named by ``OMNIBRIDGE_RECORD_REQUESTS``.
* :class:`EmulatorKnobs` injects latency and server errors.
* :class:`WebhookSender` delivers signed webhooks with the vendor's retries, and duplicates, late deliveries and
  failing attempts on demand (:class:`WebhookKnobs`).
* :class:`EmulatorHook` is what a connector's spec declares so ``omnibridge emulator NAME`` can start it.
* :func:`run_server` / :func:`serve_forever` serve an app on a local port with uvicorn.
"""

from omnibridge.sdk.emulator.knobs import EmulatorKnobs
from omnibridge.sdk.emulator.recorder import RECORD_ENV, RequestRecorder, read_recorded
from omnibridge.sdk.emulator.server import RunningServer, free_port, run_server, serve_forever
from omnibridge.sdk.emulator.webhooks import DeliveryAttempt, DeliveryRecord, SignFn, WebhookKnobs, WebhookSender
from omnibridge.sdk.emulator_hook import EmulatorHook, EmulatorOptions, EmulatorServer, EmulatorSettingError

__all__ = [
    "RECORD_ENV",
    "DeliveryAttempt",
    "DeliveryRecord",
    "EmulatorHook",
    "EmulatorKnobs",
    "EmulatorOptions",
    "EmulatorServer",
    "EmulatorSettingError",
    "RequestRecorder",
    "RunningServer",
    "SignFn",
    "WebhookKnobs",
    "WebhookSender",
    "free_port",
    "read_recorded",
    "run_server",
    "serve_forever",
]
