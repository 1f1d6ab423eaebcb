"""Provision ([MS-ASPROV]): the server's security policy fetched and acknowledged, for
the PolicyKey every later command carries (``EasHttp.policy_key``).

    Provision (PolicyType MS-EAS-Provisioning-WBXML)   ─▶ Status 1, a temporary PolicyKey
                                                          and the policy (EASProvisionDoc)
    Provision (that PolicyKey, Status 1: applied)       ─▶ the PolicyKey to use from now on

A server without a policy for this client answers the first request with the policy's
Status 2 and no key: nothing to acknowledge, the key stays unset.

A terminal client cannot lock the device with a password, encrypt its storage or wipe
it, so it never claims to: a policy that requires any of that is acknowledged with
status 3 ("not applied"). A server that lets such devices in (Exchange's
``AllowNonProvisionableDevices``) then gives its key; one that does not refuses, and
that is a ConfigError saying what the server requires. A remote wipe request is a
ConfigError too.

Kept small on purpose: what the sender needs when a server answers 449 before a
message goes out. The sync backend's Provision may replace it.
"""

from __future__ import annotations

import platform

from mailtui.errors import ConfigError, OpRejected, TransientError
from mailtui.protocols.eas import status
from mailtui.protocols.eas.http import EasHttp
from mailtui.protocols.eas.wbxml import Element

POLICY_TYPE = "MS-EAS-Provisioning-WBXML"

#: Policy settings that ask for what a terminal client cannot do, with the words for it.
CANNOT: dict[str, str] = {
    "DevicePasswordEnabled": "a device password",
    "RequireDeviceEncryption": "device encryption",
    "RequireStorageCardEncryption": "storage card encryption",
}


def _policies(key: str | None = None, applied: bool = True) -> Element:
    policy = [Element("Provision:PolicyType", POLICY_TYPE)]
    if key is not None:
        code = "1" if applied else "3"  # 3: the policy was not applied
        policy += [Element("Provision:PolicyKey", key), Element("Provision:Status", code)]
    return Element("Provision:Policies", [Element("Provision:Policy", policy)])


def _device_information(user_agent: str) -> Element:
    fields = [("Model", "mailtui"), ("OS", platform.system() or "Unknown"),
              ("UserAgent", user_agent), ("FriendlyName", "mailtui")]  # fmt: skip
    return Element(
        "Settings:DeviceInformation",
        [Element("Settings:Set", [Element(f"Settings:{k}", v) for k, v in fields])],
    )


def unmet(policy: Element | None) -> list[str]:
    """What a Policy's EASProvisionDoc requires that mailtui cannot do, in words."""
    doc = policy.find("Data/EASProvisionDoc") if policy is not None else None
    if doc is None:
        return []
    return [words for name, words in CANNOT.items() if (doc.findtext(name) or "").strip() == "1"]


async def provision(http: EasHttp, *, user_agent: str = "mailtui") -> str | None:
    """Provisions the device; sets and returns ``http.policy_key`` (None: the server
    has no policy for it). Raises ConfigError (a policy mailtui cannot meet, a wipe),
    TransientError, AuthError, OpRejected."""
    http.policy_key = "0"
    first: list[Element] = []
    if http.protocol_version in ("14.1", "16.0", "16.1"):
        first.append(_device_information(user_agent))
    answer = await _ask(http, Element("Provision:Provision", [*first, _policies()]))
    policy = answer.find("Policies/Policy")
    code = (policy.findtext("Status") if policy is not None else None) or "2"
    if code == "2" or policy is None:  # no policy for this client
        http.policy_key = None
        return None
    if code != "1":
        raise OpRejected(f"Provision: the server refused the policy request (status {code})")
    missing = unmet(policy)
    temporary = (policy.findtext("PolicyKey") or "").strip()
    if not temporary:
        raise TransientError("Provision: the server sent a policy without a key")
    http.policy_key = temporary
    request = Element("Provision:Provision", [_policies(temporary, applied=not missing)])
    try:
        acked = await _ask(http, request)
    except OpRejected:
        if not missing:
            raise
        acked = None
    final = (acked.findtext("Policies/Policy/PolicyKey") or "").strip() if acked else ""
    accepted = acked is not None and acked.findtext("Policies/Policy/Status") in (None, "1")
    if missing and not (final and accepted):
        raise ConfigError(
            f"the server requires {', '.join(missing)}, which a terminal mail client cannot "
            "enforce, and does not let such devices in; ask its administrator to allow "
            "devices that cannot (Exchange: AllowNonProvisionableDevices)"
        )
    if not final:
        raise TransientError("Provision: the server acknowledged the policy without a key")
    http.policy_key = final
    return final


async def _ask(http: EasHttp, request: Element) -> Element:
    document = (await http.post("Provision", request)).document
    if document is None or document.tag != "Provision:Provision":
        raise TransientError("Provision: the server's answer is not a Provision response")
    if document.find("RemoteWipe") is not None:
        raise ConfigError(
            "the server asks this device to wipe itself (remote wipe), which mailtui "
            "cannot do; the account is stopped: ask the server's administrator"
        )
    code = (document.findtext("Status") or "").strip()
    if code == "1":
        return document
    if code == "3":
        raise TransientError("Provision: the server failed for now (status 3)")
    if code.isdigit() and int(code) > 100:
        raise status.status_error(code, "Provision")
    raise OpRejected(f"Provision: the server refused the request (status {code or 'none'})")
