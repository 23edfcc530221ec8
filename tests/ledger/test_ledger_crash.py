"""Crash safety of the ledger (promises 1-3): a worker process (``crash_worker.py``) applying a stream of
movements is SIGKILLed and restarted on the same database, each time re-submitting the whole stream from the
start; it acknowledges a movement only after ``Store.apply`` returned, i.e. after commit.

Kills: the first start dies with the schema created but not committed; four runs kill themselves at exact
points inside (or just after) the transaction of a movement; then the test kills runs from outside after a
random number of acknowledgements (seeded, counted in acks, never in time; ``OMNIBRIDGE_CRASH_SEED`` picks
another seed). After each kill, every key acknowledged so far is recorded exactly once, and a movement killed
before its commit left nothing behind.

After a last, uninterrupted run: no key was ever reported APPLIED twice, every acknowledged key is recorded
exactly once, the ledger holds exactly the movements, with exactly the deltas, that applying the same stream
once to a fresh database records, and every position equals both that reference and the sum of its own
recorded deltas.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO, NamedTuple

import pytest
import sqlalchemy as sa

from omnibridge.errors import ConflictError, IdempotencyKeyReusedError, InsufficientStockError
from omnibridge.models import InventoryPosition, MovementKind, MovementStatus, RecordedMovement, StockMovement
from omnibridge.store import Store, open_store
from omnibridge.store.engine import create_store_engine
from omnibridge.store.migrate import current_revision
from omnibridge.store.tables import MOVEMENTS
from omnibridge.store.types import to_utc

pytestmark = pytest.mark.crash

WORKER = Path(__file__).with_name("crash_worker.py")
SEED = int(os.environ.get("OMNIBRIDGE_CRASH_SEED", "20261123"))
KILLS = 20
"""SIGKILLs per backend (a run that completes before its kill point does not count)."""
ACCEPTED = 110
"""Movements in the stream that the ledger accepts; duplicates and deliberate refusals come on top."""
WAIT_SECONDS = 60.0
"""Hang guard only (a worker stuck this long fails the test); no assertion depends on timing."""

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
SKUS = ("TEE-S", "TEE-M", "MUG")
LOCATIONS = ("wh", "store-1")
GHOST = "GHOST"
"""A SKU that never receives stock: movements against it are refused in every state the ledger can reach."""

ACKNOWLEDGED = ("applied", "duplicate")

KIND_WEIGHTS: dict[MovementKind, int] = {
    MovementKind.RECEIPT: 6,
    MovementKind.EXPECTED: 2,
    MovementKind.COMMITMENT: 5,
    MovementKind.COMMITMENT_RELEASE: 1,
    MovementKind.FULFILMENT: 4,
    MovementKind.SALE: 4,
    MovementKind.RETURN: 1,
    MovementKind.ADJUSTMENT: 2,
    MovementKind.COUNT: 2,
    MovementKind.TRANSFER_OUT: 1,
    MovementKind.TRANSFER_IN: 1,
    MovementKind.RESERVATION: 3,
    MovementKind.RELEASE: 2,
}
SOURCES: dict[MovementKind, str] = {
    MovementKind.COUNT: "file:stocktake",
    MovementKind.SALE: "square",
    MovementKind.ADJUSTMENT: "manual",
    MovementKind.RESERVATION: "shopify",
    MovementKind.RELEASE: "shopify",
}


# -- the stream --------------------------------------------------------------------------------------------------


@dataclass
class Stream:
    movements: list[StockMovement]
    """In submission order, duplicates and deliberate refusals included."""
    refused: set[str]
    """Keys of the deliberately refused movements that carry a key of their own (never recorded)."""
    reused: dict[str, StockMovement] = field(default_factory=dict)
    """Key -> the original movement, for keys re-submitted with different content (refused)."""


def candidate(rng: random.Random, index: int) -> StockMovement:
    kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    at = T0 + timedelta(minutes=index)
    if rng.random() < 0.12:  # a late event (an offline POS, a slow webhook): may be superseded by a count
        at -= timedelta(minutes=rng.randint(1, 90))
    if kind is MovementKind.COUNT:
        quantity = rng.randint(0, 14)
    elif kind is MovementKind.ADJUSTMENT:
        quantity = rng.choice([-3, -2, -1, 1, 2, 3])
    elif kind in (MovementKind.RECEIPT, MovementKind.EXPECTED):
        quantity = rng.randint(1, 10)
    else:
        quantity = rng.randint(1, 4)
    source = SOURCES.get(kind, rng.choice(["shopify", "amazon", "erp"]))
    reference = f"order-{rng.randint(1, 40)}" if kind in (MovementKind.COMMITMENT, MovementKind.FULFILMENT) else None
    return StockMovement(
        idempotency_key=f"{source}:{kind.value}:{index}",
        source=source,
        kind=kind,
        sku=rng.choice(SKUS),
        location_id=rng.choice(LOCATIONS),
        quantity=quantity,
        occurred_at=at,
        reference=reference,
    )


def redelivery(rng: random.Random, original: StockMovement) -> StockMovement:
    """The same event delivered again: same key and content, maybe another note or another UTC offset."""
    offset = timezone(timedelta(hours=rng.choice([-5, 0, 2])))
    at = original.occurred_at.astimezone(offset)
    return original.model_copy(update={"note": rng.choice([None, "retry"]), "occurred_at": at})


def build_stream(scratch: Store, rng: random.Random) -> Stream:
    """Random movements, kept only if the ledger accepts them at their place in the stream (tried on a scratch
    store), then interleaved with re-deliveries, reused keys and movements refused in every reachable state.

    Keeping only accepted movements makes the stream's outcome independent of where a crash lands: after a
    restart, the prefix already recorded is all duplicates and the rest is applied in the same order to the
    same state. (A movement refused for lack of stock at its place could succeed on a later replay, once stock
    that came after it in the stream is recorded: a legitimate difference, not a crash bug.)
    """
    accepted: list[StockMovement] = []
    stream = Stream(movements=[], refused=set())
    index = 0
    while len(accepted) < ACCEPTED:
        index += 1
        movement = candidate(rng, index)
        try:
            scratch.apply(movement)
        except ConflictError:
            continue
        accepted.append(movement)
        stream.movements.append(movement)
        roll = rng.random()
        if roll < 0.20:
            stream.movements.append(redelivery(rng, rng.choice(accepted)))
        elif roll < 0.25:
            original = rng.choice(accepted)
            if original.idempotency_key not in stream.reused:
                stream.reused[original.idempotency_key] = original
                stream.movements.append(original.model_copy(update={"reference": "another-event"}))
        elif roll < 0.30:
            kind = rng.choice([MovementKind.SALE, MovementKind.COMMITMENT, MovementKind.RELEASE])
            ghost = StockMovement(
                idempotency_key=f"ghost:{kind.value}:{index}",
                source="shopify",
                kind=kind,
                sku=GHOST,
                location_id=LOCATIONS[0],
                quantity=1,
                occurred_at=T0 + timedelta(minutes=index),
            )
            stream.refused.add(ghost.idempotency_key)
            stream.movements.append(ghost)
    return stream


@dataclass
class Reference:
    stream: Stream
    stream_file: Path
    ledger: dict[str, Facts]
    """Key -> the recorded movement, as :func:`recorded_facts`."""
    positions: dict[tuple[str, str], tuple[int, ...]]
    """(sku, location) -> buckets."""


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """The stream (built once for both backends) and what applying it once, uninterrupted, records."""
    directory = tmp_path_factory.mktemp("crash-reference")
    rng = random.Random(SEED)
    with open_store(f"sqlite:///{directory / 'scratch.db'}") as scratch:
        stream = build_stream(scratch, rng)
    stream_file = directory / "stream.jsonl"
    stream_file.write_text("".join(m.model_dump_json() + "\n" for m in stream.movements), encoding="utf-8")
    # What the worker will read: the same movements, each still valid.
    lines = stream_file.read_text(encoding="utf-8").splitlines()
    assert [StockMovement.model_validate_json(line) for line in lines] == stream.movements

    refused: dict[str, type[Exception]] = {}
    statuses: Counter[MovementStatus] = Counter()
    with open_store(f"sqlite:///{directory / 'reference.db'}") as store:
        for movement in stream.movements:
            try:
                statuses[store.apply(movement).status] += 1
            except ConflictError as exc:
                refused[movement.idempotency_key] = type(exc)
        ledger, positions = snapshot(store)
    # The stream is what it was built to be: only the deliberate refusals are refused, each for its reason.
    assert set(refused) == stream.refused | set(stream.reused), f"seed {SEED}"
    assert all(refused[key] is IdempotencyKeyReusedError for key in stream.reused)
    assert all(issubclass(refused[key], ConflictError) for key in stream.refused)
    assert any(refused[key] is InsufficientStockError for key in stream.refused), f"seed {SEED}: no ghost sale"
    assert statuses[MovementStatus.APPLIED] == ACCEPTED == len(ledger)
    assert statuses[MovementStatus.DUPLICATE] > 10
    assert any(facts.superseded_by_count for facts in ledger.values()), f"seed {SEED}: nothing superseded"
    return Reference(stream=stream, stream_file=stream_file, ledger=ledger, positions=positions)


# -- reading a store ---------------------------------------------------------------------------------------------


class Facts(NamedTuple):
    """What a recorded movement says and did, independent of backend, ledger id and recording time."""

    source: str
    kind: MovementKind
    sku: str
    location_id: str
    quantity: int
    occurred_at: datetime
    reference: str | None
    delta_on_hand: int
    delta_committed: int
    delta_reserved: int
    delta_incoming: int
    superseded_by_count: bool


def recorded_facts(recorded: RecordedMovement) -> Facts:
    m = recorded.movement
    return Facts(
        m.source,
        m.kind,
        m.sku,
        m.location_id,
        m.quantity,
        to_utc(m.occurred_at),
        m.reference,
        recorded.delta_on_hand,
        recorded.delta_committed,
        recorded.delta_reserved,
        recorded.delta_incoming,
        recorded.superseded_by_count,
    )


def buckets(position: InventoryPosition) -> tuple[int, ...]:
    return (position.on_hand, position.committed, position.reserved, position.safety_stock, position.incoming)


def snapshot(store: Store) -> tuple[dict[str, Facts], dict[tuple[str, str], tuple[int, ...]]]:
    ledger: dict[str, Facts] = {}
    positions: dict[tuple[str, str], tuple[int, ...]] = {}
    for sku in (*SKUS, GHOST):
        for recorded in store.movements(sku):
            ledger[recorded.movement.idempotency_key] = recorded_facts(recorded)
        for position in store.positions(sku):
            positions[(sku, position.location_id)] = buckets(position)
    return ledger, positions


@contextmanager
def raw_engine(url: str) -> Iterator[sa.Engine]:
    """An engine on the store's database that neither migrates nor keeps connections open afterwards."""
    engine = create_store_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def keys_in_ledger(url: str) -> Counter[str]:
    """How many rows each key has in the movements table (empty before the first migration committed)."""
    with raw_engine(url) as engine, engine.connect() as conn:
        if not sa.inspect(conn).has_table(MOVEMENTS.name):
            return Counter()
        rows = conn.execute(
            sa.select(MOVEMENTS.c.idempotency_key, sa.func.count()).group_by(MOVEMENTS.c.idempotency_key)
        )
        return Counter({key: count for key, count in rows})


