"""The revocation status of a server certificate as a probe fetches it: the CRLs of its path and, where a
certificate names an OCSP responder (authority information access), that responder's answer too.

A :class:`~mssante.pki.CrlFetcher` does the downloads; a :class:`~mssante.pki.RevocationChecker` holding both
decides, by the SDK's one rule: a revocation proven by either source wins, a fresh good answer of either proves the
certificate not revoked, and nothing proven is an unknown status (an error in ``hard`` mode, a warning in
``soft``). A responder that gives no usable answer is a warning (``MSS-PRB-031``): the CRLs may still prove the
status.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509

from mssante.pki import CrlFetcher, RevocationChecker, RevocationFetchError, RevocationMode, TrustStore
from mssante.pki.fetching import ocsp_urls, path_to_anchor
from mssante.probe import codes
from mssante.report import Finding

__all__ = ["fetched_checker"]


def fetched_checker(
    fetcher: CrlFetcher,
    certificate: x509.Certificate,
    *,
    store: TrustStore,
    at: dt.datetime,
    mode: RevocationMode | str = RevocationMode.HARD,
) -> tuple[RevocationChecker, list[Finding]]:
    """A checker holding the CRLs and the OCSP responses of ``certificate`` and of each CA above it in ``store``,
    and the findings of their downloads. Each download has the fetcher's ``max_duration``."""
    crls = []
    responses: list[bytes] = []
    findings: list[Finding] = []
    for subject, issuer in path_to_anchor(certificate, store):
        got, notes = fetcher.fetch(subject, issuer, at=at)
        crls += got
        findings += notes
        if not ocsp_urls(subject):
            continue
        try:
            response = fetcher.ocsp(subject, issuer)
        except RevocationFetchError as error:
            name = subject.subject.rfc4514_string()
            findings.append(codes.OCSP_FAILED(f"{name} (serial {subject.serial_number:x}): {error}", where="ocsp"))
            continue
        if response is not None:
            responses.append(response)
    checker = RevocationChecker(crls=crls, ocsp_responses=responses, mode=mode, crl_signers=fetcher.crl_signers)
    return checker, findings
