"""``mssante demo``: a complete MSSanté exchange on this machine, offline, in a few seconds.

A test PKI shaped like IGC Santé, a demo allow-list, a local operator (SMTP submission and IMAP with
STARTTLS and client certificates), a directory lookup in a sample offline index, a message to a patient
(MSS-C) carrying the CI-SIS CDA example in an XDM package and a PDF, submission with mutual TLS,
reception, parsing and linting, a read receipt back, and the delivery tracker showing delivered then
read. :func:`run_demo` returns a :class:`DemoResult`: each :class:`DemoStep` timed and said in words.
Given a folder, it keeps what the exchange made there (:data:`KEPT`); :func:`next_commands` gives the
``mssante`` commands that look at it.
Needs the ``testing`` extra (``pip install "mssante[cli,testing]"``).
"""

from mssante.demo._scenario import KEPT, next_commands, run_demo
from mssante.demo._steps import DemoResult, DemoStep

__all__ = ["KEPT", "DemoResult", "DemoStep", "next_commands", "run_demo"]