# -- driving the worker ------------------------------------------------------------------------------------------


def read_acks(ack_file: Path) -> list[tuple[str, str]]:
    """(status, key) per complete line. A last line without its newline (torn by a kill; unlikely, as the
    worker writes each line with one small write) is ignored: its event committed before the ack was started,
    so ignoring it only weakens the check."""
    if not ack_file.exists():
        return []
    text = ack_file.read_text(encoding="utf-8")
    acks: list[tuple[str, str]] = []
    for line in text[: text.rfind("\n") + 1].splitlines():
        status, _, key = line.partition("\t")
        assert status in ACKNOWLEDGED or status.startswith("refused:"), f"malformed ack line {line!r}"
        acks.append((status, key))
    return acks


class AckTail:
    """Counts the complete lines appended to the ack file, reading only what is new at each poll."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: BinaryIO | None = None
        self.lines = 0

    def poll(self) -> int:
        if self.handle is None:
            if not self.path.exists():
                return 0
            self.handle = self.path.open("rb")
        self.lines += self.handle.read().count(b"\n")
        return self.lines

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


@dataclass
class Worker:
    url: str
    stream_file: Path
    ack_file: Path
    log_dir: Path
    runs: int = 0
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.tail = AckTail(self.ack_file)

    def start(self, *extra: str) -> subprocess.Popen[bytes]:
        self.runs += 1
        with (self.log_dir / f"run-{self.runs}.log").open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(WORKER), self.url, str(self.stream_file), str(self.ack_file), *extra],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self.process

    def log(self) -> str:
        text = (self.log_dir / f"run-{self.runs}.log").read_text(encoding="utf-8", errors="replace")
        return f"run {self.runs}, seed {SEED}:\n{text}"

    def kill_after(self, count: int) -> bool:
        """Start a run and SIGKILL it once ``count`` more lines were acknowledged. False if it finished first."""
        start = self.tail.poll()
        process = self.start()
        deadline = time.monotonic() + WAIT_SECONDS
        while self.tail.poll() - start < count:
            if process.poll() is not None:
                assert process.returncode == 0, f"worker failed ({self.log()})"
                return False
            assert time.monotonic() < deadline, f"worker stuck ({self.log()})"
            time.sleep(0.001)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=WAIT_SECONDS)
        return process.returncode == -signal.SIGKILL

    def die_at(self, point: str, nth: int) -> None:
        """Start a run that SIGKILLs itself at ``point`` for the ``nth`` movement it records."""
        process = self.start("--die-at", f"{point}:{nth}")
        process.wait(timeout=WAIT_SECONDS)
        assert process.returncode == -signal.SIGKILL, f"worker did not die at {point}:{nth} ({self.log()})"

    def run_to_completion(self) -> None:
        process = self.start()
        try:
            process.wait(timeout=WAIT_SECONDS * 2)
        except subprocess.TimeoutExpired:
            pytest.fail(f"worker did not finish ({self.log()})")
        assert process.returncode == 0, f"worker failed ({self.log()})"

    def stop(self) -> None:
        self.tail.close()
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=WAIT_SECONDS)


def kill_points(rng: random.Random, stream_length: int) -> Iterator[int]:
    """How many acks to let through before each kill: sometimes none (the kill lands in start-up or in the
    very first transaction), otherwise anywhere in the stream (a run re-acknowledges the prefix it finds)."""
    while True:
        yield 0 if rng.random() < 0.1 else rng.randint(1, stream_length - 1)


EXACT_POINTS = ("inserted", "updated", "commit", "committed")
"""Self-kill points of the worker inside one movement's transaction (see ``crash_worker.DIE_POINTS``)."""
BEFORE_COMMIT = frozenset({"inserted", "updated", "commit"})


