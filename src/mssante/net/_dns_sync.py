"""The sync DNS resolver of the autoconfiguration shell (the async source imports ``mssante.net._dns_async``)."""

from __future__ import annotations

import dns.resolver

__all__ = ["Resolver"]

Resolver = dns.resolver.Resolver
