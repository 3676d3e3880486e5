"""`mssante fetch`: the new messages of a mailbox on a local operator, read over IMAP with every check."""

from __future__ import annotations

import datetime as dt
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mssante.cli import _fetch
from mssante.cli._fetch import folder_name
from mssante.message import compose, parse
from mssante.pki import server_context
from mssante.testing import CA_NAMES, LocalOperator
from mssante.testing._imap import ImapState, Stored, serve
from mssante.transport import FetchedMessage
from mssante.transport.codes import COMMAND_FAILED, failure
from tests.cli.running import run, run_json

DOCTOR = "dr.martin@hopital.mssante.fr"
TOKEN = "psc-token-dr-martin"


@pytest.fixture
def operator() -> Iterator[LocalOperator]:
    with LocalOperator() as running:
        running.add_user(DOCTOR, token=TOKEN)
        yield running


def session(operator: LocalOperator, folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The options of ``mssante fetch`` for the doctor's mailbox: the test PKI trusted, its CRLs given."""
    anchors = folder / "anchors.pem"
    pki = operator.pki
    anchors.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in [*pki.anchors, *pki.intermediates]))
    crls: list[str] = []
    for name in CA_NAMES:
        (folder / f"{name}.crl").write_bytes(pki.crl(name))
        crls += ["--crl", str(folder / f"{name}.crl")]
    certificate, key = operator.client_certificate(folder)
    monkeypatch.setenv("PSC_TOKEN", TOKEN)
    return [
        "--server", f"localhost:{operator.imap_port}", "--env", "test", "--trust-anchor", str(anchors), *crls,
        "--cert", str(certificate), "--key", str(key), "--user", DOCTOR, "--xoauth2-token-env", "PSC_TOKEN",
    ]  # fmt: skip


def deliver(operator: LocalOperator, subject: str) -> None:
    mail = compose(sender=operator.application, to=[DOCTOR], nil="DEV1", at=dt.datetime.now(dt.timezone.utc),
                   subject=subject, text="...")  # fmt: skip
    with operator.submission() as smtp:
        assert smtp.send(mail).ok


