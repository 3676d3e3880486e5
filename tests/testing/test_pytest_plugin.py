"""The pytest plugin: a vendor's test file using the fixtures passes, warnings as errors; aiosmtpd optional."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

VENDOR_TESTS = """
import datetime as dt

from mssante.message import compose
from mssante.testing.pytest_plugin import DIRECTORY_ENTRIES, OPERATOR_USER

PATIENT = "279035121518989@patient.mssante.fr"


def test_send_and_read(mssante_operator, mssante_client_certificate, mssante_trust_store):
    assert mssante_operator.trust_store.anchors == mssante_trust_store.anchors
    mail = compose(
        sender=OPERATOR_USER, to=[PATIENT], nil="DEV000001",
        at=dt.datetime.now(dt.timezone.utc), subject="Compte rendu", text="Bonjour",
    )
    with mssante_operator.submission(OPERATOR_USER, client_certificate=mssante_client_certificate) as smtp:
        assert smtp.send(mail, dsn=True).ok
    mssante_operator.add_user(PATIENT, token="jeton-patient")
    with mssante_operator.mailbox(PATIENT) as box:
        [uid] = box.unseen()
        assert box.fetch(uid).message.subject == "Compte rendu"
    with mssante_operator.mailbox(OPERATOR_USER) as box:
        [uid] = box.unseen()
        assert box.fetch(uid).message.dsn.recipients[0].action == "delivered"


def test_each_test_has_empty_mailboxes(mssante_operator):
    assert mssante_operator.messages("279035121518989@patient.mssante.fr") == []


def test_directory(mssante_directory):
    for address in DIRECTORY_ENTRIES:
        [found] = mssante_directory.lookup(address)
        assert found.address == address
    assert mssante_directory.lookup("10000000108")[0].person.family == "MARTIN"
    assert mssante_directory.info().mailboxes > 100


def test_pki(mssante_pki):
    assert mssante_pki.environment.value == "test"
"""


def test_vendor_suite_passes_with_the_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_vendor=VENDOR_TESTS)
    result = pytester.runpytest_subprocess("-W", "error", "-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_fixtures_are_listed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures")
    for name in (
        "mssante_pki",
        "mssante_trust_store",
        "mssante_client_certificate",
        "mssante_operator",
        "mssante_directory",
    ):
        result.stdout.fnmatch_lines([f"{name}*"])


def test_plugin_imports_without_aiosmtpd() -> None:
    code = (
        "import sys; import mssante.testing.pytest_plugin; "
        "heavy = [m for m in ('aiosmtpd', 'mssante.testing._operator') "
        "if m in sys.modules]; print(heavy)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_local_operator_without_aiosmtpd_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['aiosmtpd'] = None; import mssante.testing\n"
        "try:\n    mssante.testing.LocalOperator\nexcept ImportError as error:\n    print(error)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'mssante[testing]'" in output