def check_crash_point(store_url: str, stream: Stream, acks: list[tuple[str, str]], run_start: int, where: str) -> None:
    """At a crash point: every key acknowledged so far is recorded, once. ``run_start`` is the number of ack
    lines before the killed run; ``where`` is its exact death point, or ``random``."""
    recorded = keys_in_ledger(store_url)
    acknowledged = {key for status, key in acks if status in ACKNOWLEDGED}
    assert acknowledged <= set(recorded), f"seed {SEED}, {where}: lost {acknowledged - set(recorded)}"
    assert set(recorded.values()) <= {1}, f"seed {SEED}, {where}: a key recorded twice"
    if where == "random":
        return
    # The run died handling the movement after the last one it answered; its fate depends on the point.
    in_flight = stream.movements[len(acks) - run_start].idempotency_key
    if where in BEFORE_COMMIT:
        assert in_flight not in recorded, f"seed {SEED}: {in_flight} survived a kill at {where}"
    else:
        assert recorded[in_flight] == 1, f"seed {SEED}: {in_flight} was lost after its commit"
        assert in_flight not in acknowledged


# -- the test ----------------------------------------------------------------------------------------------------


def test_every_acknowledged_event_survives_sigkill_exactly_once(
    store_url: str, reference: Reference, tmp_path: Path
) -> None:
    stream = reference.stream
    ack_file = tmp_path / "acks.tsv"
    worker = Worker(store_url, reference.stream_file, ack_file, tmp_path)
    rng = random.Random(f"{SEED}:kills")
    exact = [(point, rng.randint(1, 5)) for point in rng.sample(EXACT_POINTS, len(EXACT_POINTS))]
    kills = 0
    try:
        # First start, killed with the new schema created but not committed: the next start creates it again.
        worker.die_at("migrated", 1)
        assert read_acks(ack_file) == []
        assert keys_in_ledger(store_url) == Counter()
        with raw_engine(store_url) as engine:
            assert current_revision(engine) is None
        # Killed at exact points inside the transaction of the n-th movement a run records, or just after it.
        for point, nth in exact:
            run_start = len(read_acks(ack_file))
            worker.die_at(point, nth)
            check_crash_point(store_url, stream, read_acks(ack_file), run_start, point)
        # Killed from outside after a random number of acknowledgements.
        for count in kill_points(rng, len(stream.movements)):
            if kills == KILLS:
                break
            assert worker.runs < KILLS * 3, f"seed {SEED}: runs keep finishing before their kill point"
            if worker.kill_after(count):
                kills += 1
                check_crash_point(store_url, stream, read_acks(ack_file), 0, "random")
        before_final = read_acks(ack_file)
        worker.run_to_completion()
    finally:
        worker.stop()

    acks = read_acks(ack_file)
    final_run = acks[len(before_final) :]
    # The crashes interrupted real work: earlier runs recorded part of the stream, the last one the rest.
    applied_before = {key for status, key in before_final if status == "applied"}
    assert applied_before, f"seed {SEED}: no run got past start-up before its kill"
    # The final run answered every movement of the stream, in order, each as the uninterrupted run did.
    assert [key for _, key in final_run] == [m.idempotency_key for m in stream.movements]
    refused_final = {key for status, key in final_run if status.startswith("refused")}
    assert refused_final == stream.refused | set(stream.reused)

    # Exactly once: no key reported APPLIED twice over all runs, none recorded twice, every acknowledged one
    # recorded (and a refused key recorded only under its original content).
    applied_counts = Counter(key for status, key in acks if status == "applied")
    assert [key for key, n in applied_counts.items() if n > 1] == []
    recorded = keys_in_ledger(store_url)
    assert set(recorded.values()) == {1}
    assert set(recorded) == set(reference.ledger)
    acknowledged = {key for status, key in acks if status in ACKNOWLEDGED}
    assert acknowledged == set(recorded)
    assert not stream.refused & set(recorded)

    with open_store(store_url) as store:
        ledger, positions = snapshot(store)
        movements = {sku: store.movements(sku) for sku in (*SKUS, GHOST)}
    # The same movements with the same deltas as one uninterrupted run (reused keys kept their original).
    assert ledger == reference.ledger
    for key, original in stream.reused.items():
        assert ledger[key].reference == original.reference
    # Every position is the reference's, and the sum of its own recorded deltas (safety stock is never moved).
    assert positions == reference.positions
    for (sku, location), position in positions.items():
        at = [m for m in movements[sku] if m.movement.location_id == location]
        sums = (
            sum(m.delta_on_hand for m in at),
            sum(m.delta_committed for m in at),
            sum(m.delta_reserved for m in at),
            0,
            sum(m.delta_incoming for m in at),
        )
        assert position == sums, (sku, location)
    backend = store_url.split(":")[0]
    print(f"{backend}: {kills} random + {1 + len(exact)} exact kills, {worker.runs} runs, {len(acks)} acks")
