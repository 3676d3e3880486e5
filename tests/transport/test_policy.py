"""The inbound policy of an operator (spec §1.1) and the Postfix policy delegation protocol."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from mssante.pki import Environment, RevocationChecker, TrustStore
from mssante.report import Report
from mssante.testing import TestPki
from mssante.transport._policy import (
    MAX_POLICY_LINE,
    InboundPolicy,
    PolicyDecision,
    postfix_policy_answer,
    read_policy_request,
)
from mssante.trustspace import AllowList, OperatorDn

AT = dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc)
SENDER = "dr.martin@chu-x.mssante.fr"


def listing(*entries: tuple[str, OperatorDn]) -> bytes:
    domains = "".join(
        f"<Domaine><Nom>{name}</Nom><Description>d</Description><DNCertificatOperateur>{dn}</DNCertificatOperateur>"
        "<ResponsableContact>r</ResponsableContact><SupportContact>s</SupportContact>"
        "<DateMAJ>2026-06-01T00:00:00Z</DateMAJ></Domaine>"
        for name, dn in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
        f"<DateDeGeneration>2026-06-01T00:00:00Z</DateDeGeneration><ListeDomaines>{domains}</ListeDomaines>"
        "</ListeBlancheMSSante>"
    ).encode()


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=AT)


@pytest.fixture(scope="module")
def policy(pki: TestPki) -> InboundPolicy:
    chu = pki.server(["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR")
    other = pki.server(["mx9.autre.example"], organisation="AUTRE")
    allow = AllowList.parse(
        listing(
            ("chu-x.mssante.fr", OperatorDn.from_name(chu.certificate.subject)),
            ("autre.mssante.fr", OperatorDn.from_name(other.certificate.subject)),
        )
    )
    store = TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment="prod")
    crls = RevocationChecker(crls=[pki.crl("ACI-EL-ORG"), pki.crl("ACR-EL")])
    return InboundPolicy(allow, store, revocation=crls)


def test_a_listed_certificate_for_the_sender_domain_is_accepted(pki: TestPki, policy: InboundPolicy) -> None:
    peer = pki.server(["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR")
    decision = policy.decide(client_certificate=peer.certificate, envelope_sender=f"<{SENDER}>", at=AT)
    assert decision.accept, decision.report
    assert decision.action == "OK"
    assert decision.decision is not None
    assert decision.decision.ok
    assert postfix_policy_answer(decision) == "action=OK"
    as_pem = policy.decide(client_certificate=peer.pem(), envelope_sender=SENDER, at=AT)
    assert as_pem.accept
    as_der = policy.decide(
        client_certificate=peer.certificate.public_bytes(Encoding.DER), envelope_sender=SENDER, at=AT
    )
    assert as_der.accept


def test_a_certificate_listed_for_another_domain_is_rejected(pki: TestPki, policy: InboundPolicy) -> None:
    other = pki.server(["mx9.autre.example"], organisation="AUTRE")
    decision = policy.decide(client_certificate=other.certificate, envelope_sender=SENDER, at=AT)
    assert decision.action == "REJECT"
    assert "MSS-WL-013" in decision.reason
    answer = postfix_policy_answer(decision)
    assert answer.startswith("action=REJECT 5.7.1 ")
    assert "MSS-WL-013" in answer


@pytest.mark.parametrize("defect", ["expired", "other-pki"])
def test_an_invalid_certificate_is_rejected(pki: TestPki, policy: InboundPolicy, defect: str) -> None:
    if defect == "expired":
        peer = pki.server(
            ["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR", expired=True
        )
        code = "MSS-PKI-007"
    else:
        stranger = TestPki.create(environment=Environment.PROD, at=AT)
        peer = stranger.server(["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR")
        code = "MSS-PKI-"
    decision = policy.decide(client_certificate=peer.certificate, envelope_sender=SENDER, at=AT)
    assert decision.action == "REJECT"
    assert code in decision.reason


def test_no_certificate_or_a_bad_sender_is_rejected(pki: TestPki, policy: InboundPolicy) -> None:
    missing = policy.decide(client_certificate=None, envelope_sender=SENDER, at=AT)
    assert (missing.action, missing.accept) == ("REJECT", False)
    assert postfix_policy_answer(missing) == "action=REJECT 5.7.1 client certificate required"
    garbage = policy.decide(client_certificate=b"not a certificate", envelope_sender=SENDER, at=AT)
    assert garbage.action == "REJECT"
    peer = pki.server(["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR")
    bad = policy.decide(client_certificate=peer.certificate, envelope_sender="no at sign", at=AT)
    assert bad.action == "REJECT"
    assert bad.reason.startswith("bad sender")


def test_the_null_sender_is_judged_on_the_certificate(pki: TestPki, policy: InboundPolicy) -> None:
    listed = pki.server(["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR")
    for sender in ("", "<>"):
        decision = policy.decide(client_certificate=listed.certificate, envelope_sender=sender, at=AT)
        assert decision.accept, decision.report
    unlisted = pki.server(["mx5.inconnu.example"], organisation="INCONNU")
    refused = policy.decide(client_certificate=unlisted.certificate, envelope_sender="<>", at=AT)
    assert refused.action == "REJECT"
    assert "MSS-WL-013" in refused.reason


def test_an_unknown_revocation_status_defers(pki: TestPki, policy: InboundPolicy) -> None:
    blind = InboundPolicy(policy.allowlist, policy.store)  # hard mode, no CRL: status unknown
    peer = pki.server(["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR")
    decision = blind.decide(client_certificate=peer.certificate, envelope_sender=SENDER, at=AT)
    assert decision.action == "DEFER", decision.report
    assert postfix_policy_answer(decision).startswith("action=DEFER_IF_PERMIT 4.7.1 ")


def test_the_answer_is_one_bounded_ascii_line() -> None:
    hostile = PolicyDecision(action="REJECT", reason="é\r\naction=OK\n" + "x" * 1000, report=Report())
    answer = postfix_policy_answer(hostile)
    assert "\n" not in answer
    assert "\r" not in answer
    assert answer.isascii()
    assert len(answer) < 250


def test_a_policy_request_is_read() -> None:
    lines = [
        "request=smtpd_access_policy\n",
        "sender=dr@chu-x.mssante.fr\n",
        "ccert_fingerprint=AB:CD\n",
        "\n",
        "x=1\n",
    ]
    assert read_policy_request(iter(lines)) == {
        "request": "smtpd_access_policy",
        "sender": "dr@chu-x.mssante.fr",
        "ccert_fingerprint": "AB:CD",
    }
    assert read_policy_request([]) == {}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["sender=" + "x" * 5000 + "\n", "\n"], "longer than"),
        ([f"a{index}=1\n" for index in range(101)] + ["\n"], "more than 100"),
        (["sender=a\rb\n", "\n"], "CR, LF or NUL"),
        (["sender=a\nb\n", "\n"], "CR, LF or NUL"),
        (["no equals sign\n", "\n"], "not name=value"),
        (["sender=a\n", "sender=b\n", "\n"], "twice"),
        (["sender=a\n"], "without its empty line"),
        (["request=smtpd_access_policy\n", "\n"], "no sender"),
        (["x" * 65 + "=1\n", "\n"], "not name=value"),
        (["sender=" + "x" * 4097 + "\n", "\n"], "longer than 4096"),
    ],
    ids=[
        "huge-value",
        "too-many",
        "cr",
        "lf",
        "malformed",
        "repeated",
        "unterminated",
        "no-sender",
        "long-name",
        "long-line",
    ],
)
def test_a_hostile_policy_request_is_refused(lines: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_policy_request(lines)


# --- a policy service's input, as Postfix (or something else) writes it --------------------------------------


class NeverEnding:
    """A stream whose first line never ends: ``sender=`` then a gigabyte of ``x``, handed out as asked."""

    size = 2**30

    def __init__(self) -> None:
        self.served = 0

    def readline(self, size: int = -1, /) -> str:
        if size < 0:
            raise AssertionError("a line that never ends was read without a bound")
        line = ("sender=" + "x" * size)[: min(size, self.size - self.served)]
        self.served += len(line)
        return line

    def __iter__(self) -> NeverEnding:
        return self

    def __next__(self) -> str:  # what iterating over a file does: read a whole line
        return self.readline()


class Gigabyte(io.RawIOBase):
    """The bytes of a policy line of a gigabyte without its line end, for ``sys.stdin``'s text layer."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.served >= 2**20:
            raise AssertionError("more than a MiB of one line was read")
        count = min(len(buffer), 2**30 - self.served)
        buffer[:count] = (b"sender=" + b"x" * count)[:count] if self.served == 0 else b"x" * count
        self.served += count
        return count


