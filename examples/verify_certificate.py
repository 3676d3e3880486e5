"""Verify an operator's server certificate against IGC Santé, as an MSSanté peer would.

A throw-away PKI shaped like IGC Santé (``mssante.testing.TestPki``) issues an operator certificate (SERV SSL);
``mssante.pki.verify`` accepts it for its host name, with the CRLs of its CAs, and refuses the usual defects: another
host name, a revoked certificate, no revocation information, and a look-alike hierarchy with the same names but
other keys. Offline; prints one line per case.
"""

from __future__ import annotations

import datetime as dt

from mssante import pki
from mssante.testing import TestPki

AT = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
HOST = "mx.chu-exemple.mssante.fr"


def main() -> None:
    igc = TestPki.create(environment=pki.Environment.PROD, at=AT)
    store = pki.TrustStore.from_certificates([*igc.anchors, *igc.intermediates], environment="prod")
    operator = igc.server([HOST], structure="318751275100020", organisation="CHU EXEMPLE")
    revoked = igc.server([HOST])
    crls = pki.RevocationChecker(crls=[igc.crl("ACI-EL-ORG", revoked=[revoked]), igc.crl("ACR-EL")])
    look_alike = TestPki.create(environment=pki.Environment.PROD, at=AT).server([HOST])  # same names, other keys

    cases = [
        ("operator certificate", operator, HOST, crls),
        ("another host name", operator, "mx.autre.mssante.fr", crls),
        ("revoked", revoked, HOST, crls),
        ("no CRL at hand", operator, HOST, pki.RevocationChecker()),
        ("look-alike hierarchy", look_alike, HOST, crls),
    ]
    for label, issued, host, revocation in cases:
        result = pki.verify(issued.certificate, purpose="server", store=store, at=AT, host=host, revocation=revocation)
        verdict = "accepted" if result.ok else "refused "
        errors = ", ".join(sorted({finding.code for finding in result.report.errors})) or "-"
        print(f"{label:22} {verdict} {errors}")

    result = pki.verify(operator.certificate, purpose="server", store=store, at=AT, host=HOST, revocation=crls)
    assert result.ok
    assert result.profile is not None
    print(f"profile {result.profile.value}, structure {result.identity.structure}, names {result.identity.fqdns}")


if __name__ == "__main__":
    main()
