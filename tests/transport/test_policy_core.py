"""The policy service without Postfix: the decisions, the connection's protocol state, hostile requests."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.pki import Environment, RevocationChecker, TrustStore
from mssante.testing import TestPki
from mssante.transport._policy import MAX_POLICY_ATTRIBUTES, MAX_POLICY_LINE
from mssante.transport._policy_service import (
    MAX_LINE_BYTES,
    BadRequest,
    PolicyAnswer,
    PolicyConnection,
    PolicyRequest,
    PolicyService,
    bad_request,
    certificate_index,
)
from mssante.trustspace import AllowList, OperatorDn

AT = dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc)
DOMAIN = "clinique.mssante.fr"
SENDER = f"secretariat@{DOMAIN}"


def listing(*entries: tuple[str, x509.Certificate], generated: str = "2026-06-01T00:00:00Z") -> bytes:
    """An allow-list naming each certificate's subject for its domain."""
    domains = "".join(
        f"<Domaine><Nom>{domain}</Nom><Description>d</Description><DNCertificatOperateur>"
        f"{OperatorDn.from_name(certificate.subject)}</DNCertificatOperateur><ResponsableContact>r"
        "</ResponsableContact><SupportContact>s</SupportContact><DateMAJ>2026-06-01T00:00:00Z</DateMAJ></Domaine>"
        for domain, certificate in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
        f"<DateDeGeneration>{generated}</DateDeGeneration><ListeDomaines>{domains}</ListeDomaines>"
        "</ListeBlancheMSSante>"
    ).encode()


def allowlist(*entries: tuple[str, x509.Certificate], generated: str = "2026-06-01T00:00:00Z") -> AllowList:
    return AllowList.parse(listing(*entries, generated=generated))


def sha256(certificate: x509.Certificate) -> str:
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest())


def cn(name: x509.Name) -> str:
    return str(name.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value)


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=AT)


@pytest.fixture(scope="module")
def peer(pki: TestPki) -> x509.Certificate:
    return pki.server(["relay.clinique.example"], organisation="OPERATEUR-CLINIQUE").certificate


@pytest.fixture(scope="module")
def store(pki: TestPki) -> TrustStore:
    return TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment="prod")


@pytest.fixture(scope="module")
def crls(pki: TestPki) -> RevocationChecker:
    return RevocationChecker(crls=[pki.crl("ACI-EL-ORG"), pki.crl("ACR-EL")])


def attributes(peer: x509.Certificate | None, *, sender: str = SENDER, xtext: bool = True) -> dict[str, str]:
    request = {
        "request": "smtpd_access_policy", "protocol_state": "RCPT", "protocol_name": "ESMTP",
        "client_address": "192.0.2.7", "client_name": "relay.clinique.example", "sender": sender,
        "recipient": "dr.martin@hopital.mssante.fr", "encryption_protocol": "TLSv1.3", "ccert_subject": "",
        "ccert_issuer": "", "ccert_fingerprint": "",
    }  # fmt: skip
    if peer is not None:
        issuer = cn(peer.issuer)
        request |= {
            "ccert_subject": cn(peer.subject),
            "ccert_issuer": issuer.replace(" ", "+20") if xtext else issuer,
            "ccert_fingerprint": sha256(peer),
        }
    return request


def service(
    store: TrustStore, peer: x509.Certificate, revocation: object, *, cached: bool, **options: object
) -> PolicyService:
    return PolicyService(
        allowlist((DOMAIN, peer)), store, certificates=certificate_index([peer]) if cached else None,
        revocation=revocation, **options,  # type: ignore[arg-type]
    )  # fmt: skip


def decide(policy: PolicyService, request: dict[str, str]) -> PolicyAnswer:
    return policy.decide(PolicyRequest.from_attributes(request), at=AT)


# --- decisions ----------------------------------------------------------------------------------------------------


def test_a_cached_listed_certificate_is_checked_whole_and_accepted(
    store: TrustStore, peer: x509.Certificate, crls: RevocationChecker
) -> None:
    answer = decide(service(store, peer, crls, cached=True), attributes(peer))
    assert answer.action == "DUNNO", answer.report
    assert answer.line == "action=DUNNO"
    assert answer.encode() == b"action=DUNNO\n\n"
    assert answer.code == "MSS-WL-014"
    assert "MSS-REV-004" in answer.report.codes  # the CRL proved it not revoked


def test_a_revoked_cached_certificate_is_rejected(pki: TestPki, store: TrustStore) -> None:
    issued = pki.server(["relay.revoque.example"], organisation="OPERATEUR-CLINIQUE")
    issuer = pki.issuer_of(issued.certificate)
    name = next(name for name in ("ACI-EL-ORG", "ACI-EL-PER") if pki.ca(name) is issuer)
    revoked = RevocationChecker(crls=[pki.crl(name, [issued]), pki.crl("ACR-EL")])
    answer = decide(service(store, issued.certificate, revoked, cached=True), attributes(issued.certificate))
    assert answer.action == "REJECT"
    assert "MSS-REV-002" in answer.line


