"""The Postfix policy service over TCP (asyncio): the shell around :class:`PolicyService`.

- Bounded: at most ``max_connections`` connections are served at once; the next ones wait (for
  ``request_deadline`` at most, then they are closed unanswered: Postfix answers its client 451 4.3.5 and retries).
- Deadlines a trickling client cannot stretch: a connection waits ``idle_timeout`` at most for the first byte of a
  request, and from that byte the whole request must arrive, and its answer be written, within ``request_deadline``
  (else ``DEFER`` with ``MSS-POL-001`` and the connection is closed).
- Reload: :class:`WatchedFile` sources (the allow-list file, the certificate cache directory) are looked at every
  ``reload_interval`` seconds; a changed one (modification time, inode or size) is loaded in a worker thread and
  swapped in atomically; one that fails to load keeps the previous value, and the failure is logged.
- :meth:`PolicyServer.stop` (SIGTERM, SIGINT in ``mssante policy serve``) stops accepting, lets the requests under
  way be answered, and closes the connections.
- A decision that may download (CRLs, with a :class:`~mssante.pki.CrlFetcher`) runs in one worker thread, one at a
  time, so that the event loop keeps serving the other connections.
- Each decision is an audit event (``mssante.transport.audit``, event ``policy``); the server logs to the
  ``mssante.transport.policy`` logger.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar

from mssante.transport._policy_service import (
    BadRequest,
    PolicyAnswer,
    PolicyConnection,
    PolicyRequest,
    PolicyService,
    audit,
    bad_request,
)

__all__ = ["PolicyServer", "WatchedFile"]

logger = logging.getLogger("mssante.transport.policy")
T = TypeVar("T")
_READ = 16384


class WatchedFile(Generic[T]):
    """A file (or directory) read again by ``load`` when its modification time, inode or size change."""

    def __init__(self, path: str | Path, load: Callable[[Path], T], apply: Callable[[T], None]) -> None:
        self.path = Path(path)
        self._load = load
        self._apply = apply
        self._seen: tuple[int, int, int] | None = self._stamp()

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            status = os.stat(self.path)
        except OSError:
            return None
        return (status.st_mtime_ns, status.st_ino, status.st_size)

    async def refresh(self) -> bool:
        """Load the file again if it changed and apply it; False when it did not change or failed to load."""
        stamp = self._stamp()
        if stamp is None or stamp == self._seen:
            return False
        self._seen = stamp
        try:
            value = await asyncio.to_thread(self._load, self.path)
        except Exception as error:  # a reload that fails keeps the previous value, whatever the reason
            logger.warning("reloading %s failed, the previous one is kept: %s", self.path, error)
            return False
        self._apply(value)
        logger.info("reloaded %s", self.path)
        return True


class PolicyServer:
    """Serves :class:`PolicyService` decisions to Postfix on ``host``:``port`` (``port`` 0: a free one, see
    :attr:`port` once started). ``clock`` gives the time decisions are made for (tests set it)."""

    def __init__(
        self,
        service: PolicyService,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_connections: int = 100,
        request_deadline: float = 10.0,
        idle_timeout: float = 300.0,
        reload_interval: float = 30.0,
        watched: tuple[WatchedFile[Any], ...] = (),
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
    ) -> None:
        if max_connections < 1 or request_deadline <= 0 or idle_timeout <= 0 or reload_interval <= 0:
            raise ValueError("max_connections, request_deadline, idle_timeout and reload_interval must be positive")
        self.service = service
        self.host = host
        self.port = port
        self.max_connections = max_connections
        self.request_deadline = request_deadline
        self.idle_timeout = idle_timeout
        self.reload_interval = reload_interval
        self.watched = watched
        self.clock = clock
        self.active = 0
        """The connections being served now."""
        self.answered = 0
        """The requests answered since the start."""
        self._slots = asyncio.Semaphore(max_connections)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._idle: set[asyncio.StreamWriter] = set()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="policy") if service.blocking else None

    async def start(self) -> None:
        """Listen; :attr:`port` is then the port listened on."""
        self._server = await asyncio.start_server(self._accept, self.host, self.port, limit=_READ)
        self.port = int(self._server.sockets[0].getsockname()[1])
        if self.watched:
            self._spawn(self._watch())
        logger.info("policy service listening on %s:%d", self.host, self.port)

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def serve(self) -> None:
        """Serve until :meth:`stop` is called."""
        if self._server is None:
            await self.start()
        await self._stopping.wait()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, let the requests under way end (``grace`` seconds at most), close every connection."""
        self._stopping.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._idle):  # waiting between requests: closed now, the others answered first
            writer.close()
        tasks = set(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)
        logger.info("policy service stopped")

    async def _watch(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.reload_interval)
                return
            for source in self.watched:
                await source.refresh()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._spawn(self._connection(reader, writer))

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                if self._slots.locked():  # every slot taken: wait for one, not forever
                    await asyncio.wait_for(self._slots.acquire(), self.request_deadline)
                else:
                    await self._slots.acquire()
            except asyncio.TimeoutError:
                logger.warning("connection closed unanswered: %d connections are being served", self.max_connections)
                return
            self.active += 1
            try:
                await self._session(reader, writer)
            finally:
                self.active -= 1
                self._slots.release()
        except (ConnectionError, OSError, asyncio.TimeoutError) as error:
            logger.info("connection lost: %r", error)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _answer(self, writer: asyncio.StreamWriter, answer: PolicyAnswer, deadline: float) -> None:
        writer.write(answer.encode())
        if writer.transport.get_write_buffer_size():  # the client does not read: wait, within the deadline
            remaining = deadline - asyncio.get_running_loop().time()
            await asyncio.wait_for(writer.drain(), max(remaining, 0.001))
        self.answered += 1

    def _decide(self, request: PolicyRequest) -> PolicyAnswer:
        return self.service.decide(request, at=self.clock())

    def _expire(self, writer: asyncio.StreamWriter, *, idle: bool) -> None:
        """The idle timeout or the request deadline passed: answer an unfinished request, close the connection
        (the read under way then ends)."""
        if not idle:
            message = f"the request did not end within {self.request_deadline:g} s"
            logger.warning("policy request refused: %s", message)
            writer.write(bad_request(message).encode())
        writer.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        connection = PolicyConnection()
        deadline = 0.0
        while not self._stopping.is_set():
            idle = connection.idle
            if idle:
                self._idle.add(writer)
            # One timer a read, not a task: the deadline holds however slowly the bytes come.
            at = loop.time() + self.idle_timeout if idle else deadline
            timer = loop.call_at(at, functools.partial(self._expire, writer, idle=idle))
            try:
                data = await reader.read(_READ)
            finally:
                timer.cancel()
                self._idle.discard(writer)
            if not data or writer.is_closing():
                return
            if idle:
                deadline = loop.time() + self.request_deadline
            for event in connection.receive(data):
                if isinstance(event, BadRequest):
                    logger.warning("policy request refused: %s", event.message)
                    await self._answer(writer, bad_request(event.message), deadline)
                    return
                request = PolicyRequest.from_attributes(event)
                if self._worker is not None:  # a decision that may download CRLs: one at a time, off the loop
                    answer = await loop.run_in_executor(self._worker, self._decide, request)
                else:
                    answer = self._decide(request)
                audit(request, answer)
                await self._answer(writer, answer, deadline)
                deadline = loop.time() + self.request_deadline  # for what follows in the same read
