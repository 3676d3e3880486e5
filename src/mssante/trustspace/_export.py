"""Postfix tables made from the allow-list, and the IGC Santé CA file Postfix verifies peers with.

Every function returns the text of one file, the same for the same input (sorted, no clock),
headed by ``#`` comments that say what made it. Domains and certificate names are written only
after they parse as host names, and every comment is one line, so a hostile list cannot add a
line of its own to a table.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from mssante.addresses import normalise_domain
from mssante.errors import InvalidAddress
from mssante.pki import TrustStore
from mssante.trustspace._allowlist import AllowList
from mssante.trustspace._diff import iso_time, operators_by_domain
from mssante.trustspace._dn import OperatorDn

__all__ = ["igc_sante_cafile", "postfix_sender_access", "postfix_tls_policy"]


def _comment(text: str) -> str:
    """``text`` as one ``#`` line: whitespace runs become one space, other control characters are escaped."""
    flat = " ".join(text.split())
    return "# " + "".join(char if char.isprintable() else ascii(char)[1:-1] for char in flat)


def _header(allow: AllowList, *lines: str) -> str:
    """The ``#`` lines that say what a table was made from, and a blank line."""
    source = f"MSSanté allow-list generated {iso_time(allow.generated)}, sha256 {allow.sha256}"
    return "".join(f"{_comment(line)}\n" for line in (source, *lines)) + "\n"


def _skipped_entries(allow: AllowList, listed: Iterable[str]) -> dict[str, str]:
    """The names of entries that allow nothing (a name or DN that does not parse), when no usable entry covers them."""
    covered = set(listed)
    return {
        entry.domain: f"{entry.name}: left out: the entry does not parse (name or DN; see the allow-list report)"
        for entry in allow.entries
        if not entry.usable and entry.domain not in covered
    }


def _host_name(dn: OperatorDn) -> str | None:
    """The DN's CN as a lower-case host name, or None when it has none (or not one Postfix can match)."""
    if dn.common_name is None:
        return None
    try:
        return normalise_domain(dn.common_name)
    except InvalidAddress:
        return None


def _lines(rows: dict[str, str]) -> str:
    return "".join(f"{row}\n" for _, row in sorted(rows.items()))


def postfix_tls_policy(allow: AllowList) -> str:
    """The ``smtp_tls_policy_maps`` table: ``<domain> secure match=<cn1>:<cn2>`` per allowed domain.

    The names are the common names of the domain's operator DNs: Postfix at level ``secure``
    verifies the MX's chain against ``smtp_tls_CAfile`` and requires one of these names in its
    certificate. A domain none of whose DNs has a CN that is a host name is left out, with a
    comment line saying why; when only some have one, the others are named in a comment (mail
    to an MX presenting them is then deferred, never sent unverified).
    """
    rows: dict[str, str] = {}
    written = 0
    operators = operators_by_domain(allow)
    for domain, dns in operators.items():
        names = {dn: _host_name(dn) for dn in dns}
        usable = sorted({name for name in names.values() if name is not None})
        unnamed = "; ".join(sorted(str(dn) for dn, name in names.items() if name is None))
        if not usable:
            rows[domain] = _comment(f"{domain}: left out: no operator DN has a CN that is a host name: {unnamed}")
            continue
        written += 1
        line = f"{domain} secure match={':'.join(usable)}"
        rows[domain] = f"{_comment(f'{domain}: no CN usable as a name in: {unnamed}')}\n{line}" if unnamed else line
    rows.update({domain: _comment(why) for domain, why in _skipped_entries(allow, operators).items()})
    header = _header(
        allow,
        "smtp_tls_policy_maps: the certificate names each MSSanté domain's MX must present (level secure).",
        f"{written} domains.",
    )
    return header + _lines(rows)


def postfix_sender_access(allow: AllowList, *, null_sender: bool = True) -> str:
    """An access(5) table for ``check_sender_access``: ``<domain> OK`` per allowed domain.

    With ``smtpd_sender_restrictions = check_sender_access texthash:<file>, reject`` only senders
    of allow-listed domains pass. ``null_sender`` adds ``<> OK`` so that delivery status
    notifications (empty sender) from other operators are accepted. Which operator may send
    for which domain is not in this table: Postfix's ``check_ccert_access`` looks up certificate
    fingerprints, which the list does not give; compare the client certificate's name with
    :meth:`AllowList.operators` in a policy service instead.
    """
    operators = operators_by_domain(allow)
    rows = {domain: f"{domain} OK" for domain in operators}
    rows.update({domain: _comment(why) for domain, why in _skipped_entries(allow, operators).items()})
    header = _header(
        allow,
        "check_sender_access: the sender domains of the MSSanté allow-list; end the restriction list with reject.",
        f"{len(operators)} domains" + (", and the null sender of delivery status notifications." if null_sender
                                       else "."),
    )  # fmt: skip
    return header + ("<> OK\n" if null_sender else "") + _lines(rows)


def _fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def _pem_block(certificate: x509.Certificate) -> str:
    return "\n".join(
        [
            _comment(f"subject: {certificate.subject.rfc4514_string()}"),
            _comment(f"valid until {iso_time(certificate.not_valid_after_utc)}, sha256 {_fingerprint(certificate)}"),
            certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        ]
    )


def igc_sante_cafile(store: TrustStore) -> str:
    """The PEM bundle of a trust store's anchors and intermediates, for ``smtp_tls_CAfile`` and ``smtpd_tls_CAfile``.

    IGC Santé servers do not always send their intermediate CA, so both are in the file.
    """

    def ordered(certificates: Iterable[x509.Certificate]) -> list[x509.Certificate]:
        return sorted(certificates, key=lambda c: (c.subject.rfc4514_string(), _fingerprint(c)))

    head = _comment(
        f"IGC Santé {store.environment.value}: {len(store.anchors)} root(s) and {len(store.intermediates)} "
        "intermediate CA(s), for smtp_tls_CAfile and smtpd_tls_CAfile."
    )
    blocks = [_pem_block(certificate) for certificate in (*ordered(store.anchors), *ordered(store.intermediates))]
    return f"{head}\n\n" + "\n".join(blocks)
