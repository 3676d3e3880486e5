"""Make the Postfix tables of an MSSanté operator from the ANS allow-list.

Reads an allow-list file (``python allowlist_tables.py listeblanchemssante.xml``; by default the excerpt of the real
list of 2025-03-13 that ships with ``mssante.testing``), and writes in ``postfix/`` under the working directory the
three files ``main.cf`` points to (see docs/postfix.md): the outbound TLS policy map, the inbound sender access table
and the IGC Santé CA file. Offline; prints what was written and a sample line of each table.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mssante.pki import TrustStore
from mssante.testing import sample_path
from mssante.trustspace import AllowList, igc_sante_cafile, postfix_sender_access, postfix_tls_policy


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else sample_path("listeblanchemssante-2025-03-13-excerpt.xml")
    allow = AllowList.load(source)
    print(f"allow-list generated {allow.generated:%Y-%m-%d %H:%M}Z, {len(allow.domains)} domains")

    out = Path("postfix")
    out.mkdir(exist_ok=True)
    tables = {
        "mssante_tls_policy": postfix_tls_policy(allow),
        "mssante_senders": postfix_sender_access(allow),
        "igc-sante-prod.pem": igc_sante_cafile(TrustStore.bundled("prod")),
    }
    for name, text in tables.items():
        (out / name).write_text(text, encoding="utf-8")
        if name.endswith(".pem"):
            count = f"{text.count('-----BEGIN CERTIFICATE-----')} certificates"
        else:
            count = f"{sum(1 for line in text.splitlines() if line and not line.startswith('#'))} entries"
        print(f"{out / name}: {len(text.encode())} bytes, {count}")

    policy = tables["mssante_tls_policy"].splitlines()
    print(next(line for line in policy if line.startswith("uc-cmp.mssante.fr ")))
    print(next(line for line in policy if line.startswith("# acces-annuaire.mssante.fr"))[:100] + "...")
    assert "\nuc-cmp.mssante.fr OK\n" in tables["mssante_senders"]
    assert tables["igc-sante-prod.pem"].count("-----BEGIN CERTIFICATE-----") == 8


if __name__ == "__main__":
    main()
