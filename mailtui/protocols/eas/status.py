"""ActiveSync's common status codes ([MS-ASCMD] section 2.2.2: 101-177, the same in every
command's Status element) in plain words, and the error each one makes.

A command's own codes (1-17, which mean something else in each command: Sync's 3 is a
bad sync key, Ping's 2 is "changes") stay with that command; ``describe`` and
``status_error`` fall back to "status N" for them.

What each error means to the sync worker:

    TransientError       tried again after a while (the server's trouble, not ours)
    ProvisionRequired    provision again, then repeat the command (142-144, 140)
    AuthError            the account is refused until the user acts (disabled, blocked)
    ConfigError          nothing works until something changes (a protocol version or a
                         policy this client cannot meet)
    OpRejected           this request is refused for good (an item, a message, a quota)
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from mailtui.errors import (
    AuthError,
    ConfigError,
    MailtuiError,
    OpRejected,
    SyncError,
    TransientError,
)


class ProvisionRequired(SyncError):
    """The server wants the device provisioned (again) before it answers: HTTP 449 or
    status 140-144. The command layer provisions and repeats the command."""


class Kind(Enum):
    RETRY = "retry"
    PROVISION = "provision"
    REFUSED = "refused"  # the account
    UNSUPPORTED = "unsupported"  # this client as it is
    REJECTED = "rejected"  # this request


_R, _P, _A, _U, _X = Kind.RETRY, Kind.PROVISION, Kind.REFUSED, Kind.UNSUPPORTED, Kind.REJECTED

# code: (name in MS-ASCMD, kind, plain words)
# fmt: off
COMMON: Final[dict[int, tuple[str, Kind, str]]] = {
    101: ("InvalidContent", _X, "the server could not read the request"),
    102: ("InvalidWBXML", _X, "the server could not read the request (its WBXML)"),
    103: ("InvalidXML", _X, "the server found the request malformed"),
    104: ("InvalidDateTime", _X, "a date in the request is not valid"),
    105: ("InvalidCombinationOfIDs", _X, "the request names items that do not go together"),
    106: ("InvalidIDs", _X, "an id in the request is not valid"),
    107: ("InvalidMIME", _X, "the server could not read the message"),
    108: ("DeviceIdMissingOrInvalid", _U, "the server refused this client's device id"),
    109: ("DeviceTypeMissingOrInvalid", _U, "the server refused this client's device type"),
    110: ("ServerError", _R, "the server failed with an error of its own"),
    111: ("ServerErrorRetryLater", _R, "the server failed for now and asks to try later"),
    112: ("ActiveDirectoryAccessDenied", _X, "the server may not read or change the directory"),
    113: ("MailboxQuotaExceeded", _X, "the mailbox is full"),
    114: ("MailboxServerOffline", _R, "the mailbox server is offline"),
    115: ("SendQuotaExceeded", _X, "the account may not send more mail for now"),
    116: ("MessageRecipientUnresolved", _X, "a recipient could not be found"),
    117: ("MessageReplyNotAllowed", _X, "the server does not allow a reply to this message"),
    118: ("MessagePreviouslySent", _X, "this message was already sent"),
    119: ("MessageHasNoRecipient", _X, "the message has no recipient"),
    120: ("MailSubmissionFailed", _X, "the server could not send the message"),
    121: ("MessageReplyFailed", _X, "the server could not send the reply"),
    122: ("AttachmentIsTooLarge", _X, "an attachment is too large for the server"),
    123: ("UserHasNoMailbox", _A, "the user has no mailbox on this server"),
    124: ("UserCannotBeAnonymous", _A, "the server wants a user name and password"),
    125: ("UserPrincipalCouldNotBeFound", _A, "the server does not know this user"),
    126: ("UserDisabledForSync", _A, "ActiveSync is turned off for this user"),
    127: ("UserOnNewMailboxCannotSync", _A, "the server does not let this user sync"),
    128: ("UserOnLegacyMailboxCannotSync", _A, "the server does not let this user sync"),
    129: ("DeviceIsBlockedForThisUser", _A, "the server blocks this device for the user"),
    130: ("AccessDenied", _A, "the user may not do this"),
    131: ("AccountDisabled", _A, "the account is disabled"),
    132: ("SyncStateNotFound", _R, "the server lost this device's sync state"),
    133: ("SyncStateLocked", _R, "the server's sync state is locked (a mailbox move?)"),
    134: ("SyncStateCorrupt", _R, "the server's sync state of this device is damaged"),
    135: ("SyncStateAlreadyExists", _R, "two first syncs ran at once"),
    136: ("SyncStateVersionInvalid", _R, "the server's sync state has a version it refuses"),
    137: ("CommandNotSupported", _U, "the server does not support this command"),
    138: ("VersionNotSupported", _U, "the server does not support this command in this "
                                     "protocol version"),
    139: ("DeviceNotFullyProvisionable", _U, "the server demands security policies this "
                                             "client cannot meet"),
    140: ("RemoteWipeRequested", _P, "the server asks for a remote wipe"),
    141: ("LegacyDeviceOnStrictPolicy", _U, "the server demands security policies this "
                                            "client cannot meet"),
    142: ("DeviceNotProvisioned", _P, "the server wants the device provisioned"),
    143: ("PolicyRefresh", _P, "the server's security policy is to be fetched again"),
    144: ("InvalidPolicyKey", _P, "the server's security policy changed"),
    145: ("ExternallyManagedDevicesNotAllowed", _U, "the server does not allow externally "
                                                    "managed devices"),
    146: ("NoRecurrenceInCalendar", _X, "the meeting has no recurrence"),
    147: ("UnexpectedItemClass", _X, "the server does not know this kind of item"),
    148: ("RemoteServerHasNoSSL", _U, "the server would have to pass the request on "
                                      "without TLS"),
    149: ("InvalidStoredRequest", _R, "the server wants the full request again"),
    150: ("ItemNotFound", _X, "the item is no longer on the server"),
    151: ("TooManyFolders", _X, "the mailbox has too many folders"),
    152: ("NoFoldersFound", _X, "the mailbox has no folders"),
    153: ("ItemsLostAfterMove", _X, "some moved items cannot be found"),
    154: ("FailureInMoveOperation", _X, "the server failed to move the items"),
    155: ("MoveCommandDisallowedForNonPersistentMoveAction", _X,
          "the server refused to move the conversation"),
    156: ("MoveCommandInvalidDestinationFolder", _X, "the destination folder is not valid"),
    160: ("AvailabilityTooManyRecipients", _X, "too many recipients to look up"),
    161: ("AvailabilityDLLimitReached", _X, "the distribution list is too large"),
    162: ("AvailabilityTransientFailure", _R, "free/busy lookup failed for now"),
    163: ("AvailabilityFailure", _X, "free/busy lookup failed"),
    164: ("BodyPartPreferenceTypeNotSupported", _X, "the server refused the body part type"),
    165: ("DeviceInformationRequired", _U, "the server wants the device's information"),
    166: ("InvalidAccountId", _X, "the account id is not valid"),
    167: ("AccountSendDisabled", _X, "this account may not send mail"),
    168: ("IRM_FeatureDisabled", _X, "rights management is turned off"),
    169: ("IRM_TransientError", _R, "rights management failed for now"),
    170: ("IRM_PermanentError", _X, "rights management failed"),
    171: ("IRM_InvalidTemplateID", _X, "the rights management template is not valid"),
    172: ("IRM_OperationNotPermitted", _X, "rights management does not allow this"),
    173: ("NoPicture", _X, "the user has no picture"),
    174: ("PictureTooLarge", _X, "the picture is too large"),
    175: ("PictureLimitReached", _X, "too many pictures"),
    176: ("BodyPart_ConversationTooLarge", _X, "the conversation is too large"),
    177: ("MaximumDevicesReached", _A, "the user has reached the server's limit of devices: "
                                       "remove an old one on the server"),
}
# fmt: on

_ERRORS: Final[dict[Kind, type[MailtuiError]]] = {
    Kind.RETRY: TransientError,
    Kind.PROVISION: ProvisionRequired,
    Kind.REFUSED: AuthError,
    Kind.UNSUPPORTED: ConfigError,
    Kind.REJECTED: OpRejected,
}


def describe(code: int | str) -> str:
    """A status code in plain words: "the mailbox is full (status 113)"."""
    number = _number(code)
    known = COMMON.get(number) if number is not None else None
    return f"{known[2]} (status {code})" if known else f"status {code}"


def kind(code: int | str) -> Kind | None:
    """What the code asks of the client; None for a command's own code (below 101) or one
    this table does not know."""
    number = _number(code)
    known = COMMON.get(number) if number is not None else None
    return known[1] if known else None


def status_error(code: int | str, doing: str) -> MailtuiError:
    """The error for a status that is not success, ``doing`` naming the request
    ("FolderSync", "sending the message"): "FolderSync: the mailbox server is offline
    (status 114)". A code this table does not know is refused for good (OpRejected):
    the command layer handles its own codes before asking here."""
    found = kind(code)
    error = _ERRORS[found] if found else OpRejected
    return error(f"{doing}: {describe(code)}")


def _number(code: int | str) -> int | None:
    if isinstance(code, int):
        return code
    text = code.strip()
    return int(text) if text.isdigit() and len(text) < 6 else None
