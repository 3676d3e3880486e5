"""What the allow-list tests share: lists, certificates, a local HTTPS server, a mute one, cache damage."""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from mssante.testing import IssuedCertificate
from mssante.trustspace import AllowListCache
from tests.counting import HANG_GUARD
from tests.local_server import LocalServer, Reply, Request

DATA = Path(__file__).parent.parent / "data"
RESTORED = DATA / "listeblanchemssante-2025-03-13-restored.xml"
MIRROR_HEAD = DATA / "listeblanchemssante-mirror-head.xml"
RESTORED_SHA256 = "7e7b3b9e2f42f2b8969b04aa1dc84188a970a2fb5de6c769a85a46b1141d8723"
MIRROR_HEAD_SHA256 = "fcec0113fe62c11c551882adc97f9eb254665d41fc31404cf984a0672cd9b2b2"  # its published checksum
PATH = "/listeblanchemssante.xml"
AT = datetime(2025, 3, 14, 8, 0, tzinfo=timezone.utc)
ETAG, MODIFIED = '"67d2f1a2-387209"', "Thu, 13 Mar 2025 14:54:12 GMT"

DOWNLOADED, NOT_MODIFIED, UNCHANGED, HTTP_ERROR = "MSS-WLF-001", "MSS-WLF-002", "MSS-WLF-003", "MSS-WLF-004"
DOWNLOAD_FAILED, TIMED_OUT, OVERSIZE, BODY_REFUSED = "MSS-WLF-005", "MSS-WLF-006", "MSS-WLF-007", "MSS-WLF-008"
CHECKSUM_MISMATCH, FROM_CACHE, CACHE_DAMAGED = "MSS-WLF-009", "MSS-WLF-010", "MSS-WLF-011"
CACHE_NOT_WRITTEN, OLDER_THAN_CACHED, BAD_CHECKSUM_FILE, URL_REFUSED = (
    "MSS-WLF-012",
    "MSS-WLF-013",
    "MSS-WLF-014",
    "MSS-WLF-015",
)

LEVELS = b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1)) * 10) for n in range(1, 10))
BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">' + LEVELS + b"]>"
    b'<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">&lol9;</ListeBlancheMSSante>'
)


DN = "CN=mss.example.org,OU=318751275100020,O=ASIP-SANTE,ST=Paris (75),C=FR"


def small_list(generated: str = "2025-03-13T14:54:10Z", *domains: str) -> bytes:
    """An allow-list in the ANS format, with one entry per domain."""
    entries = "".join(
        f"""
        <Domaine>
            <Nom>{domain}</Nom>
            <Description>Test {index}</Description>
            <DNCertificatOperateur>{DN}</DNCertificatOperateur>
            <ResponsableContact>01 02 03 04 05, responsable@example.org</ResponsableContact>
            <SupportContact>01 02 03 04 06, support@example.org</SupportContact>
            <DateMAJ>{generated}</DateMAJ>
        </Domaine>"""
        for index, domain in enumerate(domains or ("hopital-a.mssante.fr", "clinique-b.mssante.fr"))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">\n'
        f"    <DateDeGeneration>{generated}</DateDeGeneration>\n"
        f"    <ListeDomaines>{entries}\n    </ListeDomaines>\n</ListeBlancheMSSante>\n"
    ).encode()


SMALL = small_list()
NEWER = small_list("2025-03-20T09:00:00Z", "hopital-a.mssante.fr", "clinique-b.mssante.fr", "ehpad-c.mssante.fr")
OLDER = small_list("2025-01-02T09:00:00Z", "hopital-a.mssante.fr")


@dataclass(frozen=True)
class Identity:
    issued: IssuedCertificate
    certificate: Path
    key: Path


def write_identity(issued: IssuedCertificate, directory: Path) -> Identity:
    directory.mkdir(parents=True, exist_ok=True)
    certificate, key = directory / "chain.pem", directory / "key.pem"
    certificate.write_bytes(issued.pem())
    key.write_bytes(issued.key_pem())
    return Identity(issued=issued, certificate=certificate, key=key)


class Server(LocalServer):
    """The local server of these tests, over TLS with ``identity`` (plain HTTP without one)."""

    def __init__(self, identity: Identity | None) -> None:
        context = None
        if identity is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(identity.certificate, identity.key)
        super().__init__(context, host="localhost")

    def url(self, path: str = PATH) -> str:
        return super().url(path)


def snapshot(cache: AllowListCache) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(cache.directory.iterdir())}


def conditional(body: bytes) -> Callable[[Request], Reply]:
    """A route that answers 304 when the request carries the validators of ``body``."""

    def route(request: Request) -> Reply:
        if request.headers.get("if-none-match") == ETAG or request.headers.get("if-modified-since") == MODIFIED:
            return Reply(status=304, headers={"ETag": ETAG})
        return Reply(body=body, headers={"ETag": ETAG, "Last-Modified": MODIFIED, "Content-Type": "application/xml"})

    return route


# A server that trickles: each byte in time for the per-read timeout (the hang guard here), the whole reply some ten
# seconds, max_duration half a second. The checks are counts, never durations: the fetch says that the deadline passed,
# and the server had not written its whole reply when the fetch returned (the client hung up first).
TRICKLES = {
    "headers": Reply(body=SMALL, head_drip=0.1),  # the status line and headers, a byte at a time
    "body": Reply(body=SMALL * 2, drip=0.1, piece=16),  # the body, 16 bytes at a time: never a whole chunk
}
DEADLINE = 0.5


class Mute:
    """A TCP server on the loopback that accepts one connection and never answers: a TLS handshake that stalls.

    It holds the connection for some ten seconds at most, and records whether the client hung up first; ``ended`` is
    set once it knows.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.client_hung_up = False
        self.ended = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._hold)
        self._thread.start()

    def _hold(self) -> None:
        try:
            self._serve()
        finally:
            self.ended.set()

    def _serve(self) -> None:
        self._listener.settimeout(HANG_GUARD)
        try:
            connection, _ = self._listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(0.1)
            for _ in range(100):  # ten seconds at most, a tenth at a time
                if self._stop.is_set():
                    return
                try:
                    if connection.recv(4096) == b"":
                        self.client_hung_up = True
                        return
                except TimeoutError:
                    continue
                except OSError:
                    self.client_hung_up = True
                    return

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(HANG_GUARD)
        assert not self._thread.is_alive()


def damage_metadata(cache: AllowListCache) -> None:
    cache.metadata_path.write_text("{not json")


def damage_document(cache: AllowListCache) -> None:
    cached = cache.load()
    assert cached is not None
    cached.path.write_bytes(SMALL.replace(b"hopital-a", b"hopital-z"))  # a valid list, but not the one stored


def remove_document(cache: AllowListCache) -> None:
    for path in cache.directory.glob("*.xml"):
        path.unlink()


def wrong_fields(cache: AllowListCache) -> None:
    meta = json.loads(cache.metadata_path.read_text())
    cache.metadata_path.write_text(json.dumps({**meta, "fetched_at": "yesterday"}))


def not_an_object(cache: AllowListCache) -> None:
    cache.metadata_path.write_text("[]")


def not_a_list(cache: AllowListCache) -> None:
    """A document that is not an allow-list, with metadata that names it faithfully."""
    meta = json.loads(cache.metadata_path.read_text())
    remove_document(cache)
    document = b"<ListeBlancheMSSante/>"
    meta["sha256"] = hashlib.sha256(document).hexdigest()
    (cache.directory / f"listeblanchemssante-{meta['sha256']}.xml").write_bytes(document)
    cache.metadata_path.write_text(json.dumps(meta))