def test_a_line_without_end_is_refused_as_it_is_read() -> None:
    stream = NeverEnding()
    with pytest.raises(ValueError, match="longer than"):
        read_policy_request(stream)
    assert stream.served <= MAX_POLICY_LINE + 2


def test_a_gigabyte_on_standard_input_is_not_read_into_memory() -> None:
    raw = Gigabyte()
    stdin = io.TextIOWrapper(io.BufferedReader(raw), encoding="ascii")
    with pytest.raises(ValueError, match="longer than"):
        read_policy_request(stdin)
    assert raw.served < 64 * 1024  # a few chunks of the text layer, not the line


def serve(policy: InboundPolicy, stdin: io.StringIO, certificate: object) -> list[str]:
    """The policy loop of the operator guide, as written there, over ``stdin``: the answers it gives."""
    answers: list[str] = []
    while request := read_policy_request(stdin):
        decision = policy.decide(
            client_certificate=certificate,  # type: ignore[arg-type]
            envelope_sender=request.get("sender", ""),
            at=AT,
        )
        answers.append(postfix_policy_answer(decision))
    return answers


def test_a_stray_empty_line_does_not_end_the_service(pki: TestPki, policy: InboundPolicy) -> None:
    listed = pki.server(["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR")
    stdin = io.StringIO(
        f"\nrequest=smtpd_access_policy\nsender={SENDER}\n\n\n\nrequest=smtpd_access_policy\nsender=\n\n"
    )
    assert serve(policy, stdin, listed.certificate) == ["action=OK", "action=OK"]  # a message, then a bounce
    assert read_policy_request(["\n", "\n", "sender=a@b.fr\n", "\n"]) == {"sender": "a@b.fr"}
    assert read_policy_request(["\n", "\n"]) == {}  # only the end of the input ends the loop


def test_a_request_without_sender_is_never_answered_as_a_bounce(pki: TestPki, policy: InboundPolicy) -> None:
    listed = pki.server(["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR")
    stdin = io.StringIO("request=smtpd_access_policy\nccert_fingerprint=AB:CD\n\n")
    with pytest.raises(ValueError, match="no sender attribute"):
        serve(policy, stdin, listed.certificate)  # the service stops: Postfix defers (451 4.3.5) and restarts it
    empty = io.StringIO("request=smtpd_access_policy\nsender=\n\n")  # the null sender is sender= with no value
    assert serve(policy, empty, listed.certificate) == ["action=OK"]
