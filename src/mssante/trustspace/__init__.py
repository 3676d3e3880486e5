"""The MSSanté trust space: the ANS allow-list ("liste blanche") and the decisions it makes.

An operator may exchange mail only with the domains of the allow-list, and only through the
operator certificates listed for each domain. :class:`AllowList` reads the ANS XML (strictly:
a truncated or malformed document is refused whole), and answers with a :class:`Decision`:
:meth:`~AllowList.check_domain`, :meth:`~AllowList.check_operator` (a certificate subject,
compared by value as an :class:`OperatorDn`), and :meth:`~AllowList.authorise_peer` (the
subject listed **and** the certificate valid for IGC Santé), with its inbound and outbound
forms.
"""

from mssante.trustspace._allowlist import ALLOWLIST_URL, AllowList, Decision
from mssante.trustspace._dn import OperatorDn
from mssante.trustspace._parse import MAX_ALLOWLIST_BYTES, NAMESPACE, Entry

__all__ = ["ALLOWLIST_URL", "MAX_ALLOWLIST_BYTES", "NAMESPACE", "AllowList", "Decision", "Entry", "OperatorDn"]
