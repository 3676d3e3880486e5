"""Decide who may relay mail to you: the inbound policy of an MSSanté operator.

The real ANS allow-list of 2025-03-13 (an excerpt ships with ``mssante.testing``) lists ``uc-cmp.mssante.fr`` with
one operator certificate, ``CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR``.
A throw-away IGC Santé-shaped PKI issues a certificate with that subject, and one for an operator that is not
listed; the ``InboundPolicy`` decides for each, with the line a Postfix policy service would answer. Offline.
"""

from __future__ import annotations

import datetime as dt

from mssante import pki
from mssante.testing import TestPki, sample_path
from mssante.transport import InboundPolicy, postfix_policy_answer, read_policy_request
from mssante.trustspace import AllowList

ALLOWLIST = sample_path("listeblanchemssante-2025-03-13-excerpt.xml")
AT = dt.datetime(2025, 3, 14, 9, 0, tzinfo=dt.timezone.utc)


def main() -> None:
    allow = AllowList.load(ALLOWLIST)
    igc = TestPki.create(environment=pki.Environment.PROD, at=AT)
    store = pki.TrustStore.from_certificates([*igc.anchors, *igc.intermediates], environment="prod")
    revocation = pki.RevocationChecker(crls=[igc.crl("ACI-EL-ORG"), igc.crl("ACR-EL")])
    policy = InboundPolicy(allow, store, revocation=revocation, max_age=dt.timedelta(days=2))

    mipih = igc.server(
        ["medimail-asip.mipih.fr"],
        structure="318310021300028",
        organisation="GIP MIPIH",
        department="Haute-Garonne (31)",
    )
    unlisted = igc.server(["mx.autre-operateur.fr"])

    # What Postfix sends to a policy service (check_policy_service), one attribute a line, ended by an empty line.
    request = read_policy_request(["request=smtpd_access_policy\n", "sender=secretariat@UC-CMP.mssante.fr\n", "\n"])
    cases = [
        ("listed peer", mipih.pem(), request["sender"]),
        ("unlisted peer", unlisted.pem(), request["sender"]),
        ("listed peer, other domain", mipih.pem(), "contact@inconnu.mssante.fr"),
        ("bounce from listed peer", mipih.pem(), ""),
        ("no client certificate", None, request["sender"]),
    ]
    for label, certificate, sender in cases:
        decision = policy.decide(client_certificate=certificate, envelope_sender=sender, at=AT)
        print(f"{label:26} {decision.action:6} {postfix_policy_answer(decision)}")

    unknown = InboundPolicy(allow, store)  # no CRL given: the revocation status is unknown, so the sender retries
    decision = unknown.decide(client_certificate=mipih.pem(), envelope_sender=request["sender"], at=AT)
    print(f"{'listed peer, no CRL':26} {decision.action:6} {postfix_policy_answer(decision)}")


if __name__ == "__main__":
    main()
