"""Fetching revocation information: CRLs and OCSP responses over HTTP, through an on-disk CRL cache.

:class:`AsyncCrlFetcher` (over ``httpx.AsyncClient``; its sync twin :class:`~mssante.pki.CrlFetcher` over
``httpx.Client``) downloads the CRLs named in a certificate's HTTP distribution points and POSTs OCSP requests to its
responder. It never decides a status: give what it returns to :class:`~mssante.pki.RevocationChecker`.

- Only ``http`` and ``https`` URLs are fetched; an LDAP-only distribution point gives an info finding and any
  other scheme a warning.
- Bodies are bounded (``max_bytes``, 64 MiB by default for CRLs, 1 MiB for OCSP), must not be content-encoded
  (``Accept-Encoding: identity`` is sent, so a compression bomb cannot inflate), and each network operation has a
  ``timeout``. Each call (``fetch``, ``checker_for``, ``ocsp``) has ``max_duration`` as a whole, every URL it tries,
  each redirection, the handshake and the headers included: a server that trickles its bytes cannot stretch it, and
  a URL not yet tried when it passes is not asked.
- A ``progress`` callback hears of each body as it arrives (bytes so far, declared length), for a progress bar.
- Every ``httpx`` error becomes a finding (``fetch``) or a :class:`~mssante.pki.RevocationFetchError` (``ocsp``).
- With a :class:`~mssante.pki.CrlCache`, a CRL still fresh at ``at`` (before its nextUpdate, and issued less than
  ``refresh_after`` ago: a day by default, as IGC Santé publishes daily) is not downloaded again, another one is
  re-validated with ``If-None-Match``/``If-Modified-Since``, and a download replaces it only when it parsed, its
  signature verified for the issuer and it is not older. Otherwise the last valid CRL is kept and returned.

The ASIP/ANS etiquette is the caller's to follow: fetch only the CRLs needed, at their publication rhythm
(IGC Santé publishes every morning from 07:00), at a randomised time, and close the fetcher when done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import httpx
from cryptography import x509

from mssante.net._async._exchange import AsyncClientOwner, attempt
from mssante.net._http import DEFAULT_MAX_DURATION, DEFAULT_TIMEOUT, Answer, Deadline, Failure
from mssante.net._revocation import RevocationShell, fetch_error
from mssante.pki import (
    DEFAULT_MAX_CRL_BYTES,
    CrlCache,
    IndexedCrl,
    RevocationChecker,
    RevocationFetchError,
    RevocationMode,
    TrustStore,
)
from mssante.pki.fetching import (
    DEFAULT_REFRESH_AFTER,
    MAX_OCSP_RESPONSE_BYTES,
    OCSP_REQUEST_TYPE,
    OCSP_RESPONSE_TYPE,
    aware_utc,
    build_ocsp_request,
    distribution_points,
    ocsp_body,
    ocsp_urls,
    path_to_anchor,
)
from mssante.report import Finding

__all__ = ["AsyncCrlFetcher"]


class AsyncCrlFetcher(AsyncClientOwner, RevocationShell):
    """Download CRLs and OCSP responses with an ``httpx.AsyncClient``; see the module documentation.

    Without ``client``, one is made (it follows redirects; ``aclose`` closes it); a given client is used as
    configured and stays the caller's. ``timeout`` applies per request either way. ``refresh_after`` (None:
    only at nextUpdate) is the age past which a cached CRL is asked for again. ``progress``, when given, hears
    of each body as it arrives: it is called with the bytes received so far and the length the server declared
    (None when it declared none), once with 0 as a body starts and then after each chunk; an exception it raises
    ends the fetch. The fetcher is a context manager. The cache is read and written with blocking file I/O (small
    files, once per URL).
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        cache: CrlCache | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_CRL_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        max_duration: float = DEFAULT_MAX_DURATION,
        crl_signers: Iterable[x509.Certificate] = (),
        refresh_after: timedelta | None = DEFAULT_REFRESH_AFTER,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        super().__init__(
            cache=cache, max_bytes=max_bytes, timeout=timeout, max_duration=max_duration, crl_signers=crl_signers,
            refresh_after=refresh_after, progress=progress,
        )  # fmt: skip
        self._owned = client is None
        self.client = client if client is not None else httpx.AsyncClient(timeout=timeout, follow_redirects=True)

    async def fetch(
        self, cert: x509.Certificate, issuer: x509.Certificate, *, at: datetime
    ) -> tuple[list[IndexedCrl], list[Finding]]:
        """The CRLs of ``cert``'s HTTP distribution points (one per point), verified for ``issuer``, and findings.

        ``at`` decides whether a cached CRL is still fresh and when CRL signers must be valid. The whole call has
        ``max_duration``: a URL not tried when it passes is not asked (a download failure finding says so).
        """
        return await self._fetch(cert, issuer, at=at, deadline=Deadline.after(self.max_duration))

    async def _fetch(
        self, cert: x509.Certificate, issuer: x509.Certificate, *, at: datetime, deadline: Deadline
    ) -> tuple[list[IndexedCrl], list[Finding]]:
        at = aware_utc(at)
        plan, findings = distribution_points(cert)
        crls: list[IndexedCrl] = []
        for urls in plan:
            for url in urls:
                cached, fresh, notes = self._cached(url, at)
                crl: IndexedCrl | None = fresh
                if crl is None:
                    answer = await self._answer(
                        "GET", url, headers=self._crl_headers(cached), max_bytes=self.max_bytes, deadline=deadline
                    )
                    crl, notes = self._settle(url, answer, issuer, at=at, cached=cached)
                findings += notes
                if crl is not None:
                    crls.append(crl)
                    break
        return crls, findings

    async def checker_for(
        self,
        certificate: x509.Certificate,
        *,
        store: TrustStore,
        at: datetime,
        mode: RevocationMode | str = RevocationMode.HARD,
    ) -> tuple[RevocationChecker, list[Finding]]:
        """A :class:`~mssante.pki.RevocationChecker` holding the CRLs of ``certificate`` and of each CA above it.

        For a peer met at connection time (the transports do this when given a fetcher as ``revocation``):
        the CRLs come from the distribution points of the certificates themselves, through the cache; the
        findings say what could not be had, and a certificate whose CRL is missing is then of unknown status.
        The whole call has ``max_duration`` (not each CRL), so that a connection waits that long at most.
        """
        crls: list[IndexedCrl] = []
        findings: list[Finding] = []
        deadline = Deadline.after(self.max_duration)
        for subject, issuer in path_to_anchor(certificate, store):
            got, notes = await self._fetch(subject, issuer, at=at, deadline=deadline)
            crls += got
            findings += notes
        return RevocationChecker(crls=crls, mode=RevocationMode(mode), crl_signers=self.crl_signers), findings

    async def ocsp(self, cert: x509.Certificate, issuer: x509.Certificate) -> bytes | None:
        """The DER OCSP response for ``cert`` from its responder (AIA, http only), or None when it names none.

        Raises :class:`~mssante.pki.RevocationFetchError` when no responder gave a readable OCSP response. The
        whole call has ``max_duration``.
        """
        urls = ocsp_urls(cert)
        if not urls:
            return None
        request = build_ocsp_request(cert, issuer)
        headers = {"Content-Type": OCSP_REQUEST_TYPE, "Accept": OCSP_RESPONSE_TYPE, "Accept-Encoding": "identity"}
        error = RevocationFetchError("no OCSP responder", url="")
        deadline = Deadline.after(self.max_duration)
        for url in urls:
            answer = await self._answer(
                "POST", url, headers=headers, content=request, max_bytes=MAX_OCSP_RESPONSE_BYTES, deadline=deadline
            )
            if isinstance(answer, Failure):
                error = fetch_error("POST", url, answer)
                continue
            try:
                return ocsp_body(url, answer.status, answer.body)
            except RevocationFetchError as refused:
                error = refused
        raise error

    async def _answer(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        max_bytes: int,
        deadline: Deadline,
        content: bytes | None = None,
    ) -> Answer | Failure:
        ask = self._exchange(method, url, headers=headers, max_bytes=max_bytes, deadline=deadline, content=content)
        return await attempt(self.client, ask)
