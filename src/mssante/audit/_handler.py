"""The bridge from the transports' audit logger to a store: every session feeds the trail, unchanged.

A store that fails (a full disk, an unreachable database) never breaks what is being audited: the send goes on,
the event is lost, and the loss is said: :attr:`AuditHandler.failures` counts it, :attr:`AuditHandler.last_error`
says why, and an ERROR is logged on the ``mssante.audit`` logger. An operator that must not send without a trace
watches that counter (or that logger) and stops its senders. With ``background=True`` the writes leave the
session's thread altogether (a queue, a thread, batches).
"""

from __future__ import annotations

import logging
import platform
import queue
import threading

from mssante.audit._event import AuditEvent, clean
from mssante.audit._records import event_from_record
from mssante.audit._store import AuditStore, AuditStoreError

__all__ = ["ERROR_LOGGER", "AuditHandler", "attach"]

ERROR_LOGGER = "mssante.audit"
"""Where a failure to record an event is logged (at ERROR)."""

_errors = logging.getLogger(ERROR_LOGGER)
_BATCH = 500


class AuditHandler(logging.Handler):
    """A :class:`logging.Handler` that keeps each record of ``mssante.transport.audit`` in ``store``.

    ``node`` names this process's host in each event (default: the host name). Records without an ``event`` field
    are ignored. Use :func:`attach` to add it to the audit logger.

    By default each event is written when it is logged, in the thread that logs it: nothing is held in memory, and a
    slow store slows the session. With ``background=True`` events go through a queue (at most ``queue_size``) to a
    thread that writes them in batches: a session never waits for the store, and an event that finds the queue full
    is lost (and counted); :meth:`flush` waits for the queue to be written, :meth:`close` (or :meth:`detach`) writes
    what is left and stops the thread.
    """

    def __init__(
        self,
        store: AuditStore,
        *,
        node: str | None = None,
        level: int = logging.INFO,
        background: bool = False,
        queue_size: int = 10_000,
    ) -> None:
        super().__init__(level)
        self.store = store
        self.node = clean(node if node is not None else platform.node() or "localhost")
        self.recorded = 0
        """Events kept."""
        self.failures = 0
        """Events lost: the record could not be read as an event, the queue was full, or the store refused it."""
        self.last_error: str | None = None
        """Why the last event was lost."""
        self._reporting = threading.local()
        self._counting = threading.Lock()
        self._level: int | None = None  # the audit logger's level before attach() raised it, put back by detach()
        self._queue: queue.Queue[AuditEvent | None] | None = None
        self._worker: threading.Thread | None = None
        if background:
            if queue_size < 1:
                raise ValueError("queue_size must be at least 1")
            self._queue = queue.Queue(maxsize=queue_size)
            self._worker = threading.Thread(target=self._write_queued, name="mssante-audit", daemon=True)
            self._worker.start()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the event of ``record``; a failure is counted and logged, never raised."""
        if getattr(self._reporting, "active", False):  # our own error report, come back through another handler
            return
        try:
            event = event_from_record(record, node=self.node)
            if event is None:
                return
            if self._queue is not None:
                try:
                    self._queue.put_nowait(event)
                except queue.Full:
                    raise AuditStoreError(
                        f"the queue of events to record is full ({self._queue.maxsize}): the store is too slow or "
                        "unavailable"
                    ) from None
                return
            self.store.record([event])
        except Exception as error:  # whatever fails, the audited operation goes on
            self._lost(1, error, str(record.__dict__.get("event", "")))
        else:
            self._count(1)

    def _count(self, recorded: int) -> None:
        with self._counting:
            self.recorded += recorded

    def _lost(self, count: int, error: Exception, kind: str) -> None:
        with self._counting:
            self.failures += count
            self.last_error = clean(f"{type(error).__name__}: {error}", limit=1000)
            failures, reason = self.failures, self.last_error
        self._reporting.active = True
        try:
            _errors.error("audit event %r not recorded (%d lost so far): %s", clean(kind), failures, reason)
        finally:
            self._reporting.active = False

    def _write_queued(self) -> None:
        assert self._queue is not None
        waiting = self._queue
        stop = False
        while not stop:
            first = waiting.get()
            batch: list[AuditEvent] = []
            taken = 1
            if first is None:
                stop = True
            else:
                batch.append(first)
            while not stop and len(batch) < _BATCH:
                try:
                    item = waiting.get_nowait()
                except queue.Empty:
                    break
                taken += 1
                if item is None:
                    stop = True
                else:
                    batch.append(item)
            try:
                if batch:
                    self.store.record(batch)
                    self._count(len(batch))
            except Exception as error:  # the queue goes on: the next batch may be written
                self._lost(len(batch), error, batch[0].kind)
            finally:
                for _ in range(taken):
                    waiting.task_done()

    def flush(self) -> None:
        """Wait until every queued event is written or counted lost (nothing to wait for without ``background``)."""
        if self._queue is not None and self._worker is not None and self._worker.is_alive():
            self._queue.join()

    def close(self) -> None:
        """Write the queued events and stop the background thread; then close the handler (not the store)."""
        worker, self._worker = self._worker, None
        if worker is not None and worker.is_alive() and self._queue is not None:
            self._queue.put(None)
            worker.join()
        super().close()

    def detach(self) -> None:
        """Remove this handler from the audit logger and close it (the store stays open); put back the logger's
        level."""
        from mssante.transport import AUDIT_LOGGER  # noqa: PLC0415 (the transports load only with their trail)

        logger = logging.getLogger(AUDIT_LOGGER)
        logger.removeHandler(self)
        if self._level is not None and not any(isinstance(other, AuditHandler) for other in logger.handlers):
            logger.setLevel(self._level)
        self._level = None
        self.close()


def attach(store: AuditStore, *, node: str | None = None, background: bool = False) -> AuditHandler:
    """Feed ``store`` with every event of the transports' audit logger; return the handler (``detach()`` it).

    ``background`` writes through a queue and a thread (see :class:`AuditHandler`). The logger is set to INFO when
    it would drop INFO records (its default follows the root logger, WARNING).
    """
    from mssante.transport import AUDIT_LOGGER  # noqa: PLC0415 (the transports load only with their trail)

    handler = AuditHandler(store, node=node, background=background)
    logger = logging.getLogger(AUDIT_LOGGER)
    if logger.getEffectiveLevel() > logging.INFO:
        handler._level = logger.level
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler
