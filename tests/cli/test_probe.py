"""``mssante probe server | message``: the checks as ``{name, ok, codes}`` with ``ok`` and ``findings``; exit status
1 when a check fails, 2 for a usage error. The servers are started here, on 127.0.0.1."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from mssante.message import compose
from mssante.pki import Environment, TrustStore
from mssante.testing import CA_NAMES, TestPki
from mssante.trustspace import OperatorDn
from tests.cli.running import run, run_json
from tests.probe.servers import ProbedRecorder, context, smtp

AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=dt.datetime.now(dt.timezone.utc))


@pytest.fixture(scope="module")
def store(pki: TestPki) -> TrustStore:
    return TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)


@pytest.fixture(scope="module")
def files(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The options naming the trust anchors, the CRLs and this side's certificate."""
    directory = tmp_path_factory.mktemp("probe-cli")
    anchors = directory / "anchors.pem"
    anchors.write_bytes(b"".join(item.public_bytes(Encoding.PEM) for item in [*pki.anchors, *pki.intermediates]))
    crls = []
    for name in CA_NAMES:
        path = directory / f"{name}.crl"
        path.write_bytes(pki.crl(name))
        crls += ["--crl", str(path)]
    certificate, key = pki.server(["mx.operateur.example"]).write(directory, "client")
    return {
        "trust": ["--trust-anchor", str(anchors), *crls],
        "client": ["--cert", str(certificate), "--key", str(key)],
    }


def test_a_well_configured_mx(pki: TestPki, store: TrustStore, files: dict[str, list[str]], tmp_path: Path) -> None:
    recorder = ProbedRecorder()
    with smtp(recorder, tls=context(store, pki.server(["localhost"]), tmp_path, "server")) as controller:
        server = f"localhost:{controller.port}"
        status, answer = run_json("probe", "server", server, "--role", "mx", *files["trust"], *files["client"])
    assert status == 0, answer
    assert answer["ok"] is True
    assert answer["server"] == server
    assert answer["role"] == "mx"
    assert {"name": "starttls-required", "ok": True, "codes": []} in answer["checks"]
    assert all(set(check) == {"name", "ok", "codes"} for check in answer["checks"])
    assert recorder.data_commands == 0


def test_a_server_without_starttls(files: dict[str, list[str]]) -> None:
    with smtp(ProbedRecorder(), tls=None) as controller:
        status, out, _ = run("probe", "server", f"localhost:{controller.port}", "--role", "submission", *files["trust"])
    assert status == 1
    assert "NOT OK starttls-offered" in out
    assert "MSS-PRB-005" in out


def test_a_message(tmp_path: Path) -> None:
    eml = tmp_path / "message.eml"
    mail = compose(sender="pierre.didot@pharmacie-4-cantons.mssante.fr", to=["stephane.medioni@mssante.fr"],
                   nil="DEV935997", at=AT, text="Bonjour")  # fmt: skip
    eml.write_bytes(mail.as_bytes())
    status, answer = run_json("probe", "message", str(eml))
    assert status == 0, answer
    assert [check["name"] for check in answer["checks"]][:3] == ["mime", "headers", "subject"]
    del mail["X-MSS-NIL"]
    eml.write_bytes(mail.as_bytes())
    status, answer = run_json("probe", "message", str(eml))
    assert status == 1
    assert {"name": "headers", "ok": False, "codes": ["MSS-MSG-001"]} in answer["checks"]


@pytest.mark.parametrize("argv", [["probe", "server", "localhost:0"], ["probe", "server", "h", "--cert", "c.pem"]])
def test_usage_errors(argv: list[str]) -> None:
    status, _, err = run(*argv)
    assert status == 2
    assert err


@pytest.mark.parametrize(
    ("text", "expected"),
    [("mx.example", ("mx.example", 25)), ("mx.example:587", ("mx.example", 587)), ("[::1]:143", ("::1", 143)),
     ("::1", ("::1", 25))],
)  # fmt: skip
def test_endpoint(text: str, expected: tuple[str, int]) -> None:
    from mssante.cli._probe import endpoint  # noqa: PLC0415

    assert endpoint(text) == expected


@pytest.mark.parametrize("text", ["", ":25", "mx.example:0", "mx.example:x"])
def test_endpoint_refused(text: str) -> None:
    from mssante.cli._probe import endpoint  # noqa: PLC0415

    with pytest.raises(argparse.ArgumentTypeError):
        endpoint(text)


