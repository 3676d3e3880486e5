"""``mssante whitelist show | check | diff | export | fetch`` on the real ANS list, per the command-line contract."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from mssante.pki import Environment, TrustStore
from mssante.testing import TestPki
from mssante.trustspace import AllowList
from mssante.trustspace._export import igc_sante_cafile, postfix_sender_access, postfix_tls_policy
from tests.cli.running import run, run_json

DATA = Path(__file__).parent.parent / "data"
RESTORED = str(DATA / "listeblanchemssante-2025-03-13-restored.xml")
MIRROR_HEAD = str(DATA / "listeblanchemssante-mirror-head.xml")
MIPIH = "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR"


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default cache is the test's own, empty; local servers are reached without a proxy."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="module")
def real() -> AllowList:
    return AllowList.load(RESTORED)


# --- show ------------------------------------------------------------------------------------------------------


def test_show_counts(real: AllowList) -> None:
    status, data = run_json("whitelist", "show", "--file", RESTORED)
    assert status == 0
    assert data["ok"] is True
    assert data["generated"] == "2025-03-13T14:54:10Z"
    assert (data["entries"], data["domains"]) == (6554, 5002)
    assert data["certificates"] == len(real.dns) == 388  # 392 DN strings, 388 by value
    assert data["sha256"] == "7e7b3b9e2f42f2b8969b04aa1dc84188a970a2fb5de6c769a85a46b1141d8723"
    assert data["source"] == RESTORED
    codes = [finding["code"] for finding in data["findings"]]
    assert codes.count("MSS-WL-008") == 1  # sessad@ase.ditepbeziers.mssante.fr
    assert codes.count("MSS-WL-010") == 21


def test_show_for_humans() -> None:
    status, out, err = run("whitelist", "show", "--file", RESTORED)
    assert status == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[:4] == ["generated     2025-03-13T14:54:10Z", "entries       6554", "domains       5002",
                         "certificates  388"]  # fmt: skip
    assert "MSS-WL-008 warning" in out
    assert lines[-1] == "         and 21 info finding(s): see --json"


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_truncated_list_is_refused(as_json: bool) -> None:
    status, out, err = run("whitelist", "show", "--file", MIRROR_HEAD, *(["--json"] if as_json else []))
    assert status == 2
    assert len(err.splitlines()) == 1
    assert "truncated" in err
    assert "MSS-WL-004" in err
    if as_json:
        data = json.loads(out)
        assert data["ok"] is False
        assert "truncated" in data["error"]
    else:
        assert out == ""


def test_unreadable_inputs_exit_2(tmp_path: Path) -> None:
    status, out, err = run("whitelist", "show", "--file", str(tmp_path / "missing.xml"))
    assert (status, out) == (2, "")
    assert err.strip() == f"mssante: cannot read {tmp_path / 'missing.xml'}: No such file or directory"
    (tmp_path / "not.xml").write_bytes(b"<html><body>Service unavailable</body></html>")
    status, data = run_json("whitelist", "show", "--file", str(tmp_path / "not.xml"))
    assert status == 2
    assert data["ok"] is False
    assert "MSS-WL-005" in data["error"]
    status, _, err = run("whitelist", "check", "uc-cmp.mssante.fr", "--file", str(tmp_path))
    assert status == 2
    assert err.startswith(f"mssante: cannot read {tmp_path}")


def test_without_a_list_exit_2(tmp_path: Path) -> None:
    for argv in (["show"], ["check", "uc-cmp.mssante.fr"], ["export", "--format", "postfix-tls"]):
        status, out, err = run("whitelist", *argv)
        assert (status, out) == (2, "")
        assert err == "mssante: no allow-list: run mssante whitelist fetch or give --file\n"
    status, data = run_json("whitelist", "show", "--cache-dir", str(tmp_path / "empty"))
    assert status == 2
    assert data == {"ok": False, "error": "mssante: no allow-list: run mssante whitelist fetch or give --file",
                    "findings": []}  # fmt: skip

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "allowlist.json").write_text("{not json")
    status, _, err = run("whitelist", "check", "uc-cmp.mssante.fr", "--cache-dir", str(damaged))
    assert status == 2
    assert err.startswith("mssante: no allow-list: run mssante whitelist fetch or give --file (the cache is unusable: ")


# --- check -----------------------------------------------------------------------------------------------------


def test_check_a_listed_domain_in_mixed_case() -> None:
    status, data = run_json("whitelist", "check", "UC-CMP.mssante.fr", "--file", RESTORED)
    assert status == 0
    assert data["ok"] is True
    assert (data["domain"], data["listed"], data["dns"]) == ("uc-cmp.mssante.fr", True, [MIPIH])
    assert [finding["code"] for finding in data["findings"]] == ["MSS-WL-012"]
    status, out, _ = run("whitelist", "check", "UC-CMP.mssante.fr", "--file", RESTORED)
    assert out.splitlines()[:2] == ["allowed  uc-cmp.mssante.fr", f"         dn: {MIPIH}"]


def test_check_an_unlisted_domain_exit_1() -> None:
    status, data = run_json("whitelist", "check", "inconnu.mssante.fr", "--file", RESTORED)
    assert status == 1
    assert (data["ok"], data["listed"], data["dns"]) == (False, False, [])
    assert [finding["code"] for finding in data["findings"]] == ["MSS-WL-011"]
    status, out, _ = run("whitelist", "check", "inconnu.mssante.fr", "--file", RESTORED)
    assert status == 1
    assert out.startswith("refused  inconnu.mssante.fr\n")


@pytest.mark.parametrize(
    "dn",
    [
        MIPIH,
        "CN=medimail-asip.mipih.fr, OU=318310021300028, O=GIP MIPIH, ST=Haute-Garonne (31), C=FR",
        "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,L=Haute-Garonne (31),C=FR",
        "C=FR,ST=Haute-Garonne(31),O=gip mipih,OU=318310021300028,CN=MEDIMAIL-ASIP.MIPIH.FR",
    ],
    ids=["as-published", "spaces", "L-for-ST", "reordered-case-parenthesis"],
)
def test_check_a_listed_dn_written_otherwise(dn: str) -> None:
    status, data = run_json("whitelist", "check", "UC-CMP.mssante.fr", "--dn", dn, "--file", RESTORED)
    assert status == 0, data
    assert [finding["code"] for finding in data["findings"]] == ["MSS-WL-012", "MSS-WL-014"]


def test_check_a_wrong_dn_exit_1() -> None:
    wrong = MIPIH.replace("OU=318310021300028", "OU=318751275100020")
    status, data = run_json("whitelist", "check", "uc-cmp.mssante.fr", "--dn", wrong, "--file", RESTORED)
    assert status == 1
    assert data["listed"] is True
    assert "MSS-WL-013" in [finding["code"] for finding in data["findings"]]
    status, _, err = run("whitelist", "check", "uc-cmp.mssante.fr", "--dn", "not a DN", "--file", RESTORED)
    assert status == 2
    assert "not a distinguished name" in err
    status, _, err = run("whitelist", "check", "x.mssante.fr", "--dn", MIPIH, "--cert", RESTORED, "--file", RESTORED)
    assert status == 2
    assert "not allowed with argument" in err


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=dt.datetime.now(dt.timezone.utc))


def test_check_a_certificate_subject(pki: TestPki, tmp_path: Path) -> None:
    pem = serialization.Encoding.PEM
    listed = pki.server(["medimail-asip.mipih.fr"], structure="318310021300028", organisation="GIP MIPIH",
                        department="Haute-Garonne (31)")  # fmt: skip
    other = pki.server(["mx.autre-operateur.fr"])
    (tmp_path / "listed.pem").write_bytes(listed.certificate.public_bytes(pem))
    (tmp_path / "other.pem").write_bytes(other.certificate.public_bytes(pem))
    status, data = run_json("whitelist", "check", "uc-cmp.mssante.fr", "--cert", str(tmp_path / "listed.pem"),
                            "--file", RESTORED)  # fmt: skip
    assert status == 0, data
    assert data["findings"][-1]["code"] == "MSS-WL-014"
    status, data = run_json("whitelist", "check", "uc-cmp.mssante.fr", "--cert", str(tmp_path / "other.pem"),
                            "--file", RESTORED)  # fmt: skip
    assert status == 1
    assert data["findings"][-1]["code"] == "MSS-WL-013"
    status, _, err = run("whitelist", "check", "uc-cmp.mssante.fr", "--cert", RESTORED, "--file", RESTORED)
    assert status == 2
    assert "is not a readable certificate" in err


def test_check_the_age_of_the_list() -> None:
    argv = ["whitelist", "check", "uc-cmp.mssante.fr", "--file", RESTORED, "--max-age", "2"]
    status, data = run_json(*argv, "--at", "2025-03-14T00:00:00Z")
    assert status == 0
    assert [finding["code"] for finding in data["findings"]] == ["MSS-WL-012"]
    status, data = run_json(*argv, "--at", "2025-04-01T00:00:00Z")
    assert status == 0  # a warning: refresh the list
    assert [finding["code"] for finding in data["findings"]] == ["MSS-WL-015", "MSS-WL-012"]
    assert run(*argv[:-1], "0")[0] == 2
    assert run(*argv, "--at", "yesterday")[0] == 2


# --- diff ------------------------------------------------------------------------------------------------------


def test_diff(real: AllowList, tmp_path: Path) -> None:
    data = Path(RESTORED).read_bytes()
    start = data.index(b"<Domaine>\n            <Nom>ae.mssante.fr</Nom>")
    end = data.index(b"</Domaine>", start) + len(b"</Domaine>")
    edited = data[:start] + data[end:]  # remove ae.mssante.fr
    edited = edited.replace(b"<Nom>adsea29.mssante.fr</Nom>", b"<Nom>adsea29-nouveau.mssante.fr</Nom>")
    rewritten = "CN=medimail-asip.mipih.fr, OU=318310021300028, O=GIP MIPIH, L=Haute-Garonne(31), C=FR"
    edited = edited.replace(MIPIH.encode(), rewritten.encode())  # thousands of entries, no change
    edited = edited.replace(b"CN=mss.enovacom.fr,", b"CN=mss2.enovacom.fr,")
    (tmp_path / "new.xml").write_bytes(edited)
    status, result = run_json("whitelist", "diff", RESTORED, str(tmp_path / "new.xml"))
    assert status == 0
    assert result["ok"] is True
    assert result["added"] == ["adsea29-nouveau.mssante.fr"]
    assert result["removed"] == ["adsea29.mssante.fr", "ae.mssante.fr"]
    changed = sorted(d for d in real.domains if "mss.enovacom.fr" in {dn.common_name for dn in real.operators(d)})
    assert result["changed"] == changed
    assert len(changed) > 10
    assert result["dns_added"]["15-20.mssante.fr"] == [
        "CN=mss2.enovacom.fr,OU=344368557300034,O=ENOVACOM,ST=Bouches-du-Rhône (13),C=FR"
    ]
    assert [finding["where"] for finding in result["findings"]] == ["old.Domaine[6054].Nom", "new.Domaine[6053].Nom"]
    status, out, _ = run("whitelist", "diff", RESTORED, str(tmp_path / "new.xml"))
    assert status == 0
    lines = out.splitlines()
    assert "+ adsea29-nouveau.mssante.fr" in lines
    assert "- ae.mssante.fr" in lines
    assert "~ 15-20.mssante.fr" in lines
    assert f"1 added, 2 removed, {len(changed)} changed" in lines
    status, out, _ = run("whitelist", "diff", RESTORED, RESTORED)
    assert (status, out.splitlines()[2]) == (0, "no change")
    assert run("whitelist", "diff", RESTORED, MIRROR_HEAD)[0] == 2


# --- export ----------------------------------------------------------------------------------------------------


def test_export_to_standard_output(real: AllowList) -> None:
    status, out, err = run("whitelist", "export", "--format", "postfix-tls", "--file", RESTORED)
    assert (status, err) == (0, "")
    assert out == postfix_tls_policy(real)
    assert len(out.splitlines()) == 5006
    status, data = run_json("whitelist", "export", "--format", "postfix-access", "--file", RESTORED)
    assert status == 0
    assert data["content"] == postfix_sender_access(real)
    assert (data["format"], data["lines"], data["path"]) == ("postfix-access", 5007, None)
    assert [finding["code"] for finding in data["findings"]] == ["MSS-WL-008"]
    status, out, _ = run("whitelist", "export", "--format", "postfix-access", "--no-null-sender", "--file", RESTORED)
    assert out == postfix_sender_access(real, null_sender=False)


def test_export_to_files(real: AllowList, tmp_path: Path) -> None:
    target = tmp_path / "mssante_senders"
    target.write_text("old content")
    status, out, _ = run("whitelist", "export", "--format", "postfix-access", "--file", RESTORED, "--out", str(target))
    assert status == 0
    assert out == f"wrote {target} (postfix-access, 5007 lines)\n"
    assert target.read_text(encoding="utf-8") == postfix_sender_access(real)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    status, data = run_json("whitelist", "export", "--format", "cafile", "--out", str(tmp_path / "igc.pem"))
    assert status == 0
    assert (data["path"], "content" in data) == (str(tmp_path / "igc.pem"), False)
    assert (tmp_path / "igc.pem").read_text(encoding="utf-8") == igc_sante_cafile(TrustStore.bundled("prod"))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["igc.pem", "mssante_senders"]  # nothing left over
    status, _, err = run("whitelist", "export", "--format", "cafile", "--out", str(tmp_path / "no" / "such.pem"))
    assert status == 2
    assert err.startswith(f"mssante: cannot write {tmp_path / 'no' / 'such.pem'}")
    assert run("whitelist", "export", "--format", "exim", "--file", RESTORED)[0] == 2


# --- fetch, then the cached list -------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the access log."""


