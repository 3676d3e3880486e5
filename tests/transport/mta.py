"""A private Postfix and a private Dovecot in a temporary directory, on free 127.0.0.1 ports, for interop tests.

Nothing of the system's configuration is read or changed: Postfix runs with ``postfix -c <dir>`` (its own
``main.cf``, ``master.cf``, queue and data directories, log file), Dovecot with ``dovecot -c <file>`` (its own
base, state and mail directories, log file). Both need root (they start as root and drop privileges).

- :class:`Postfix` plays an MSSanté operator: a submission listener and a port-25 relay listener, both STARTTLS
  only with a client certificate required and verified against the given CAs, delivering the ``domain`` to
  Dovecot over LMTP (loopback TCP); with ``policy_service``, asking that policy service at RCPT TO.
- :class:`Dovecot`: IMAP with STARTTLS and login by client certificate only (SASL EXTERNAL, the user name being
  the certificate's CN, CRLs required), LMTP, maildir, one virtual user per address.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.servers import REQUIRE_SERVERS, free_port, require, tail

__all__ = ["MTA_PACKAGES", "REQUIRE_MTA", "Dovecot", "MtaError", "Postfix", "TlsFiles", "free_port", "require_mta"]

MTA_PACKAGES = "postfix dovecot-imapd dovecot-lmtpd"
REQUIRE_MTA = REQUIRE_SERVERS
"""When set (CI), a missing Postfix or Dovecot fails the interop tests instead of skipping them."""

_POSTFIX = "/usr/sbin/postfix"
_DOVECOT = "/usr/sbin/dovecot"
_MAIL_USER = "dovecot"  # owner of the maildirs: Dovecot refuses to deliver as root


class MtaError(RuntimeError):
    """A server did not start or stop; the message ends with the last lines of its log."""


@dataclasses.dataclass(frozen=True)
class TlsFiles:
    """PEM files: the server certificate with its chain, its key, the CAs trusted for client certificates.

    ``crls`` (PEM, may be empty) go next to the CAs for Dovecot, which requires a CRL for every CA.
    """

    certificate: Path
    key: Path
    cas: Path
    crls: Path


def missing() -> str | None:
    """Why the MTA tests cannot run here, or None."""
    absent = [path for path in (_POSTFIX, _DOVECOT) if not os.access(path, os.X_OK)]
    if absent:
        return f"{', '.join(absent)} not installed (apt-get install {MTA_PACKAGES})"
    if os.geteuid() != 0:
        return "Postfix and Dovecot are started as root: run the tests as root"
    try:
        pwd.getpwnam(_MAIL_USER)
    except KeyError:
        return f"no {_MAIL_USER} system user (apt-get install {MTA_PACKAGES})"
    return None


def require_mta() -> None:
    """Skip the calling test (fail it when ``MSSANTE_REQUIRE_MTA`` is set) without Postfix, Dovecot or root."""
    require(missing(), tests="the interop tests")


def _run(command: Sequence[str], log: Path, what: str) -> None:
    """Run a start command; its output goes to a file (a daemon would keep a pipe open)."""
    output = log.with_name(f"{log.name}.start")
    with output.open("wb") as sink:
        code = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink, timeout=60, check=False)
    if code.returncode != 0:
        raise MtaError(
            f"{what} failed ({' '.join(command)}: exit {code.returncode}):\n{tail(output)}\n"
            f"last lines of {log}:\n{tail(log)}"
        )


def _refusal(port: int) -> str | None:
    """Why 127.0.0.1:``port`` does not accept a connection now, or None when it does."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return None
    except OSError as error:
        return str(error)