def test_a_domain(pki: TestPki, store: TrustStore, files: dict[str, list[str]], tmp_path: Path) -> None:
    from tests.dns_server import Zone, dns_servers  # noqa: PLC0415 (skips without NSD and Unbound)

    issued = pki.server(["mx.operateur.example.test"], organisation="OPERATEUR-A")
    dn = OperatorDn.from_name(issued.certificate.subject)
    allow_list = tmp_path / "liste.xml"
    allow_list.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
        "<DateDeGeneration>2026-06-01T00:00:00Z</DateDeGeneration><ListeDomaines><Domaine><Nom>hopital.test</Nom>"
        f"<Description>T</Description><DNCertificatOperateur>{dn}</DNCertificatOperateur><ResponsableContact>r"
        "</ResponsableContact><SupportContact>s</SupportContact><DateMAJ>2026-06-01T00:00:00Z</DateMAJ></Domaine>"
        "</ListeDomaines></ListeBlancheMSSante>"
    )
    zones = [
        Zone("hopital.test", ["@ MX 10 mx.operateur.example.test."], signed=True),
        Zone("operateur.example.test", ["mx A 127.0.0.1"], signed=True),
    ]
    with dns_servers(zones) as dns, smtp(ProbedRecorder(), tls=context(store, issued, tmp_path, "mx")) as controller:
        status, answer = run_json(
            "probe", "domain", "hopital.test", "--nameserver", dns.resolver, "--mx-port", str(controller.port),
            "--allow-list", str(allow_list), *files["trust"],
        )  # fmt: skip
    assert answer["listed"] is True
    assert answer["mx"][0]["name"] == "mx.operateur.example.test"
    assert answer["mx"][0]["subject"] == issued.certificate.subject.rfc4514_string()
    assert {"name": "mx-certificates", "ok": True, "codes": answer["checks"][-1]["codes"]} == answer["checks"][-1]
    assert "MSS-WL-014" in answer["checks"][-1]["codes"]
    assert status == (0 if answer["ok"] else 1)


def _own_allow_list(pki: TestPki, path: Path, domain: str) -> Path:
    """An allow-list listing ``domain`` with the DN of the probe's certificate (``mx.operateur.example``)."""
    dn = OperatorDn.from_name(pki.server(["mx.operateur.example"]).certificate.subject)
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
        f"<DateDeGeneration>2026-06-01T00:00:00Z</DateDeGeneration><ListeDomaines><Domaine><Nom>{domain}</Nom>"
        f"<Description>T</Description><DNCertificatOperateur>{dn}</DNCertificatOperateur><ResponsableContact>r"
        "</ResponsableContact><SupportContact>s</SupportContact><DateMAJ>2026-06-01T00:00:00Z</DateMAJ></Domaine>"
        "</ListeDomaines></ListeBlancheMSSante>"
    )
    return path


def test_send_test_to_a_mailbox_of_ones_own(
    pki: TestPki, store: TrustStore, files: dict[str, list[str]], tmp_path: Path
) -> None:
    allow_list = _own_allow_list(pki, tmp_path / "liste.xml", "operateur.example")
    recorder = ProbedRecorder()
    with smtp(recorder, tls=context(store, pki.server(["localhost"]), tmp_path, "server")) as controller:
        server = f"localhost:{controller.port}"
        status, answer = run_json(
            "probe", "server", server, "--role", "mx", *files["trust"], *files["client"],
            "--send-test-to", "sonde@operateur.example", "--allow-list", str(allow_list),
        )  # fmt: skip
    assert status == 0, answer
    assert {"name": "test-message", "ok": True, "codes": ["MSS-PRB-032"]} in answer["checks"]
    assert [message.recipients for message in recorder.messages] == [["sonde@operateur.example"]]


def test_send_test_to_a_third_party_is_a_usage_error(pki: TestPki, files: dict[str, list[str]], tmp_path: Path) -> None:
    allow_list = _own_allow_list(pki, tmp_path / "liste.xml", "operateur.example")
    status, out, err = run(
        "probe", "server", "localhost:1", "--role", "mx", *files["trust"], *files["client"],
        "--send-test-to", "dr.martin@hopital.example", "--allow-list", str(allow_list),
    )  # fmt: skip
    assert status == 2
    assert "not a domain of the operator's own" in err
    assert out == ""


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--allow-list", "liste.xml"], "--send-test-to"),
        (["--send-test-to", "sonde@operateur.example", "--xoauth2-token-env", "MSSANTE_PROBE_NO_TOKEN"], "no token"),
        (["--send-test-to", "sonde@operateur.example", "--external"], "--user"),
    ],
)
def test_send_test_to_options(options: list[str], said: str) -> None:
    status, _, err = run("probe", "server", "localhost:587", "--role", "submission", *options)
    assert status == 2
    assert said in err
