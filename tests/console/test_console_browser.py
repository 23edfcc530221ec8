"""The console in a real browser against ``omnibridge run`` on the Shopify and Square emulators: sign in with an
API token, read the overview, a channel's timeline, a SKU's page and the reports, act on the action queue
(resolve an incident, replay and discard dead letters), and sign out; a viewer sees but cannot act. Each screen
is saved as a screenshot (see conftest.py)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sync.fake_channel import FakeChannel, runtime

from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from omnibridge.access import Actor, Role, audit, tokens
from omnibridge.config import load_profile
from omnibridge.demo import world
from omnibridge.pickup import records
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.sdk.emulator import free_port, run_server
from omnibridge.sdk.pickup import PickupState
from omnibridge.sdk.returns import ReturnEvent, ReturnLineEvent, ReturnState
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import InboxStatus, Incident, Store, open_store
from omnibridge.store.tables import PickupRow
from omnibridge.sync import EventApplier

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.browser]
GUARD_S = 60.0
"""Only a guard against hangs; nothing asserts on time."""
SKU = "TENT-4P-BLU"
PICKUP = "web:pickup-demo#1"
RETURN = "kiosk:return:R-1"


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    try:
        async with asyncio.timeout(GUARD_S):
            while not await check():
                await asyncio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"gave up waiting for {what}")


def _dead(store: Store, name: str) -> int:
    delivery = WebhookDelivery(name, name, "orders/create", json.dumps({"id": name}).encode(), {}, datetime.now(UTC))
    entry_id = store.add_delivery("web", delivery)
    assert entry_id is not None
    store.finish_delivery(entry_id, InboxStatus.DEAD, f"{name}: unknown SKU")
    return int(entry_id)


def _pickup(store: Store) -> None:
    """A pickup held at Boulder whose hold ends within the hour (the queue flags it)."""
    now = datetime.now(UTC)
    with store.unit_of_work() as uow:
        records.insert(
            uow.session,
            PickupRow(
                id=PICKUP, order_id="web:pickup-demo", channel="web", location_id="boulder",
                window_start=now - timedelta(minutes=30), window_end=now + timedelta(minutes=15),
                status=PickupState.RESERVED.value, expires_at=now + timedelta(minutes=45),
                lines=[{"line_id": "web:order:pickup-demo:1", "line_ref": "1", "sku": SKU, "quantity": 1}],
                version=1, created_at=now, updated_at=now,
            ),
        )  # fmt: skip


def _return(store: Store) -> None:
    """An order shipped from Boulder and its return, open, as a channel outside the profile reported them (no
    vendor is told when it is received)."""
    now = datetime.now(UTC)
    channel = runtime("kiosk", FakeChannel(["B"]), {"B": "boulder"})
    channel.location_ids.update({"B": "boulder"})
    applier = EventApplier(store, channel)
    line = OrderLineEvent("1", SKU, 1, "B")
    for kind in (OrderEventKind.PLACED, OrderEventKind.COMPLETED):
        applier.apply_all([OrderEvent("rt-1", kind, now, (line,))])
    applier.apply_all([ReturnEvent("R-1", "rt-1", ReturnState.OPEN, now, (ReturnLineEvent("RL-1", "1", SKU, 1),))])


def operator_clicks_through(
    driver: Any, base: str, token: str, shots: Path, replay: int, discard: int
) -> dict[str, str]:
    """Everything an operator does, in the browser (replaying dead letter ``replay``, discarding ``discard``);
    returns what the pages said."""
    from selenium.webdriver.common.by import By

    seen: dict[str, str] = {}
    driver.get(f"{base}/console/")
    assert "/console/login" in driver.current_url
    driver.find_element(By.NAME, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    channels = driver.find_element(By.ID, "channels").text
    seen["overview"] = channels + "\n" + driver.find_element(By.ID, "waiting").text
    seen["api_calls"] = driver.find_element(By.ID, "api-calls").text
    driver.save_screenshot(str(shots / "1-overview.png"))

    driver.find_element(By.LINK_TEXT, "web").click()
    seen["timeline"] = driver.find_element(By.ID, "timeline").text
    seen["api_log"] = driver.find_element(By.ID, "api-log").text
    driver.save_screenshot(str(shots / "2-channel-timeline.png"))

    box = driver.find_element(By.NAME, "sku")
    box.send_keys(SKU)
    box.submit()
    seen["sku"] = driver.find_element(By.ID, "positions").text + "\n" + driver.find_element(By.ID, "explain").text
    driver.save_screenshot(str(shots / "3-sku-page.png"))

    driver.find_element(By.LINK_TEXT, "Action queue").click()
    driver.find_element(By.ID, "filters")  # waits for the queue (clicks return before the next page loads)
    seen["queue"] = driver.find_element(By.TAG_NAME, "main").text
    driver.save_screenshot(str(shots / "4-action-queue.png"))
    incidents = driver.find_element(By.ID, "source-incidents")
    incidents.find_element(By.NAME, "id").click()
    incidents.find_element(By.NAME, "reason").send_keys("recounted the shelf")
    incidents.find_element(By.CSS_SELECTOR, "button[value=resolve]").click()
    seen["resolved"] = driver.find_element(By.CLASS_NAME, "notice").text

    driver.find_element(By.LINK_TEXT, "Back to the action queue").click()
    letters = driver.find_element(By.ID, "source-deadletters")
    letters.find_element(By.CSS_SELECTOR, f"input[name=id][value='{replay}']").click()
    letters.find_element(By.CSS_SELECTOR, "button[value=replay]").click()
    seen["replayed"] = driver.find_element(By.CLASS_NAME, "notice").text

    driver.find_element(By.LINK_TEXT, "Back to the action queue").click()
    letters = driver.find_element(By.ID, "source-deadletters")
    letters.find_element(By.CSS_SELECTOR, f"input[name=id][value='{discard}']").click()
    letters.find_element(By.NAME, "reason").send_keys("a test order")
    letters.find_element(By.CSS_SELECTOR, "button[value=discard]").click()
    seen["discarded"] = driver.find_element(By.CLASS_NAME, "notice").text
    driver.save_screenshot(str(shots / "5-action-done.png"))

    driver.find_element(By.LINK_TEXT, "Back to the action queue").click()
    pickups = driver.find_element(By.ID, "source-pickups")
    seen["pickups"] = pickups.text
    driver.save_screenshot(str(shots / "6-pickups-in-queue.png"))
    pickups.find_element(By.CSS_SELECTOR, f"input[name=id][value='{PICKUP}']").click()
    pickups.find_element(By.CSS_SELECTOR, "button[value=ready]").click()
    seen["pickup_ready"] = driver.find_element(By.CLASS_NAME, "notice").text

    driver.find_element(By.LINK_TEXT, "Back to the action queue").click()
    returns = driver.find_element(By.ID, "source-returns")
    seen["returns"] = returns.text
    returns.find_element(By.CSS_SELECTOR, f"input[name=id][value='{RETURN}']").click()
    returns.find_element(By.NAME, "reason").send_keys("restock 1 at boulder")
    returns.find_element(By.CSS_SELECTOR, "button[value=receive]").click()
    seen["return_received"] = driver.find_element(By.CLASS_NAME, "notice").text
    driver.save_screenshot(str(shots / "7-return-received.png"))

    driver.find_element(By.LINK_TEXT, "Reports").click()
    driver.find_element(By.ID, "reports")
    seen["reports"] = driver.find_element(By.TAG_NAME, "main").text
    driver.find_element(By.XPATH, "//button[text()='Sign out']").click()
    driver.find_element(By.NAME, "token")  # the sign-in form
    assert "/console/login" in driver.current_url
    driver.get(f"{base}/console/actions")
    assert "/console/login" in driver.current_url
    return seen


def viewer_looks(driver: Any, base: str, token: str) -> str:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/console/login")
    driver.find_element(By.NAME, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    driver.find_element(By.ID, "channels")  # signed in: the overview is shown
    driver.get(f"{base}/console/actions")
    text: str = driver.find_element(By.TAG_NAME, "main").text
    assert driver.find_elements(By.CSS_SELECTOR, "button[value=replay]") == []
    return text


async def test_an_operator_clicks_through_every_screen_and_action(
    tmp_path: Path, browser: Any, screenshots: Path
) -> None:
    daemon_port, shopify_port, square_port = free_port(), free_port(), free_port()
    daemon_url = f"http://127.0.0.1:{daemon_port}"
    shopify = ShopifyEmulator(
        ShopifyEmulatorConfig(
            access_token=world.SHOPIFY_TOKEN, api_secret=world.SHOPIFY_SECRET, webhook_url=f"{daemon_url}/webhooks/web"
        )
    )
    square = SquareEmulator(
        SquareEmulatorConfig(
            access_token=world.SQUARE_TOKEN,
            signature_key=world.SQUARE_SIGNATURE_KEY,
            notification_url=f"{daemon_url}/webhooks/pos",
        )
    )
    world.seed_shopify(shopify)
    world.seed_square(square, drifted_every=0)
    profile = world.write_profile(
        tmp_path,
        shopify_url=f"http://127.0.0.1:{shopify_port}",
        square_url=f"http://127.0.0.1:{square_port}",
        receiver_url=daemon_url,
        settings=world.DemoSettings(),
    )
    store_url = load_profile(profile).store_url
    someone = Actor("user", "alice")
    with open_store(store_url) as store:
        world.seed_ledger(store)
        operator = tokens.create(store, Role.OPERATOR, "Olga at the warehouse", someone)[1]
        viewer = tokens.create(store, Role.VIEWER, "Vic from finance", someone)[1]
        store.add_incident(Incident("drift", "alert", f"web shows 9 of {SKU} at boulder", "d-1", "web", SKU, "boulder"))
        store.add_incident(Incident("drift", "alert", f"pos shows 2 of {SKU} at boulder", "d-2", "pos", SKU, "boulder"))
        replayed, discarded = _dead(store, "d-1"), _dead(store, "d-2")
        _pickup(store)
        _return(store)

    log_path = tmp_path / "daemon.log"
    async with run_server(shopify.app, port=shopify_port), run_server(square.app, port=square_port):
        with log_path.open("wb") as log_file:
            daemon = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "omnibridge", "run", "--profile", str(profile), "--port", str(daemon_port),
                "--poll-seconds", "3600", "--readback-minutes", "60", "--log-format", "json",
                stdout=log_file, stderr=log_file, cwd=tmp_path,
            )  # fmt: skip
            try:
                async with httpx.AsyncClient(base_url=daemon_url, timeout=5.0) as client:

                    async def ready() -> bool:
                        if daemon.returncode is not None:
                            pytest.fail(f"the daemon exited with {daemon.returncode}: {log_path.read_text()}")
                        try:
                            return (await client.get("/readyz")).status_code == 200
                        except httpx.TransportError:
                            return False

                    await until(ready, "/readyz")
                    seen = await asyncio.to_thread(
                        operator_clicks_through, browser, daemon_url, operator, screenshots, replayed, discarded
                    )
                    as_viewer = await asyncio.to_thread(viewer_looks, browser, daemon_url, viewer)
            finally:
                if daemon.returncode is None:
                    daemon.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(daemon.wait(), GUARD_S)
        await shopify.webhooks.aclose()
        await square.webhooks.aclose()

    assert code == 0, log_path.read_text()
    assert "web" in seen["overview"]
    assert "pos" in seen["overview"]
    assert "Open incidents 2" in seen["overview"]
    assert "Dead letters 2" in seen["overview"]
    assert "web" in seen["api_calls"]
    assert "pos" in seen["api_calls"]
    assert "POST http://127.0.0.1" in seen["api_log"]
    assert "boulder" in seen["sku"]
    assert "RULE" in seen["sku"].upper()
    assert f"web shows 9 of {SKU} at boulder" in seen["queue"]
    assert seen["resolved"] == "Resolve: 1 done"
    assert seen["replayed"] == "Replay: 1 done"
    assert seen["discarded"] == "Discard: 1 done"
    assert "Reports" in seen["reports"]
    assert "Signed in as a viewer: an operator token can act on these." in as_viewer
    assert f"{PICKUP} at boulder" in seen["pickups"]
    assert "EXPIRES WITHIN THE HOUR" in seen["pickups"]
    assert seen["pickup_ready"] == "Ready: 1 done"
    assert f"{RETURN} (kiosk:rt-1)" in seen["returns"]
    assert seen["return_received"].endswith(": 1 done")
    assert "Returns awaiting disposition 1" in seen["overview"]
    assert "Pickups waiting at stores 1" in seen["overview"]
    for name in (
        "1-overview", "2-channel-timeline", "3-sku-page", "4-action-queue", "5-action-done", "6-pickups-in-queue",
        "7-return-received",
    ):  # fmt: skip
        assert (screenshots / f"{name}.png").stat().st_size > 0
    with open_store(store_url) as store:
        actions = {(record.action, record.subject) for record in audit.records(store)}
        left = store.incidents(resolved=False)
        assert [incident.channel for incident in left if incident.kind == "drift"] == ["pos"]
        # the kiosk is no channel of the profile: telling it the return closed is refused, with an incident
        assert [incident.channel for incident in left if incident.kind == "fulfilment"] == ["kiosk"]
        assert {entry.id for entry in store.inbox(status=InboxStatus.DISCARDED)} == {discarded}
    assert ("deadletter.discard", f"inbox:{discarded}") in actions
    assert ("pickup.ready", PICKUP) in actions
    assert ("return.receive", RETURN) in actions
    assert any(action == "deadletter.replay" for action, _ in actions), actions
    assert replayed != discarded