def test_new_messages_are_stored_then_marked(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    deliver(operator, "Premier")
    deliver(operator, "Second")
    status, payload = run_json("fetch", *options)  # listed, not stored, not marked
    assert status == 0, payload
    assert [m["subject"] for m in payload["messages"]] == ["Premier", "Second"]
    assert all(m["file"] is None for m in payload["messages"])
    out = tmp_path / "inbox"
    status, payload = run_json("fetch", *options, "--out", str(out), "--mark-seen")
    assert status == 0
    assert [path.name for path in out.iterdir()] == ["INBOX"]
    names = [f"{validity(payload)}-{m['uid']}.eml" for m in payload["messages"]]
    assert sorted(path.name for path in (out / "INBOX").iterdir()) == sorted(names)
    assert payload["messages"][0]["file"] == str(out / "INBOX" / names[0])
    assert (out / "INBOX" / names[0]).read_bytes() == operator.messages(DOCTOR)[0]
    status, out_text, _ = run("fetch", *options)
    assert (status, out_text.strip()) == (0, "no new message")


def test_mark_seen_needs_somewhere_to_store(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, _, err = run("fetch", *session(operator, tmp_path, monkeypatch), "--mark-seen")
    assert status == 2
    assert "--mark-seen needs --out" in err


def test_a_wrong_token_is_refused_without_showing_it(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    monkeypatch.setenv("PSC_TOKEN", "not-the-token")
    status, payload = run_json("fetch", *options)
    assert status == 1  # the server's verdict on the login, with its code
    assert "XOAUTH2" in payload["error"]
    assert [finding["code"] for finding in payload["findings"]] == ["MSS-TRN-011"]
    assert "not-the-token" not in str(payload)


def test_trust_anchors_without_a_root_are_a_usage_error(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    intermediates = tmp_path / "intermediates.pem"
    intermediates.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in operator.pki.intermediates))
    options[options.index("--trust-anchor") + 1] = str(intermediates)
    status, _, err = run("fetch", *options)
    assert status == 2
    assert "a trust store needs at least one anchor" in err


# -- storing: never over another file, unique across folders and UIDVALIDITY, synced before marked ---------------


def many_parts(parts: int = 1500) -> bytes:
    """A message of ``parts`` MIME parts (about 54 KB): more than the parser reads (1000)."""
    body = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(parts))
    return (
        b"From: " + APPLICATION.encode() + b"\r\nTo: " + DOCTOR.encode() + b"\r\nSubject: parts\r\n"
        b"Message-ID: <parts@example.mssante.fr>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + body + b"--b--\r\n"
    )


APPLICATION = "application@hopital.mssante.fr"


def validity(payload: dict[str, Any]) -> str:
    """The UIDVALIDITY in the names of stored messages: the server's, or 0 when it announces none."""
    return payload["uidvalidity"] or "0"


def listed_validity(options: list[str]) -> str:
    """The UIDVALIDITY of the doctor's INBOX, from a run that lists (stores and marks nothing)."""
    status, payload = run_json("fetch", *options)
    assert status == 0, payload
    return validity(payload)


def unseen(operator: LocalOperator, folder: str = "INBOX") -> list[int]:
    return [m.uid for m in operator.account(DOCTOR).folders[folder] if "\\Seen" not in m.flags]


def test_an_earlier_file_is_never_replaced(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    deliver(operator, "Nouveau")
    [uid] = operator.account(DOCTOR).uids()
    prefix = listed_validity(options)
    out = tmp_path / "out"
    earlier = {  # a message stored by an earlier run, from another folder or UIDVALIDITY, under either layout
        out / f"{uid}.eml": b"an earlier message 1",
        out / "INBOX" / f"{prefix}-{uid}.eml": b"an earlier message 2",
    }
    for path, content in earlier.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    status, payload = run_json("fetch", *options, "--out", str(out), "--mark-seen")
    assert status == 0, payload
    for path, content in earlier.items():
        assert path.read_bytes() == content
    stored = Path(payload["messages"][0]["file"])
    assert stored.read_bytes() == operator.messages(DOCTOR)[0]
    assert stored.name == f"{prefix}-{uid}.2.eml"
    assert unseen(operator) == []


@pytest.mark.parametrize("kind", ["fifo", "symbolic link"])
def test_a_fifo_or_a_link_at_the_name_is_left_alone(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    deliver(operator, "Nouveau")
    [uid] = operator.account(DOCTOR).uids()
    out = tmp_path / "out"
    (out / "INBOX").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere.eml"
    elsewhere.write_bytes(b"not to be touched")
    traps = [out / f"{uid}.eml", out / "INBOX" / f"{listed_validity(options)}-{uid}.eml"]
    for trap in traps:
        if kind == "fifo":
            os.mkfifo(trap)
        else:
            trap.symlink_to(elsewhere)
    status, payload = run_json("fetch", *options, "--out", str(out), "--mark-seen")
    assert status == 0, payload
    for trap in traps:
        assert stat.S_ISFIFO(os.lstat(trap).st_mode) if kind == "fifo" else trap.is_symlink()
    assert elsewhere.read_bytes() == b"not to be touched"
    assert Path(payload["messages"][0]["file"]).read_bytes() == operator.messages(DOCTOR)[0]
    assert unseen(operator) == []


def test_a_message_stored_by_an_earlier_run_is_not_stored_twice(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    deliver(operator, "Nouveau")
    out = tmp_path / "out"
    status, first = run_json("fetch", *options, "--out", str(out))  # stored, not marked: as if it stopped there
    assert status == 0
    status, second = run_json("fetch", *options, "--out", str(out), "--mark-seen")
    assert status == 0
    assert second["messages"][0]["file"] == first["messages"][0]["file"]
    assert len(list((out / "INBOX").iterdir())) == 1
    assert unseen(operator) == []


def test_the_same_uid_in_two_folders_is_two_files(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    deliver(operator, "Dans INBOX")
    account = operator.account(DOCTOR)
    inbox = account.folders["INBOX"][0]
    other = operator.messages(DOCTOR)[0].replace(b"Dans INBOX", b"Dans Archives")
    account.folders["Archives/2024"] = [Stored(inbox.uid, other)]  # UIDs are unique per folder only
    out = tmp_path / "out"
    prefix = listed_validity(options)  # the test server gives every folder the same
    for folder in ("INBOX", "Archives/2024"):
        status, payload = run_json("fetch", *options, "--folder", folder, "--out", str(out), "--mark-seen")
        assert status == 0, payload
    assert sorted(str(path.relative_to(out)) for path in out.rglob("*.eml")) == [
        f"Archives%2F2024/{prefix}-{inbox.uid}.eml",
        f"INBOX/{prefix}-{inbox.uid}.eml",
    ]
    assert (out / "INBOX" / f"{prefix}-{inbox.uid}.eml").read_bytes() == inbox.data
    assert (out / "Archives%2F2024" / f"{prefix}-{inbox.uid}.eml").read_bytes() == other


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("INBOX", "INBOX"),
        ("../../etc", "%2E.%2F..%2Fetc"),
        ("..", "%2E."),
        ("Éléments envoyés", "%C3%89l%C3%A9ments%20envoy%C3%A9s"),
        ("a%2Fb", "a%252Fb"),
    ],
)
def test_folder_names_are_safe_file_names(folder: str, name: str) -> None:
    assert folder_name(folder) == name


def test_long_folder_names_stay_distinct() -> None:
    first, second = folder_name("x" * 300 + "1"), folder_name("x" * 300 + "2")
    assert first != second
    assert len(first) <= 100
    assert "/" not in first


def test_a_message_that_cannot_be_parsed_does_not_stop_the_others(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    deliver(operator, "Avant")
    bad = operator.account(DOCTOR).add(many_parts())
    deliver(operator, "Après")
    out = tmp_path / "out"
    status, payload = run_json("fetch", *options, "--out", str(out), "--mark-seen")
    assert status == 1, payload  # read, and one message judged unreadable
    assert payload["ok"] is False
    assert [(f["code"], f["where"]) for f in payload["findings"]] == [("MSS-MIME-004", f"UID {bad}")]
    assert [m["subject"] for m in payload["messages"]] == ["Avant", None, "Après"]
    assert [m["parsed"] for m in payload["messages"]] == [True, False, True]
    good = [Path(m["file"]).read_bytes() for m in payload["messages"] if m["parsed"]]
    assert good == [operator.messages(DOCTOR)[0], operator.messages(DOCTOR)[2]]
    assert unseen(operator) == []  # each marked once stored, the one that cannot be parsed as it came


def test_a_message_that_cannot_be_parsed_is_stored_as_it_came(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    bad = operator.account(DOCTOR).add(many_parts())
    out = tmp_path / "out"
    status, payload = run_json("fetch", *options, "--out", str(out), "--mark-seen")
    assert status == 1
    [message] = payload["messages"]
    assert (message["uid"], message["parsed"]) == (bad, False)
    assert Path(message["file"]).read_bytes() == many_parts()
    assert unseen(operator) == []  # stored whole, so marked


# -- the same with a session that gives UIDVALIDITY and the bytes unparsed (ImapMailbox.uidvalidity, .fetch_raw) -----


class FakeMailbox:
    """A mailbox session as ``mssante fetch`` uses it, with UIDVALIDITY and ``fetch_raw``; records what is done."""

    messages: ClassVar[dict[str, bytes]] = {}
    events: ClassVar[list[tuple[str, str]]] = []
    uidvalidity = "1700000000"

    def __init__(self, host: str, port: int, **options: Any) -> None:
        self.folder = options["folder"]

    def __enter__(self) -> FakeMailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def unseen(self) -> list[str]:
        return [uid for uid in self.messages if ("mark seen", uid) not in self.events]

    def fetch(self, uid: str) -> FetchedMessage:
        return FetchedMessage(uid=uid, raw=self.messages[uid], message=parse(self.messages[uid]))

    def fetch_raw(self, uid: str) -> bytes:
        return self.messages[uid]

    def mark_seen(self, uid: str) -> None:
        self.events.append(("mark seen", uid))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[FakeMailbox]:
    good = compose(sender=APPLICATION, to=[DOCTOR], nil="DEV1", at=dt.datetime.now(dt.timezone.utc),
                   subject="Bon", text="...").as_bytes()  # fmt: skip
    monkeypatch.setattr(FakeMailbox, "messages", {"5": good, "6": many_parts(), "7": good.replace(b"Bon", b"Bien")})
    monkeypatch.setattr(FakeMailbox, "events", [])
    monkeypatch.setattr(_fetch, "ImapMailbox", FakeMailbox)
    return FakeMailbox


FAKE_SESSION = ["--server", "imap.example.mssante.fr:143", "--revocation", "off"]


def test_names_carry_the_uidvalidity(fake: type[FakeMailbox], tmp_path: Path) -> None:
    status, payload = run_json("fetch", *FAKE_SESSION, "--out", str(tmp_path))
    assert status == 1, payload
    assert payload["uidvalidity"] == "1700000000"
    assert sorted(path.name for path in (tmp_path / "INBOX").iterdir()) == [
        "1700000000-5.eml",
        "1700000000-6.eml",
        "1700000000-7.eml",
    ]
    assert (tmp_path / "INBOX" / "1700000000-6.eml").read_bytes() == fake.messages["6"]  # as it came
    assert [(f["code"], f["where"]) for f in payload["findings"]] == [("MSS-MIME-004", "UID 6")]


def test_marked_only_once_the_file_and_its_directory_are_synced(
    fake: type[FakeMailbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "INBOX").mkdir()
    fsync = os.fsync

    def spy(descriptor: int) -> None:
        fsync(descriptor)
        fake.events.append(("fsync", "directory" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file"))

    monkeypatch.setattr(os, "fsync", spy)
    status, _ = run_json("fetch", *FAKE_SESSION, "--out", str(tmp_path), "--mark-seen")
    assert status == 1
    for uid in ("5", "6", "7"):
        marked = fake.events.index(("mark seen", uid))
        assert fake.events[marked - 2 : marked] == [("fsync", "file"), ("fsync", "directory")], fake.events


# -- a refused session is a verdict: exit status 1, the refusal's code among the findings --------------------------


def refusal(status: int, payload: dict[str, Any]) -> list[str]:
    """The codes of a refused fetch, once its shape is checked: exit status 1, not ok, the keys of a fetch."""
    assert status == 1, payload
    assert payload["ok"] is False
    assert payload["messages"] == []
    assert (payload["folder"], payload["uidvalidity"]) == ("INBOX", None)
    return [finding["code"] for finding in payload["findings"]]


def elsewhere(options: list[str], port: int) -> list[str]:
    """``options`` with the server at ``port`` on this machine."""
    moved = list(options)
    moved[moved.index("--server") + 1] = f"localhost:{port}"
    return moved


def test_a_server_certificate_for_another_host_is_refused(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    chain, key = operator.pki.server(["mss.example.org"]).write(tmp_path, "other-host")
    context = server_context(operator.trust_store, certificate=chain, key=key)
    with serve(ImapState(), tls=context) as port:
        status, payload = run_json("fetch", *elsewhere(options, port))
    assert "MSS-PKI-010" in refusal(status, payload)


def test_a_server_without_starttls_is_refused(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    with serve(ImapState(), tls=None) as port:
        status, payload = run_json("fetch", *elsewhere(options, port))
        assert refusal(status, payload) == ["MSS-TRN-003"]
        status, out, _ = run("fetch", *elsewhere(options, port))
    assert status == 1
    assert "MSS-TRN-003" in out


def test_a_refused_client_certificate(operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = session(operator, tmp_path, monkeypatch)
    deliver(operator, "Premier")
    certificate = options[options.index("--cert") + 1]
    operator.revoke(x509.load_pem_x509_certificates(Path(certificate).read_bytes())[0])
    status, payload = run_json("fetch", *options)
    assert refusal(status, payload) == ["MSS-TRN-006"]
    assert "revoked" in payload["findings"][0]["message"]  # the server's reason, as it gave it


def test_an_unreachable_server(operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = session(operator, tmp_path, monkeypatch)
    with socket.socket() as nobody:  # a port of this machine where nothing listens
        nobody.bind(("127.0.0.1", 0))
        status, payload = run_json("fetch", *elsewhere(options, nobody.getsockname()[1]))
    assert refusal(status, payload) == ["MSS-TRN-001"]


def test_a_session_lost_midway_keeps_what_was_stored(
    fake: type[FakeMailbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = FakeMailbox.fetch_raw

    def lost_at_seven(self: FakeMailbox, uid: str) -> bytes:
        if uid == "7":
            raise failure(COMMAND_FAILED, "imap.example.mssante.fr:143 dropped the connection during UID FETCH")
        return read(self, uid)

    monkeypatch.setattr(FakeMailbox, "fetch_raw", lost_at_seven)
    status, payload = run_json("fetch", *FAKE_SESSION, "--out", str(tmp_path))
    assert status == 1
    assert [m["uid"] for m in payload["messages"]] == ["5", "6"]
    assert all(m["file"] for m in payload["messages"])
    assert [f["code"] for f in payload["findings"]] == ["MSS-MIME-004", "MSS-TRN-016"]
    assert "dropped the connection" in payload["error"]
