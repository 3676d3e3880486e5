"""Both audit stores: events survive a restart, purge removes what is past retention, export round-trips, several
processes write at once."""

from __future__ import annotations

import datetime as dt
import io
import json
import multiprocessing

import pytest

from mssante.audit import AuditEvent, PostgresAuditStore, Retention, SqliteAuditStore
from mssante.errors import StoreUnavailable
from tests.audit.conftest import OpenStore
from tests.audit.helpers import AT, full_event, series
from tests.postgres import free_closed_port

WRITERS, EACH = 4, 40


def test_events_survive_a_restart(open_store: OpenStore) -> None:
    with open_store() as store:
        assert store.record([full_event(), *series(3)]) == 4
        assert store.record([]) == 0
    with open_store() as store:
        assert store.counts() == {"connect": 3, "send": 1}
        assert store.query(kinds=["send"]) == [full_event()]
        assert store.counts(since=AT + dt.timedelta(days=1)) == {"connect": 2}


def test_purge_removes_what_is_past_retention(open_store: OpenStore) -> None:
    with open_store() as store:
        store.record(series(400))  # one a day from AT
        at = AT + dt.timedelta(days=399, hours=12)
        assert len(store.query(limit=10_000)) == 400  # reads never apply the retention
        result = store.purge(at=at)
        assert result.cutoff == at - dt.timedelta(days=183)
        assert (result.purged, result.kept) == (217, 183)
        assert min(event.at for event in store.events()) >= result.cutoff
        assert store.purge(at=at).purged == 0
    with open_store(Retention(days=365)) as store:
        assert store.purge(at=at).kept == 183


def test_export_round_trips_every_field(open_store: OpenStore) -> None:
    events = [full_event(at=AT + dt.timedelta(seconds=index), node=f"node-{index}") for index in range(1200)]
    with open_store() as store:
        store.record(events)
        stream = io.StringIO()
        assert store.export(stream) == 1200
        lines = stream.getvalue().splitlines()
        assert [AuditEvent.from_dict(json.loads(line)) for line in lines] == events
        assert sorted(json.loads(lines[0])) == [
            "at", "certificate", "codes", "details", "kind", "message_id", "node", "outcome", "peer", "port",
            "reason", "recipients", "sender", "user",
        ]  # fmt: skip
        since, until = AT + dt.timedelta(seconds=10), AT + dt.timedelta(seconds=20)
        assert store.export(io.StringIO(), since=since, until=until, kinds=["send"]) == 10
        assert store.export(io.StringIO(), kinds="connect") == 0
        assert len(store.query(limit=3)) == 3


def test_hostile_values_are_kept_bounded(open_store: OpenStore) -> None:
    hostile = AuditEvent(kind="reset", at=AT, node="n", peer="\x00" * 5000, reason="é\x00'); --" * 1_000_000)
    with open_store() as store:
        store.record([hostile])
        (read,) = store.query()
    assert read == hostile
    assert len(read.reason) <= 1000
    assert "\x00" not in read.reason


def _write(kind: str, location: str, writer: int) -> None:
    store = SqliteAuditStore(location, timeout=60) if kind == "sqlite" else PostgresAuditStore(location)
    with store:
        for index in range(EACH):
            store.record([AuditEvent(kind="send", at=AT + dt.timedelta(seconds=index), node=f"w{writer}",
                                     message_id=f"<{writer}.{index}@x>")])  # fmt: skip


def test_several_processes_write_at_once(open_store: OpenStore, store_kind: str, location: str) -> None:
    open_store().close()  # the schema made once, as a deployment does before starting its workers
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_write, args=(store_kind, location, writer)) for writer in range(WRITERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    with open_store() as store:
        ids = [event.message_id for event in store.events()]
    assert len(ids) == len(set(ids)) == WRITERS * EACH


def test_an_unreachable_database_is_a_clear_error() -> None:
    conninfo = f"host=127.0.0.1 port={free_closed_port()} dbname=audit user=nobody password=hunter2"
    with pytest.raises(StoreUnavailable, match="unavailable") as raised:
        PostgresAuditStore(conninfo, connect_timeout=1)
    assert "hunter2" not in str(raised.value)
