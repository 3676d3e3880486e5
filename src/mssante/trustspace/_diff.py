"""What changed between two allow-lists: domains added, removed, and whose operator certificates changed."""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Mapping
from typing import Any

import attrs

from mssante.trustspace._allowlist import AllowList
from mssante.trustspace._dn import OperatorDn

__all__ = ["AllowListDiff", "diff"]


def _frozen(mapping: Mapping[str, tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
    return types.MappingProxyType(dict(mapping))


def iso_time(moment: dt.datetime) -> str:
    """``2025-03-13T14:54:10Z``."""
    return moment.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


@attrs.frozen(kw_only=True)
class AllowListDiff:
    """The difference between an ``old`` and a ``new`` allow-list, as what each allows.

    A domain counts when it has at least one usable entry. ``added`` and ``removed`` are the
    domains only in the new or only in the old list; ``changed`` the domains in both whose set
    of operator DNs differs, DNs being compared by value (a DN rewritten with other spaces, or
    ``L`` for ``ST``, is no change). ``dns_added`` and ``dns_removed`` give, for each changed
    domain, the DNs as each list writes them. All are sorted.
    """

    old_generated: dt.datetime
    new_generated: dt.datetime
    old_sha256: str = ""
    new_sha256: str = ""
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    dns_added: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, converter=_frozen, hash=False)
    dns_removed: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, converter=_frozen, hash=False)

    @property
    def empty(self) -> bool:
        """True when both lists allow the same domains through the same operator certificates."""
        return not (self.added or self.removed or self.changed)

    def __bool__(self) -> bool:
        return not self.empty

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``mssante whitelist diff``: ``added``, ``removed``, ``changed``, ``old``, ``new``, ..."""
        return {
            "old": iso_time(self.old_generated),
            "new": iso_time(self.new_generated),
            "old_sha256": self.old_sha256,
            "new_sha256": self.new_sha256,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
            "dns_added": {domain: list(dns) for domain, dns in self.dns_added.items()},
            "dns_removed": {domain: list(dns) for domain, dns in self.dns_removed.items()},
        }


def operators_by_domain(allow: AllowList) -> dict[str, frozenset[OperatorDn]]:
    """Each domain the list allows, with its operator DNs."""
    operators = {domain: allow.operators(domain) for domain in allow.domains}
    return {domain: dns for domain, dns in operators.items() if dns}


def _texts(dns: frozenset[OperatorDn]) -> tuple[str, ...]:
    return tuple(sorted(str(dn) for dn in dns))


def diff(old: AllowList, new: AllowList) -> AllowListDiff:
    """What changed from ``old`` to ``new``: see :class:`AllowListDiff`."""
    before, after = operators_by_domain(old), operators_by_domain(new)
    changed = sorted(domain for domain in before.keys() & after.keys() if before[domain] != after[domain])
    return AllowListDiff(
        old_generated=old.generated,
        new_generated=new.generated,
        old_sha256=old.sha256,
        new_sha256=new.sha256,
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        changed=tuple(changed),
        dns_added={domain: _texts(after[domain] - before[domain]) for domain in changed},
        dns_removed={domain: _texts(before[domain] - after[domain]) for domain in changed},
    )
