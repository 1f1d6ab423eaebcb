"""Provision ([MS-ASPROV]): download the server's policy, acknowledge it, get the
PolicyKey every later command carries (``X-MS-PolicyKey``).

Two round trips: the first asks for the policy (type ``MS-EAS-Provisioning-WBXML``) and
gets it with a temporary key; the second acknowledges that key and gets the final one.
A server with no policy (SOGo) answers the first with policy status 2: there is no key.

What a terminal client cannot do it does not pretend to: a policy that requires device
encryption, a device password, or a remote wipe fails the account with
``PolicyNotMet`` (a ConfigError) saying so, instead of acknowledging it.
"""

from __future__ import annotations

from mailtui.errors import ConfigError, OpRejected
from mailtui.protocols.eas import status
from mailtui.protocols.eas.http import EasHttp
from mailtui.protocols.eas.wbxml import Element

POLICY_TYPE = "MS-EAS-Provisioning-WBXML"
#: Policy settings (``EASProvisionDoc``) mailtui cannot enforce when set to 1, in words.
UNENFORCEABLE = {
    "RequireDeviceEncryption": "encrypt the device's storage",
    "RequireStorageCardEncryption": "encrypt storage cards",
    "DevicePasswordEnabled": "lock the device with a password",
}
CANNOT = (
    "the server's security policy requires that this device {what}; mailtui, a terminal "
    "program, cannot enforce that, so it does not claim to (ask the server's administrator "
    "to allow devices that cannot be provisioned)"
)


class PolicyNotMet(ConfigError):
    """The server's policy asks for what a terminal client cannot do."""


def _request(policy_key: str | None = None) -> Element:
    policy = [Element("Provision:PolicyType", POLICY_TYPE)]
    if policy_key is not None:
        policy += [Element("Provision:PolicyKey", policy_key), Element("Provision:Status", "1")]
    return Element("Provision:Provision", [
        Element("Provision:Policies", [Element("Provision:Policy", policy)]),
    ])  # fmt: skip


def _policy(doc: Element | None, doing: str) -> Element | None:
    if doc is None:
        raise OpRejected(f"{doing}: the server answered nothing")
    if doc.find("RemoteWipe") is not None:
        raise PolicyNotMet(CANNOT.format(what="can be wiped from afar"))
    code = doc.findtext("Status", "1") or "1"
    if code != "1":
        raise status.status_error(code, doing)
    return doc.find("Policies/Policy")


def unmet(policy: Element) -> list[str]:
    """What the policy document asks that mailtui cannot do, in words."""
    settings = policy.find("Data/EASProvisionDoc")
    if settings is None:
        return []
    return [what for name, what in UNENFORCEABLE.items() if settings.findtext(name) == "1"]


async def provision(http: EasHttp) -> str | None:
    """Provisions the device; returns the PolicyKey (None: the server has no policy) and
    sets it on ``http``. Raises PolicyNotMet, or the status's error."""
    http.policy_key = None
    first = (await http.post("Provision", _request())).document
    policy = _policy(first, "Provision")
    if policy is None:
        return None
    code = policy.findtext("Status", "1") or "1"
    if code == "2":  # no policy for this client
        return None
    if code != "1":
        raise ConfigError(f"Provision: the server's policy could not be had (policy status {code})")
    missing = unmet(policy)
    if missing:
        raise PolicyNotMet(CANNOT.format(what=" and ".join(missing)))
    temporary = policy.findtext("PolicyKey")
    if not temporary:
        return None
    http.policy_key = temporary
    second = _policy((await http.post("Provision", _request(temporary))).document, "Provision")
    key = second.findtext("PolicyKey") if second is not None else None
    http.policy_key = key or temporary
    return http.policy_key
