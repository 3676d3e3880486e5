"""The async DNS resolver of the autoconfiguration shell (its sync twin imports ``mssante.net._dns_sync``)."""

from __future__ import annotations

import dns.asyncresolver

__all__ = ["Resolver"]

Resolver = dns.asyncresolver.Resolver