def _wait_port(port: int, *, log: Path, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while (refusal := _refusal(port)) is not None:
        if time.monotonic() > deadline:
            raise MtaError(
                f"{what} is not listening on 127.0.0.1:{port} after {timeout:.0f} s ({refusal}); "
                f"last lines of {log}:\n{tail(log)}"
            )
        time.sleep(0.05)


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - started as root, so ours
        return True
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[-1][:1] != "Z"
    except OSError:
        return False


def _terminate(pid_file: Path, *, timeout: float = 10.0) -> None:
    """SIGTERM the daemon whose pid is in ``pid_file``, SIGKILL its process group if it lingers."""
    pid = _pid(pid_file)
    if pid is None or not _alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            break
        time.sleep(0.05)


def _private_directory(prefix: str) -> Path:
    """A new directory under the system temp dir that the servers' unprivileged users can traverse."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    directory.chmod(0o755)
    return directory


class Postfix:
    """A private Postfix instance: ``submission_port`` and ``relay_port`` on 127.0.0.1, LMTP to ``lmtp_port``."""

    def __init__(
        self,
        tls: TlsFiles,
        *,
        domain: str,
        recipients: Sequence[str],
        lmtp_port: int,
        policy_service: tuple[str, int] | None = None,
        settings: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.tls = tls
        self.settings = tuple(settings)
        """``main.cf`` parameters written last, so that they replace the defaults (Postfix keeps the last one)."""
        self.domain = domain
        self.recipients = tuple(recipients)
        self.lmtp_port = lmtp_port
        self.submission_port = free_port()
        self.relay_port = free_port()
        self.policy_service = policy_service
        """With a policy service (host, port): every listener asks it at RCPT TO (``check_policy_service``), and a
        third port-25 listener, :attr:`policy_port`, asks for a client certificate without requiring one (the
        service decides)."""
        self.policy_port = free_port() if policy_service is not None else None
        self.directory = _private_directory("mssante-postfix-")
        self.log = self.directory / "maillog"
        self._started = False

    @property
    def config(self) -> Path:
        return self.directory / "etc"

    @property
    def queue(self) -> Path:
        return self.directory / "queue"

    def _main_cf(self) -> str:
        recipients = ", ".join(f"{address}=ok" for address in self.recipients)
        main = f"""\
compatibility_level = 3.6
config_directory = {self.config}
queue_directory = {self.queue}
data_directory = {self.directory / "data"}
maillog_file = {self.log}
maillog_file_prefixes = {self.directory}
myhostname = mx.{self.domain}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
biff = no
alias_maps =
alias_database =
virtual_mailbox_domains = {self.domain}
virtual_mailbox_maps = inline:{{ {recipients} }}
virtual_transport = lmtp:inet:[127.0.0.1]:{self.lmtp_port}
smtpd_tls_chain_files = {self.tls.key}, {self.tls.certificate}
smtpd_tls_CAfile = {self.tls.cas}
smtpd_tls_security_level = encrypt
smtpd_tls_ask_ccert = yes
smtpd_tls_req_ccert = yes
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
smtpd_relay_restrictions = permit_tls_all_clientcerts, reject_unauth_destination
"""
        return main + self._policy_cf() + "".join(f"{name} = {value}\n" for name, value in self.settings)

    def _policy_cf(self) -> str:
        """With a policy service, the restrictions that ask it (as ``docs/postfix.md`` writes them)."""
        if self.policy_service is None:
            return ""
        host, port = self.policy_service
        return f"""\
smtpd_recipient_restrictions =
    reject_unauth_destination,
    check_policy_service {{ inet:{host}:{port}, timeout=10s }}
"""

    def _master_cf(self) -> str:
        services = f"""\
127.0.0.1:{self.submission_port} inet n - n - - smtpd
  -o syslog_name=postfix/submission
127.0.0.1:{self.relay_port} inet n - n - - smtpd
  -o syslog_name=postfix/relay
  -o smtpd_relay_restrictions=reject_unauth_destination
"""
        if self.policy_service is not None:
            services += f"""\
127.0.0.1:{self.policy_port} inet n - n - - smtpd
  -o syslog_name=postfix/policy
  -o smtpd_tls_req_ccert=no
  -o smtpd_tls_fingerprint_digest=sha256
  -o smtpd_relay_restrictions=reject_unauth_destination
"""
        internal = """\
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
virtual unix - n n - - virtual
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""
        return services + internal

    def start(self) -> None:
        self.config.mkdir(mode=0o755)
        (self.config / "main.cf").write_text(self._main_cf())
        (self.config / "master.cf").write_text(self._master_cf())
        self.queue.mkdir(mode=0o755)
        (self.directory / "data").mkdir(mode=0o700)
        shutil.chown(self.directory / "data", user="postfix")
        self._started = True
        _run([_POSTFIX, "-c", str(self.config), "start"], self.log, "postfix start")
        for port in (self.submission_port, self.relay_port, self.policy_port):
            if port is not None:
                _wait_port(port, log=self.log, what="Postfix")

    def queued(self) -> list[str]:
        """The queue files waiting in the incoming, active and deferred queues."""
        return [path.name for name in ("incoming", "active", "deferred") for path in (self.queue / name).rglob("*")
                if path.is_file()]  # fmt: skip

    def stop(self) -> None:
        if self._started:
            _terminate(self.queue / "pid" / "master.pid")
            self._started = False
        shutil.rmtree(self.directory, ignore_errors=True)


class Dovecot:
    """A private Dovecot instance: IMAP (STARTTLS) on ``imap_port`` and LMTP on ``lmtp_port``, 127.0.0.1."""

    def __init__(self, tls: TlsFiles, *, users: Sequence[str]) -> None:
        self.tls = tls
        self.users = tuple(users)
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        self.directory = _private_directory("mssante-dovecot-")
        self.config = self.directory / "dovecot.conf"
        self.log = self.directory / "dovecot.log"
        self._started = False

    @property
    def base(self) -> Path:
        return self.directory / "run"

    def maildir(self, user: str) -> Path:
        return self.directory / "mail" / user / "Maildir"

    def _conf(self) -> str:
        account = pwd.getpwnam(_MAIL_USER)
        return f"""\
instance_name = mssante-{self.directory.name}
base_dir = {self.base}
state_dir = {self.directory / "state"}
log_path = {self.log}
info_log_path = {self.log}
protocols = imap lmtp
listen = 127.0.0.1
shutdown_clients = yes
first_valid_uid = {account.pw_uid}
first_valid_gid = {account.pw_gid}
mail_location = maildir:~/Maildir
ssl = required
ssl_cert = <{self.tls.certificate}
ssl_key = <{self.tls.key}
ssl_ca = <{self.directory / "client-cas.pem"}
ssl_verify_client_cert = yes
ssl_require_crl = yes
ssl_cert_username_field = commonName
disable_plaintext_auth = yes
auth_mechanisms = external
auth_ssl_require_client_cert = yes
auth_ssl_username_from_cert = yes
auth_verbose = yes
verbose_ssl = yes
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = {self.directory / "users"}
}}
userdb {{
  driver = passwd-file
  args = {self.directory / "users"}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
  unix_listener lmtp {{
    mode = 0
  }}
}}
"""

    def start(self) -> None:
        account = pwd.getpwnam(_MAIL_USER)
        mail = self.directory / "mail"
        mail.mkdir(mode=0o755)
        os.chown(mail, account.pw_uid, account.pw_gid)
        (self.directory / "users").write_text(
            "".join(f"{user}::{account.pw_uid}:{account.pw_gid}::{mail / user}::nopassword=y\n" for user in self.users)
        )
        (self.directory / "client-cas.pem").write_bytes(self.tls.cas.read_bytes() + self.tls.crls.read_bytes())
        self.config.write_text(self._conf())
        self._started = True
        _run([_DOVECOT, "-c", str(self.config)], self.log, "dovecot")
        for port in (self.imap_port, self.lmtp_port):
            _wait_port(port, log=self.log, what="Dovecot")

    def messages(self, user: str) -> list[bytes]:
        """The messages delivered to ``user``'s maildir (new and cur), read directly from the disk."""
        root = self.maildir(user)
        return [path.read_bytes() for name in ("new", "cur") for path in sorted((root / name).glob("*"))]

    def stop(self) -> None:
        if self._started:
            _terminate(self.base / "master.pid")
            self._started = False
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def running(server: Postfix | Dovecot) -> Iterator[None]:
    """Start ``server``; stop it and remove its directory on exit, even when starting failed."""
    try:
        server.start()
        yield
    finally:
        server.stop()