@pytest.mark.parametrize(("mode", "code"), [("soft", "MSS-REV-001"), ("off", "MSS-REV-003")])
def test_an_uncached_certificate_is_decided_by_its_cn_in_soft_and_off_modes(
    store: TrustStore, peer: x509.Certificate, mode: str, code: str
) -> None:
    answer = decide(service(store, peer, mode, cached=False), attributes(peer))
    assert answer.action == "DUNNO"
    assert answer.report.ok
    assert code in answer.report.codes
    assert answer.code == "MSS-WL-014"


@pytest.mark.parametrize("mode", ["hard", "checker"])
def test_an_uncached_certificate_is_deferred_in_hard_mode(
    store: TrustStore, peer: x509.Certificate, crls: RevocationChecker, mode: str
) -> None:
    answer = decide(service(store, peer, crls if mode == "checker" else mode, cached=False), attributes(peer))
    assert answer.action == "DEFER"
    assert answer.line.startswith("action=DEFER 4.7.1 MSS-REV-001 ")


@pytest.mark.parametrize("cached", [True, False])
def test_a_certificate_not_listed_for_the_sender_domain_is_rejected(
    pki: TestPki, store: TrustStore, peer: x509.Certificate, crls: RevocationChecker, cached: bool
) -> None:
    other = pki.server(["relay.autre.example"], organisation="AUTRE").certificate
    policy = PolicyService(
        allowlist((DOMAIN, peer), ("autre.mssante.fr", other)), store,
        certificates=certificate_index([other]) if cached else None, revocation="soft" if not cached else crls,
    )  # fmt: skip
    answer = decide(policy, attributes(other))
    assert answer.action == "REJECT"
    assert answer.line.startswith("action=REJECT 5.7.1 MSS-WL-013 ")


@pytest.mark.parametrize("cached", [True, False])
def test_an_unlisted_sender_domain_is_rejected(
    store: TrustStore, peer: x509.Certificate, crls: RevocationChecker, cached: bool
) -> None:
    policy = service(store, peer, crls if cached else "soft", cached=cached)
    answer = decide(policy, attributes(peer, sender="someone@inconnu.mssante.fr"))
    assert answer.action == "REJECT"
    assert answer.code == "MSS-WL-011"


@pytest.mark.parametrize("cached", [True, False])
def test_the_null_sender_is_accepted_from_a_listed_operator(
    store: TrustStore, peer: x509.Certificate, crls: RevocationChecker, cached: bool
) -> None:
    answer = decide(service(store, peer, crls if cached else "soft", cached=cached), attributes(peer, sender=""))
    assert answer.action == "DUNNO", answer.report


def test_a_bad_sender_address_is_rejected_with_its_code(store: TrustStore, peer: x509.Certificate) -> None:
    answer = decide(service(store, peer, "soft", cached=False), attributes(peer, sender="not an address"))
    assert answer.action == "REJECT"
    assert answer.code.startswith("MSS-ADR-")


def test_no_certificate_and_an_unverified_one_are_rejected(store: TrustStore, peer: x509.Certificate) -> None:
    policy = service(store, peer, "soft", cached=False)
    none = decide(policy, attributes(None))
    assert none.line.startswith("action=REJECT 5.7.1 MSS-PKI-001 ")
    unverified = attributes(peer) | {"ccert_subject": "", "ccert_issuer": ""}
    assert decide(policy, unverified).line.startswith("action=REJECT 5.7.1 MSS-PKI-008 ")
    foreign_issuer = attributes(peer) | {"ccert_issuer": "Some+20Other+20CA"}
    assert decide(policy, foreign_issuer).code == "MSS-PKI-008"


def test_the_issuer_is_read_with_or_without_xtext(store: TrustStore, peer: x509.Certificate) -> None:
    policy = service(store, peer, "soft", cached=False)
    assert decide(policy, attributes(peer, xtext=False)).action == "DUNNO"
    assert decide(policy, attributes(peer, xtext=True)).action == "DUNNO"


def test_an_allow_list_older_than_max_age_defers_every_answer(
    store: TrustStore, peer: x509.Certificate, crls: RevocationChecker
) -> None:
    policy = service(store, peer, crls, cached=True, max_age=dt.timedelta(hours=1))
    answer = decide(policy, attributes(peer))
    assert answer.line.startswith("action=DEFER 4.7.1 MSS-WL-015 ")
    policy.replace(allowlist=allowlist((DOMAIN, peer), generated="2026-06-01T11:30:00Z"))
    assert decide(policy, attributes(peer)).action == "DUNNO"


def test_replace_swaps_the_allow_list_and_the_cache(
    pki: TestPki, store: TrustStore, peer: x509.Certificate, crls: RevocationChecker
) -> None:
    policy = service(store, peer, crls, cached=True)
    other = pki.server(["relay.autre.example"], organisation="AUTRE").certificate
    policy.replace(allowlist=allowlist((DOMAIN, other)))
    assert decide(policy, attributes(peer)).code == "MSS-WL-013"
    policy.replace(certificates={})
    assert policy.certificates == {}
    assert decide(policy, attributes(other)).code == "MSS-REV-001"  # listed, but no longer in the cache