@pytest.fixture
def server(pki: TestPki, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An https server for ``localhost`` (a TestPki SERV SSL certificate) serving the real list, and its CA file."""
    identity = pki.server(["localhost"])
    (tmp_path / "server.pem").write_bytes(identity.pem())
    (tmp_path / "server.key").write_bytes(identity.key_pem())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    handler = type("Handler", (_Handler,), {"body": Path(RESTORED).read_bytes()})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    roots = tmp_path / "roots.pem"
    roots.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [*pki.anchors, *pki.intermediates]))
    try:
        yield f"https://localhost:{httpd.server_address[1]}/listeblanchemssante.xml", roots
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_fetch_then_use_the_cache(server: tuple[str, Path], tmp_path: Path) -> None:
    url, roots = server
    cache = str(tmp_path / "cache")
    fetch = ["whitelist", "fetch", "--url", url, "--cache-dir", cache, "--trust-anchor", str(roots)]
    status, data = run_json(*fetch)
    assert status == 0, data
    assert (data["changed"], data["from_cache"], data["entries"], data["url"]) == (True, False, 6554, url)
    assert "MSS-WLF-001" in [finding["code"] for finding in data["findings"]]
    status, data = run_json("whitelist", "show", "--cache-dir", cache)
    assert (status, data["entries"], data["source"]) == (0, 6554, url)
    assert run("whitelist", "check", "UC-CMP.mssante.fr", "--cache-dir", cache)[0] == 0
    assert run("whitelist", "show")[0] == 2  # the default cache is another one

    status, data = run_json(*fetch, "--sha256", "0" * 64)
    assert status == 0  # the last good list stands in, with warnings
    assert data["from_cache"] is True
    assert {"MSS-WLF-009", "MSS-WLF-010"} <= {finding["code"] for finding in data["findings"]}
    status, out, _ = run(*fetch[:-2])  # the server's PKI is not IGC Santé: refused, the cached list stays
    assert status == 0
    assert out.startswith(f"from cache    {url}\n")


def test_fetch_refusals_exit_2(tmp_path: Path) -> None:
    status, _, err = run("whitelist", "fetch", "--url", "http://localhost/x.xml", "--cache-dir", str(tmp_path))
    assert status == 2
    assert "https" in err
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    status, data = run_json(
        "whitelist", "fetch", "--url", f"https://127.0.0.1:{port}/x.xml", "--cache-dir", str(tmp_path)
    )
    assert status == 2
    assert data["ok"] is False
    assert data["error"].startswith("mssante: no allow-list:")
    assert run("whitelist", "fetch", "--sha256", "abc")[0] == 2
