"""The certificates and the trust store the options of a command name (``--trust-anchor``, ``--env``,
``--add-ca``), shared by ``cert verify``, ``send`` and ``fetch``."""

from __future__ import annotations

import argparse

from cryptography import x509

from mssante.cli._inputs import read_bounded
from mssante.pki import MAX_INPUT_BYTES, Environment, TrustStore, load_certificates

__all__ = ["certificates_of", "read_certificate_file", "trust_store"]


def read_certificate_file(path: str) -> bytes:
    """The bytes of a certificate, key or OCSP file given on the command line (at most the PKI input limit)."""
    return read_bounded(path, limit=MAX_INPUT_BYTES)


def certificates_of(paths: list[str]) -> list[x509.Certificate]:
    """The certificates of the files ``paths`` (PEM, DER or PKCS#7), in order."""
    return [certificate for path in paths for certificate in load_certificates(read_certificate_file(path), what=path)]


def trust_store(args: argparse.Namespace) -> TrustStore:
    """The anchors of ``--trust-anchor``, or the bundled IGC Santé hierarchy of ``--env``; with ``--add-ca``.

    Anchors without a self-signed root are refused by :meth:`~mssante.pki.TrustStore.from_certificates`. The CA
    files of ``--add-ca`` are each checked against the pin mssante holds for them
    (:meth:`~mssante.pki.TrustStore.with_published_cas`): one that does not match is input that cannot be used.
    """
    environment = Environment(args.env)
    if not args.trust_anchor:
        store = TrustStore.bundled(environment)
    else:
        store = TrustStore.from_certificates(certificates_of(args.trust_anchor), environment=environment)
    added = getattr(args, "add_ca", [])
    return store.with_published_cas(certificates_of(added)) if added else store
