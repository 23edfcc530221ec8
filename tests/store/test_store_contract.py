"""The store contract: one suite, run against SQLite and PostgreSQL (the ``store``/``store_url`` fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from omnibridge.errors import ConflictError, StoreError
from omnibridge.models import (
    Address,
    BoundRecord,
    ChannelBinding,
    ChannelIdentity,
    Consent,
    Customer,
    FulfilmentMethod,
    GeoPoint,
    Listing,
    ListingStatus,
    Location,
    LocationCapability,
    LocationType,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Return,
    ReturnLine,
    ReturnStatus,
    Shipment,
    ShipmentLine,
    TrackingEvent,
    TrackingStatus,
    Variant,
)
from omnibridge.store import Store, open_store
from omnibridge.store.migrate import current_revision, head_revision
from omnibridge.store.tables import metadata

CEST = timezone(timedelta(hours=2))
PLACED = datetime(2026, 3, 1, 14, 30, 15, 123456, tzinfo=CEST)
ADDRESS = Address(
    name="Ada Lovelace", line1="1 Main St", city="Springfield", region="IL", postal_code="62701", country="US"
)


T = TypeVar("T")


def found(value: T | None) -> T:
    """What a ``get_*`` lookup returned, failing the test when it found nothing."""
    assert value is not None
    return value


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def assert_utc(value: datetime | None) -> None:
    assert value is not None
    assert value.utcoffset() == timedelta(0)


def make_order(**changes: object) -> Order:
    order = Order(
        id="ord-1",
        channel="shopify",
        external_id="gid://shopify/Order/1001",
        number="#1001",
        status=OrderStatus.ACCEPTED,
        fulfilment_method=FulfilmentMethod.PICKUP_IN_STORE,
        pickup_location_id="store-1",
        lines=[
            OrderLine(line_id="l1", sku="TEE-M", quantity=2, unit_price=usd("19.99"), location_id="store-1"),
            OrderLine(line_id="l2", sku="CAP", quantity=1, unit_price=usd("0.10"), cancelled_quantity=1),
        ],
        ship_to=ADDRESS,
        customer_id="cus-1",
        total=usd("40.08"),
        placed_at=PLACED,
        updated_at=PLACED + timedelta(minutes=5),
        priority=3,
    )
    return order.model_copy(update=changes)


# -- schema and lifecycle -------------------------------------------------------------------------------------


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Everything but procrastinate's own schema (its ``procrastinate_*`` tables and their indexes), which
    ``open_store`` applies on PostgreSQL for replicas (:mod:`omnibridge.replicas`) and which our models do not
    describe."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    names = (name or "", getattr(table, "name", "") or "")
    return not any(part.startswith("procrastinate_") for part in names)


def test_migrations_create_exactly_the_models_schema(store: Store) -> None:
    assert current_revision(store.engine) == head_revision()
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _ours})
        assert compare_metadata(context, metadata) == []


def test_reopening_keeps_data_and_does_not_migrate_again(store_url: str) -> None:
    with open_store(store_url) as store:
        store.upsert_product(Product(id="p1", title="Tee", variants=[Variant(sku="TEE-M", product_id="p1")]))
    with open_store(store_url) as store:
        assert store.get_variant("TEE-M") == Variant(sku="TEE-M", product_id="p1")
        assert current_revision(store.engine) == head_revision()


def test_a_schema_from_a_newer_omnibridge_is_refused(store_url: str) -> None:
    with open_store(store_url) as store, store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(StoreError) as caught:
        open_store(store_url)
    assert str(caught.value) == (
        f"database schema 9999_future is newer than this omnibridge ({head_revision()}); upgrade omnibridge"
    )


@pytest.mark.parametrize("url", ["mysql+pymysql://u@h/db", "sqlite://", "not a url at all"])
def test_unsupported_urls_name_the_supported_schemes(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(url)
    assert "sqlite:///PATH" in str(caught.value)
    assert "postgresql+psycopg://" in str(caught.value)


def test_an_unopenable_sqlite_file_is_a_clear_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}")
    message = str(caught.value)
    assert message.startswith("cannot open the database at sqlite:///")
    assert "\n" not in message
    assert caught.value.__suppress_context__


def test_an_unreachable_postgresql_is_a_clear_store_error_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql+psycopg://omni:s3cret@127.0.0.1:1/omnibridge")
    message = str(caught.value)
    assert message.startswith("cannot open the database at postgresql+psycopg://omni:***@127.0.0.1:1/omnibridge: ")
    assert "s3cret" not in message
    assert "\n" not in message
    assert caught.value.__suppress_context__


# -- catalog and locations -------------------------------------------------------------------------------------


def test_products_and_variants_round_trip(store: Store) -> None:
    product = Product(
        id="p1",
        title="Tee",
        product_type="Shirt",
        vendor="Acme",
        attributes={"material": "cotton"},
        variants=[
            Variant(
                sku="TEE-M",
                product_id="p1",
                title="M",
                barcodes=["0012345678905"],
                option_values={"size": "M"},
                price=usd("19.99"),
                weight_grams=180,
            ),
            Variant(sku="TEE-L", product_id="p1", tracked=False, allow_backorder=True),
        ],
    )
    store.upsert_product(product)
    assert store.get_product("p1") == product.model_copy(
        update={"variants": sorted(product.variants, key=lambda v: v.sku)}
    )
    assert store.get_variant("TEE-M") == product.variants[0]
    assert found(found(store.get_variant("TEE-M")).price).amount == Decimal("19.99")
    assert [v.sku for v in store.list_variants()] == ["TEE-L", "TEE-M"]
    assert store.get_variant("nope") is None


def test_upserting_a_product_replaces_its_variants(store: Store) -> None:
    store.upsert_product(
        Product(id="p1", title="Tee", variants=[Variant(sku="A", product_id="p1"), Variant(sku="B", product_id="p1")])
    )
    store.upsert_product(Product(id="p1", title="Tee v2", variants=[Variant(sku="B", product_id="p1", title="b")]))
    assert store.get_variant("A") is None
    assert store.get_variant("B") == Variant(sku="B", product_id="p1", title="b")
    assert found(store.get_product("p1")).title == "Tee v2"


def test_locations_round_trip(store: Store) -> None:
    shop = Location(
        id="store-1",
        name="Downtown",
        type=LocationType.STORE,
        address=ADDRESS,
        coordinates=GeoPoint(lat=39.8, lon=-89.65),
        capabilities={LocationCapability.PICKUP, LocationCapability.CURBSIDE},
        pickup_hours={"mon": "09:00-17:00", "sun": "closed"},
    )
    warehouse = Location(id="wh", name="Warehouse", type=LocationType.WAREHOUSE, active=False)
    store.upsert_location(warehouse)
    store.upsert_location(shop)
    assert store.get_location("store-1") == shop
    assert store.list_locations() == [shop, warehouse]
    store.upsert_location(warehouse.model_copy(update={"active": True}))
    assert found(store.get_location("wh")).active is True
    assert store.get_location("elsewhere") is None


# -- bindings --------------------------------------------------------------------------------------------------


def test_bindings_resolve_both_ways_and_rebinding_is_idempotent(store: Store) -> None:
    binding = ChannelBinding(
        channel="shopify", record=BoundRecord.VARIANT, external_id="gid://1", internal_id="TEE-M", extra={"v": "9"}
    )
    store.bind(binding)
    store.bind(binding)
    assert store.resolve("shopify", BoundRecord.VARIANT, "gid://1") == "TEE-M"
    assert store.external_id("shopify", BoundRecord.VARIANT, "TEE-M") == "gid://1"
    assert store.resolve("shopify", BoundRecord.PRODUCT, "gid://1") is None
    assert store.resolve("square", BoundRecord.VARIANT, "gid://1") is None
    # The same ids may be bound for another kind of record or on another channel.
    store.bind(binding.model_copy(update={"record": BoundRecord.PRODUCT}))
    store.bind(binding.model_copy(update={"channel": "square"}))


def test_binding_conflicts_are_refused_both_ways(store: Store) -> None:
    store.bind(ChannelBinding(channel="shopify", record=BoundRecord.VARIANT, external_id="gid://1", internal_id="A"))
    with pytest.raises(ConflictError, match=r"'gid://1' is already bound to 'A', not 'B'"):
        store.bind(
            ChannelBinding(channel="shopify", record=BoundRecord.VARIANT, external_id="gid://1", internal_id="B")
        )
    with pytest.raises(ConflictError, match=r"'A' is already bound to external id 'gid://1', not 'gid://2'"):
        store.bind(
            ChannelBinding(channel="shopify", record=BoundRecord.VARIANT, external_id="gid://2", internal_id="A")
        )
    assert store.resolve("shopify", BoundRecord.VARIANT, "gid://2") is None


# -- orders, shipments, returns ----------------------------------------------------------------------------------


def test_orders_round_trip_with_timezones_money_and_addresses(store: Store) -> None:
    order = make_order()
    assert store.save_order(order) == order
    loaded = store.get_order("ord-1")
    assert loaded == order
    assert loaded is not None
    assert_utc(loaded.placed_at)
    assert loaded.placed_at == PLACED
    assert loaded.total == usd("40.08")
    assert loaded.ship_to == ADDRESS
    assert store.find_order("shopify", "gid://shopify/Order/1001") == order
    assert store.find_order("amazon", "gid://shopify/Order/1001") is None
    assert store.get_order("missing") is None


def test_saving_an_order_again_updates_it_by_channel_and_external_id(store: Store) -> None:
    store.save_order(make_order())
    redelivered = make_order(id="ord-fresh", status=OrderStatus.FULFILLED, updated_at=PLACED + timedelta(days=1))
    stored = store.save_order(redelivered)
    assert stored == redelivered.model_copy(update={"id": "ord-1"})
    assert store.get_order("ord-1") == stored
    assert store.get_order("ord-fresh") is None


def test_an_order_id_taken_by_another_order_is_a_conflict(store: Store) -> None:
    store.save_order(make_order())
    with pytest.raises(ConflictError, match="already belongs to another order"):
        store.save_order(make_order(external_id="gid://shopify/Order/2002"))
    assert store.find_order("shopify", "gid://shopify/Order/2002") is None


def test_shipments_round_trip_and_tracking_updates_status(store: Store) -> None:
    created = datetime(2026, 3, 2, 9, 0, tzinfo=CEST)
    label = TrackingEvent(status=TrackingStatus.PENDING, carrier_status="LC", occurred_at=created)
    shipment = Shipment(
        id="shp-1",
        order_id="ord-1",
        from_location_id="wh",
        carrier="ups",
        service="ground",
        tracking_number="1Z999",
        label_url="https://labels.example/1.pdf",
        cost=usd("7.45"),
        ship_to=ADDRESS,
        lines=[ShipmentLine(sku="TEE-M", quantity=2, order_line_id="l1")],
        tracking_history=[label],
        created_at=created,
    )
    store.save_shipment(shipment)
    assert store.get_shipment("shp-1") == shipment

    delivered = TrackingEvent(
        status=TrackingStatus.DELIVERED, carrier_status="DL", occurred_at=created + timedelta(days=2), location="IL"
    )
    in_transit = TrackingEvent(
        status=TrackingStatus.IN_TRANSIT, carrier_status="IT", occurred_at=created + timedelta(days=1)
    )
    store.add_tracking_event("shp-1", delivered)
    after = store.add_tracking_event("shp-1", in_transit)  # arrives late: status stays "delivered"
    store.add_tracking_event("shp-1", in_transit)  # a repeat of a known scan is ignored
    assert after.status is TrackingStatus.DELIVERED
    assert after.tracking_history == [label, in_transit, delivered]
    assert store.get_shipment("shp-1") == after
    for event in after.tracking_history:
        assert_utc(event.occurred_at)
    with pytest.raises(ConflictError, match="unknown shipment 'nope'"):
        store.add_tracking_event("nope", delivered)


def test_returns_round_trip(store: Store) -> None:
    ret = Return(
        id="ret-1",
        order_id="ord-1",
        channel="shopify",
        external_id="gid://shopify/Return/1",
        location_id="wh",
        lines=[
            ReturnLine(sku="TEE-M", quantity=1, reason="too small"),
            ReturnLine(sku="CAP", quantity=1, restock=False),
        ],
        refund=usd("19.99"),
        created_at=PLACED,
    )
    store.save_return(ret)
    assert store.get_return("ret-1") == ret
    store.save_return(ret.model_copy(update={"status": ReturnStatus.RESTOCKED}))
    assert found(store.get_return("ret-1")).status is ReturnStatus.RESTOCKED
    assert store.get_return("nope") is None


# -- customers and listings --------------------------------------------------------------------------------------


def test_customers_round_trip_and_are_found_by_channel_identity(store: Store) -> None:
    customer = Customer(
        id="cus-1",
        email="ada@example.com",
        phone="+15555550100",
        first_name="Ada",
        last_name="Lovelace",
        default_address=ADDRESS,
        identities=[
            ChannelIdentity(channel="square", external_id="SQ1"),
            ChannelIdentity(channel="shopify", external_id="9"),
        ],
        consent=Consent(marketing_email=True, recorded_at=PLACED, source="shopify"),
    )
    store.save_customer(customer)
    assert store.get_customer("cus-1") == customer
    assert store.find_customer("shopify", "9") == customer
    assert store.find_customer("shopify", "SQ1") is None
    redacted = Customer(
        id="cus-1", identities=[ChannelIdentity(channel="shopify", external_id="9")], redacted_at=PLACED
    )
    store.save_customer(redacted)
    assert store.get_customer("cus-1") == redacted
    assert store.find_customer("square", "SQ1") is None
    assert_utc(found(store.get_customer("cus-1")).redacted_at)


def test_a_channel_identity_belongs_to_one_customer(store: Store) -> None:
    store.save_customer(Customer(id="cus-1", identities=[ChannelIdentity(channel="shopify", external_id="9")]))
    with pytest.raises(ConflictError, match="already belongs to customer 'cus-1', not 'cus-2'"):
        store.save_customer(Customer(id="cus-2", identities=[ChannelIdentity(channel="shopify", external_id="9")]))
    assert store.get_customer("cus-2") is None


def test_listings_round_trip_per_channel(store: Store) -> None:
    shopify = Listing(
        channel="shopify",
        sku="TEE-M",
        external_id="gid://v/1",
        title="Tee (M)",
        price=usd("19.99"),
        compare_at_price=usd("24.00"),
        shown_quantity=7,
        updated_at=PLACED,
    )
    amazon = Listing(channel="amazon", sku="TEE-M", status=ListingStatus.PENDING)
    store.save_listing(shopify)
    store.save_listing(amazon)
    assert store.get_listing("shopify", "TEE-M") == shopify
    assert store.listings_for("TEE-M") == [amazon, shopify]
    store.save_listing(shopify.model_copy(update={"shown_quantity": 3}))
    assert found(store.get_listing("shopify", "TEE-M")).shown_quantity == 3
    assert store.get_listing("ebay", "TEE-M") is None
    assert store.listings_for("OTHER") == []


def test_timestamps_come_back_in_utc(store: Store) -> None:
    store.save_listing(Listing(channel="shopify", sku="X", updated_at=datetime(2026, 1, 1, 23, 30, tzinfo=CEST)))
    loaded = store.get_listing("shopify", "X")
    assert loaded is not None
    assert loaded.updated_at == datetime(2026, 1, 1, 21, 30, tzinfo=UTC)
    assert_utc(loaded.updated_at)
