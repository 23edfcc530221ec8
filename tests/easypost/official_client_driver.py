"""Driver for tests/easypost/test_official_client.py: EasyPost's ``easypost`` library, run in a child process.

Usage: ``python -P official_client_driver.py SCENARIO JSON_ARGS``; prints one JSON document.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import easypost


def ship(client: easypost.EasyPostClient, args: dict[str, Any]) -> Any:
    shipment = client.shipment.create(
        from_address=args["from_address"],
        to_address=args["to_address"],
        parcel=args["parcel"],
    )
    rate = shipment.lowest_rate()
    bought = client.shipment.buy(shipment.id, rate=rate)
    again = client.shipment.retrieve(shipment.id)
    tracker = client.tracker.retrieve(bought.tracker.id)
    listed = client.shipment.all(page_size=5)
    return {
        "parcel": {k: bought.parcel[k] for k in ("length", "width", "height", "weight")},
        "carrier": rate.carrier,
        "tracking_code": again.tracking_code,
        "label_url": again.postage_label.label_url,
        "tracker_status": tracker.status,
        "listed": [s.id for s in listed["shipments"]],
        "id": shipment.id,
    }


def refused(client: easypost.EasyPostClient, args: dict[str, Any]) -> Any:
    try:
        client.shipment.create(**args["shipment"])
    except easypost.errors.ApiError as error:
        return {"status": error.http_status, "code": error.code}
    return {"status": 201}


SCENARIOS = {f.__name__: f for f in (ship, refused)}

if __name__ == "__main__":
    scenario, raw = sys.argv[1], json.loads(sys.argv[2])
    client = easypost.EasyPostClient(raw.pop("api_key"), api_base=raw.pop("api_base"))
    print(json.dumps(SCENARIOS[scenario](client, raw)))
