"""``probe_server`` against real SMTP servers on 127.0.0.1 (aiosmtpd): configured right, it passes; each
misconfiguration gives its finding; nothing is ever delivered."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from mssante.net import TLS12_CIPHERS
from mssante.pki import RevocationChecker, TrustStore
from mssante.probe import ProbeReport, probe_server
from mssante.testing import CA_NAMES, IssuedCertificate, TestPki
from tests.probe.servers import ProbedRecorder, context, smtp


@attrs.frozen
class Setup:
    """One server set-up: how its certificate and TLS context are made, the server's options, the probe's."""

    certificate: Callable[[TestPki, TestPki], IssuedCertificate] = lambda pki, foreign: pki.server(["localhost"])
    tls: dict[str, Any] = attrs.Factory(dict)
    server: dict[str, Any] = attrs.Factory(dict)
    recorder: dict[str, Any] = attrs.Factory(dict)
    probe: dict[str, Any] = attrs.Factory(dict)
    plain: bool = False


def run(
    setup: Setup,
    *,
    pki: TestPki,
    foreign: TestPki,
    store: TrustStore,
    directory: Path,
    now: dt.datetime,
    client: tuple[Path, Path],
    name: str,
    crls: RevocationChecker | None = None,
) -> tuple[ProbeReport, ProbedRecorder]:
    tls: ssl.SSLContext | None = None
    if not setup.plain:
        tls = context(store, setup.certificate(pki, foreign), directory, name, **setup.tls)
    recorder = ProbedRecorder(**setup.recorder)
    options: dict[str, Any] = {"role": "mx", "client_certificate": client, "timeout": 5.0, "max_duration": 30.0}
    options.update(setup.probe)
    with smtp(recorder, tls=tls, **setup.server) as controller:
        report = probe_server(
            "localhost", controller.port, store=store, at=now, revocation=crls or RevocationChecker(), **options
        )
    return report, recorder


@pytest.fixture
def probe(
    pki: TestPki,
    foreign: TestPki,
    store: TrustStore,
    directory: Path,
    now: dt.datetime,
    client: tuple[Path, Path],
    crls: RevocationChecker,
) -> Callable[..., tuple[ProbeReport, ProbedRecorder]]:
    def probing(setup: Setup, name: str = "server", revocation: RevocationChecker | None = None) -> Any:
        return run(
            setup, pki=pki, foreign=foreign, store=store, directory=directory, now=now, client=client, name=name,
            crls=revocation or crls,
        )  # fmt: skip

    return probing


def test_a_well_configured_mx_passes_and_receives_nothing(probe: Callable[..., Any]) -> None:
    report, recorder = probe(Setup())
    assert report.ok, str(report)
    assert not report.report.errors, str(report)
    assert not report.report.warnings, str(report)
    names = [check.name for check in report.checks]
    assert names == [
        "greeting", "starttls-offered", "starttls-required", "tls-handshake", "tls-versions", "cipher-suites",
        "server-certificate", "client-certificate-required", "client-certificate-trusted", "size", "dsn",
    ]  # fmt: skip
    assert recorder.data_commands == 0
    assert recorder.messages == []
    assert all(command.startswith("MAIL FROM:<>") for command in recorder.commands)


def test_a_well_configured_submission_server_passes(probe: Callable[..., Any]) -> None:
    setup = Setup(tls={"require_client_certificate": False}, probe={"role": "submission", "client_certificate": None})
    report, recorder = probe(setup)
    assert report.ok, str(report)
    assert not report.report.warnings, str(report)
    assert "MSS-PRB-019" in report.codes  # the mechanisms offered, told
    assert recorder.data_commands == 0


def _outsider_trusted(foreign_anchors: str) -> Setup:
    return Setup(tls={"also_trusted": [foreign_anchors]})


MISCONFIGURATIONS: dict[str, tuple[Setup, str]] = {
    "no STARTTLS": (Setup(plain=True), "MSS-PRB-005"),
    "STARTTLS offered, not required": (Setup(server={"require_starttls": False}), "MSS-PRB-006"),
    "AUTH before TLS": (
        Setup(
            server={"auth_require_tls": False}, tls={"require_client_certificate": False}, probe={"role": "submission"}
        ),
        "MSS-PRB-007",
    ),
    "TLS 1.0 accepted": (Setup(tls={"minimum": ssl.TLSVersion.TLSv1}), "MSS-PRB-009"),
    "TLS 1.1 accepted": (Setup(tls={"minimum": ssl.TLSVersion.TLSv1_1}), "MSS-PRB-009"),
    "a suite outside the list": (Setup(tls={"ciphers": (*TLS12_CIPHERS, "AES128-SHA")}), "MSS-PRB-010"),
    "an expired certificate": (
        Setup(certificate=lambda pki, foreign: pki.server(["localhost"], expired=True)),
        "MSS-PKI-007",
    ),
    "a certificate for another host": (
        Setup(certificate=lambda pki, foreign: pki.server(["mx.other.example"])),
        "MSS-PKI-010",
    ),
    "a certificate that is not SERV SSL": (
        Setup(certificate=lambda pki, foreign: pki.organisation("APPLICATION")),
        "MSS-PKI-013",
    ),
    "a certificate outside IGC Santé": (
        Setup(certificate=lambda pki, foreign: foreign.server(["localhost"])),
        "MSS-PKI-008",
    ),
    "no client certificate required": (Setup(tls={"require_client_certificate": False}), "MSS-PRB-013"),
    "no SIZE": (Setup(server={"size": None}), "MSS-PRB-015"),
    "no DSN": (Setup(recorder={"dsn": False}), "MSS-PRB-016"),
    "EHLO names another host": (Setup(recorder={"ehlo_name": "relay.other.example"}), "MSS-PRB-003"),
    "no SASL mechanism": (
        Setup(
            server={"mechanisms_excluded": ("LOGIN", "PLAIN", "XOAUTH2")},
            tls={"require_client_certificate": False},
            probe={"role": "submission"},
        ),
        "MSS-PRB-018",
    ),
}


@pytest.mark.parametrize("case", MISCONFIGURATIONS)
def test_each_misconfiguration_gives_its_finding(probe: Callable[..., Any], case: str) -> None:
    setup, code = MISCONFIGURATIONS[case]
    report, recorder = probe(setup, name=case.replace(" ", "-"))
    assert code in report.codes, str(report)
    finding = next(finding for finding in report.report if finding.code == code)
    if finding.severity.value == "error":
        assert not report.ok
    assert recorder.data_commands == 0
    assert recorder.messages == []
    assert all(command.startswith("MAIL FROM:<>") for command in recorder.commands), recorder.commands


def test_the_old_versions_are_told_apart(probe: Callable[..., Any]) -> None:
    report, _ = probe(Setup(tls={"minimum": ssl.TLSVersion.TLSv1_1}), name="tls11")
    said = [finding.message for finding in report.check("tls-versions").findings]
    assert said == ["a TLS 1.1 handshake completed"]


def test_a_weak_suite_is_named(probe: Callable[..., Any]) -> None:
    report, _ = probe(Setup(tls={"ciphers": (*TLS12_CIPHERS, "AES128-SHA")}), name="weak")
    assert [finding.message for finding in report.check("cipher-suites").errors] == ["TLS 1.2 AES128-SHA"]


def test_a_revoked_server_certificate(
    probe: Callable[..., Any], pki: TestPki, directory: Path, store: TrustStore
) -> None:
    revoked = pki.server(["localhost"])
    issuer = pki.issuer_of(revoked.certificate).name
    crls = RevocationChecker(crls=[pki.crl(name, [revoked] if name == issuer else []) for name in CA_NAMES])
    report, _ = probe(Setup(certificate=lambda pki, foreign: revoked), name="revoked", revocation=crls)
    assert "MSS-REV-002" in report.check("server-certificate").codes


def test_a_certificate_outside_igc_sante_accepted_by_the_mx(
    probe: Callable[..., Any], foreign_anchors: str, outsider: tuple[Path, Path]
) -> None:
    setup = Setup(tls={"also_trusted": [foreign_anchors]}, probe={"outsider_certificate": outsider})
    report, recorder = probe(setup, name="outsider")
    assert report.check("client-certificate-trusted").codes == ("MSS-PRB-014",)
    assert report.check("client-certificate-required").ok  # no certificate at all is still refused
    assert recorder.data_commands == 0


def test_without_the_client_certificate_an_mx_shows_what_it_can(probe: Callable[..., Any]) -> None:
    report, _ = probe(Setup(probe={"client_certificate": None}), name="anonymous")
    assert report.ok, str(report)
    assert report.check("client-certificate-required").ok
    assert "MSS-PRB-020" in report.check("size").codes
    assert "MSS-PRB-020" in report.check("cipher-suites").codes