def test_an_answer_is_one_printable_line_of_bounded_length() -> None:
    answer = bad_request("x\r\n\x00é" * 200)
    line = answer.line
    assert line.startswith("action=DEFER 4.7.1 MSS-POL-001 ")
    assert "\n" not in line
    assert "\r" not in line
    assert len(line) < 250
    assert answer.encode().endswith(b"\n\n")


# --- the protocol state of a connection ---------------------------------------------------------------------------


def request_bytes(request: dict[str, str]) -> bytes:
    return "".join(f"{name}={value}\n" for name, value in request.items()).encode() + b"\n"


def test_several_requests_on_one_connection_in_any_chunks(peer: x509.Certificate) -> None:
    data = b"\n" + request_bytes(attributes(peer)) + request_bytes(attributes(None, sender=""))
    for size in (1, 7, 64, len(data)):
        connection = PolicyConnection()
        events = [
            event for start in range(0, len(data), size) for event in connection.receive(data[start : start + size])
        ]
        assert [event["sender"] for event in events if isinstance(event, dict)] == [SENDER, ""]
        assert connection.idle


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"sender=a@b.fr\n" + b"x" * (MAX_LINE_BYTES + 1), "longer than"),
        (b"sender=" + b"x" * (MAX_POLICY_LINE + 1) + b"\n\n", "longer than"),
        (b"sender=\xff\xfe\n\n", "not UTF-8"),
        (b"recipient=a@b.fr\n\n", "no sender"),
        (b"sender=a\r\n\n", "CR"),
        (b"no equals sign\n\n", "not name=value"),
        (b"".join(b"a%d=1\n" % n for n in range(MAX_POLICY_ATTRIBUTES + 1)), "more than"),
        (b"sender=\nsender=\n\n", "twice"),
    ],
)
def test_hostile_requests_end_the_connection(data: bytes, message: str) -> None:
    connection = PolicyConnection()
    events = connection.receive(data)
    assert len(events) == 1
    assert isinstance(events[0], BadRequest)
    assert message in events[0].message
    assert connection.closed
    assert connection.receive(request_bytes({"sender": ""})) == []


def test_a_request_without_its_empty_line_is_held_not_answered() -> None:
    connection = PolicyConnection()
    assert connection.receive(b"sender=a@b.fr\nrecipient=c@d.fr\n") == []
    assert not connection.idle


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=20))
def test_any_bytes_give_requests_or_one_refusal_and_stay_bounded(chunks: list[bytes]) -> None:
    connection = PolicyConnection()
    for chunk in chunks:
        for event in connection.receive(chunk):
            if isinstance(event, dict):
                assert "sender" in event
                assert len(event) <= MAX_POLICY_ATTRIBUTES
        assert len(connection._partial) <= MAX_LINE_BYTES
        assert len(connection._lines) <= MAX_POLICY_ATTRIBUTES + 1


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True),
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00"), max_size=50),
        max_size=20,
    ),
    st.emails(),
)
def test_well_formed_requests_are_read_back_whole(extra: dict[str, str], sender: str) -> None:
    request = {**extra, "sender": sender}
    events = PolicyConnection().receive(request_bytes(request))
    assert events == [request]


def test_a_whole_check_is_kept_for_the_same_certificate_and_sender_until_its_ttl_or_a_reload(
    store: TrustStore, peer: x509.Certificate, crls: RevocationChecker
) -> None:
    policy = service(store, peer, crls, cached=True, decision_ttl=dt.timedelta(seconds=60))
    request = PolicyRequest.from_attributes(attributes(peer))
    first = policy.decide(request, at=AT)
    assert policy.decide(request, at=AT + dt.timedelta(seconds=59)) is first
    assert policy.decide(request, at=AT + dt.timedelta(seconds=60)) is not first
    other_sender = PolicyRequest.from_attributes(attributes(peer, sender=""))
    assert policy.decide(other_sender, at=AT) is not first
    policy.replace(allowlist=policy.allowlist)
    assert policy.decide(request, at=AT) is not first
    none_kept = service(store, peer, crls, cached=True, decision_ttl=dt.timedelta(0))
    assert none_kept.decide(request, at=AT) is not none_kept.decide(request, at=AT)


def test_with_recipient_domains_a_recipient_of_another_domain_is_rejected(
    store: TrustStore, peer: x509.Certificate
) -> None:
    policy = service(store, peer, "soft", cached=False, recipient_domains=["Hopital.mssante.fr."])
    assert decide(policy, attributes(peer)).action == "DUNNO"  # dr.martin@hopital.mssante.fr
    elsewhere = attributes(peer) | {"recipient": "<someone@ailleurs.example>"}
    assert decide(policy, elsewhere).line.startswith("action=REJECT 5.7.1 MSS-POL-002 ")
    assert decide(policy, attributes(peer) | {"recipient": ""}).action == "DUNNO"  # asked before RCPT TO
