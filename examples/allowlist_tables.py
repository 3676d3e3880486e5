"""Make the Postfix tables of an MSSanté operator from the ANS allow-list.

Reads the real allow-list of 2025-03-13 kept in the repository's tests/data, and writes beside the working directory
the three files ``main.cf`` points to (see docs/postfix.md): the outbound TLS policy map, the inbound sender access
table and the IGC Santé CA file. Offline; prints what was written and a sample line of each table.
"""

from __future__ import annotations

from pathlib import Path

from mssante.pki import TrustStore
from mssante.trustspace import AllowList, igc_sante_cafile, postfix_sender_access, postfix_tls_policy

ALLOWLIST = Path(__file__).resolve().parent.parent / "tests" / "data" / "listeblanchemssante-2025-03-13-restored.xml"


def main() -> None:
    allow = AllowList.load(ALLOWLIST)
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
