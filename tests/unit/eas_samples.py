"""Realistic ActiveSync command documents, built as the command layer will build them and
as servers answer (shapes from [MS-ASCMD] section 4 and the SOGo traffic in
../shared/notes/eas-sogo.md), for the WBXML tests."""

from __future__ import annotations

from collections.abc import Callable

from mailtui.protocols.eas.wbxml import Element as E

MIME = (
    b"From: Ann <ann@example.test>\r\nTo: bob@example.test\r\n"
    b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
    + "\r\n  Grüße aus Köln & <Bonn>\r\n".encode()
    + b"line\r\n" * 200
)


def folder_sync_request() -> E:
    return E("FolderHierarchy:FolderSync", [E("FolderHierarchy:SyncKey", "0")])


def folder_sync_response() -> E:
    def add(server_id: str, parent: str, name: str, kind: str) -> E:
        return E(
            "FolderHierarchy:Add",
            [
                E("FolderHierarchy:ServerId", server_id),
                E("FolderHierarchy:ParentId", parent),
                E("FolderHierarchy:DisplayName", name),
                E("FolderHierarchy:Type", kind),
            ],
        )

    return E(
        "FolderHierarchy:FolderSync",
        [
            E("FolderHierarchy:Status", "1"),
            E("FolderHierarchy:SyncKey", "{6f2b3c1e-0000-4c1f-9d8e-5a1b2c3d4e5f}1"),
            E(
                "FolderHierarchy:Changes",
                [
                    E("FolderHierarchy:Count", "4"),
                    add("mail%2F0f1e2d3c4b5a69788796a5b4c3d2e1f0", "0", "INBOX", "2"),
                    add("mail%2FSent", "0", "Sent", "5"),
                    add("mail%2FArchiv%2F2026", "mail%2FArchiv", "2026 – Ärger & Co", "12"),
                    add("vcard%2Fpersonal", "0", "Personal Address Book", "9"),
                ],
            ),
        ],
    )


def sync_request() -> E:
    """A Sync with client changes: an Add (a draft), a Change (read + flag), a Delete."""
    flag = E(
        "Email:Flag",
        [E("Email:Status", "2"), E("Email:FlagType", "Follow Up"),
         E("Tasks:StartDate", "2026-12-04T00:00:00.000Z")],
    )  # fmt: skip
    return E(
        "AirSync:Sync",
        [
            E(
                "AirSync:Collections",
                [
                    E(
                        "AirSync:Collection",
                        [
                            E("AirSync:SyncKey", "1-2"),
                            E("AirSync:CollectionId", "mail%2FINBOX"),
                            E("AirSync:DeletesAsMoves", "1"),
                            E("AirSync:GetChanges"),
                            E("AirSync:WindowSize", "100"),
                            E(
                                "AirSync:Options",
                                [
                                    E("AirSync:FilterType", "0"),
                                    E("AirSync:MIMESupport", "2"),
                                    E(
                                        "AirSyncBase:BodyPreference",
                                        [E("AirSyncBase:Type", "4"),
                                         E("AirSyncBase:TruncationSize", "51200")],
                                    ),  # fmt: skip
                                ],
                            ),
                            E(
                                "AirSync:Commands",
                                [
                                    E(
                                        "AirSync:Add",
                                        [
                                            E("AirSync:ClientId", "c-1"),
                                            E(
                                                "AirSync:ApplicationData",
                                                [
                                                    E("Email:To", '"Bob" <bob@example.test>'),
                                                    E("Email:Subject", "Entwurf: 日本語"),
                                                    E(
                                                        "AirSyncBase:Body",
                                                        [E("AirSyncBase:Type", "1"),
                                                         E("AirSyncBase:Data", "Hallo\r\n")],
                                                    ),  # fmt: skip
                                                    E("Email2:IsDraft", "1"),
                                                ],
                                            ),
                                        ],
                                    ),
                                    E(
                                        "AirSync:Change",
                                        [
                                            E("AirSync:ServerId", "17"),
                                            E(
                                                "AirSync:ApplicationData",
                                                [E("Email:Read", "1"), flag],
                                            ),
                                        ],
                                    ),
                                    E("AirSync:Delete", [E("AirSync:ServerId", "18")]),
                                ],
                            ),
                        ],
                    )
                ],
            )
        ],
    )


def sync_response() -> E:
    """Server changes: an Add with a MIME body sent as a string, a Change, a SoftDelete."""
    add = E(
        "AirSync:Add",
        [
            E("AirSync:ServerId", "19"),
            E(
                "AirSync:ApplicationData",
                [
                    E("Email:To", "bob@example.test"),
                    E("Email:From", "Ann <ann@example.test>"),
                    E("Email:Subject", "Grüße"),
                    E("Email:DateReceived", "2026-12-04T10:11:12.000Z"),
                    E("Email:DisplayTo", "Bob"),
                    E("Email:Importance", "1"),
                    E("Email:Read", "0"),
                    E(
                        "AirSyncBase:Body",
                        [
                            E("AirSyncBase:Type", "4"),
                            E("AirSyncBase:EstimatedDataSize", str(len(MIME))),
                            E("AirSyncBase:Data", MIME, opaque=False),
                        ],
                    ),
                    E("Email:MessageClass", "IPM.Note"),
                    E("Email:InternetCPID", "65001"),
                    E("Email:ContentClass", "urn:content-classes:message"),
                    E("AirSyncBase:NativeBodyType", "1"),
                    E("Email2:ConversationId", bytes(range(16))),
                    E("Email2:ConversationIndex", b"\x01\xd9\x00\x10\x20"),
                ],
            ),
        ],
    )
    change = E(
        "AirSync:Change",
        [E("AirSync:ServerId", "17"),
         E("AirSync:ApplicationData", [E("Email:Read", "1")])],
    )  # fmt: skip
    return E(
        "AirSync:Sync",
        [
            E(
                "AirSync:Collections",
                [
                    E(
                        "AirSync:Collection",
                        [
                            E("AirSync:SyncKey", "4-2"),
                            E("AirSync:CollectionId", "mail%2FINBOX"),
                            E("AirSync:Status", "1"),
                            E(
                                "AirSync:Responses",
                                [E("AirSync:Add", [E("AirSync:ClientId", "c-1"),
                                                   E("AirSync:ServerId", "20"),
                                                   E("AirSync:Status", "1")])],
                            ),  # fmt: skip
                            E(
                                "AirSync:Commands",
                                [add, change,
                                 E("AirSync:SoftDelete", [E("AirSync:ServerId", "3")]),
                                 E("AirSync:Delete", [E("AirSync:ServerId", "4")])],
                            ),  # fmt: skip
                            E("AirSync:MoreAvailable"),
                        ],
                    )
                ],
            )
        ],
    )


def item_operations_fetch() -> E:
    return E(
        "ItemOperations:ItemOperations",
        [
            E(
                "ItemOperations:Fetch",
                [
                    E("ItemOperations:Store", "Mailbox"),
                    E("AirSync:CollectionId", "mail%2FINBOX"),
                    E("AirSync:ServerId", "19"),
                    E(
                        "ItemOperations:Options",
                        [E("AirSync:MIMESupport", "2"),
                         E("AirSyncBase:BodyPreference", [E("AirSyncBase:Type", "4")])],
                    ),  # fmt: skip
                ],
            )
        ],
    )


def item_operations_response() -> E:
    return E(
        "ItemOperations:ItemOperations",
        [
            E("ItemOperations:Status", "1"),
            E(
                "ItemOperations:Response",
                [
                    E(
                        "ItemOperations:Fetch",
                        [
                            E("ItemOperations:Status", "1"),
                            E("AirSync:CollectionId", "mail%2FINBOX"),
                            E("AirSync:ServerId", "19"),
                            E("AirSync:Class", "Email"),
                            E(
                                "ItemOperations:Properties",
                                [
                                    E(
                                        "AirSyncBase:Body",
                                        [E("AirSyncBase:Type", "4"),
                                         E("AirSyncBase:EstimatedDataSize", str(len(MIME))),
                                         E("AirSyncBase:Data", MIME, opaque=False)],
                                    )  # fmt: skip
                                ],
                            ),
                        ],
                    )
                ],
            ),
        ],
    )


def ping_request() -> E:
    def folder(folder_id: str) -> E:
        return E("Ping:Folder", [E("Ping:Id", folder_id), E("Ping:Class", "Email")])

    return E(
        "Ping:Ping",
        [E("Ping:HeartbeatInterval", "480"),
         E("Ping:Folders", [folder("mail%2FINBOX"), folder("mail%2FSent")])],
    )  # fmt: skip


def ping_response() -> E:
    return E(
        "Ping:Ping",
        [E("Ping:Status", "2"), E("Ping:Folders", [E("Ping:Folder", "mail%2FINBOX")])],
    )


def provision_request() -> E:
    info = E(
        "Settings:DeviceInformation",
        [
            E(
                "Settings:Set",
                [E("Settings:Model", "mailtui"), E("Settings:OS", "Linux"),
                 E("Settings:UserAgent", "mailtui/0.1"),
                 E("Settings:FriendlyName", "mailtui on host")],
            )  # fmt: skip
        ],
    )
    return E(
        "Provision:Provision",
        [
            info,
            E(
                "Provision:Policies",
                [E("Provision:Policy", [E("Provision:PolicyType", "MS-EAS-Provisioning-WBXML")])],
            ),
        ],
    )


def provision_response() -> E:
    doc = E(
        "Provision:EASProvisionDoc",
        [
            E("Provision:DevicePasswordEnabled", "1"),
            E("Provision:AlphanumericDevicePasswordRequired", "0"),
            E("Provision:RequireStorageCardEncryption", "0"),
            E("Provision:MinDevicePasswordLength", "4"),
            E("Provision:MaxInactivityTimeDeviceLock", "900"),
            E("Provision:AllowSimpleDevicePassword", "1"),
            E("Provision:RequireDeviceEncryption", "1"),
            E("Provision:AllowHTMLEmail", "1"),
            E("Provision:UnapprovedInROMApplicationList"),
            E("Provision:ApprovedApplicationList"),
        ],
    )
    return E(
        "Provision:Provision",
        [
            E("Provision:Status", "1"),
            E(
                "Provision:Policies",
                [
                    E(
                        "Provision:Policy",
                        [
                            E("Provision:PolicyType", "MS-EAS-Provisioning-WBXML"),
                            E("Provision:Status", "1"),
                            E("Provision:PolicyKey", "1307199584"),
                            E("Provision:Data", [doc]),
                        ],
                    )
                ],
            ),
        ],
    )


def send_mail() -> E:
    return E(
        "ComposeMail:SendMail",
        [E("ComposeMail:ClientId", "outbox-42"), E("ComposeMail:SaveInSentItems"),
         E("ComposeMail:Mime", MIME)],
    )  # fmt: skip


def move_items() -> E:
    def move(message: str) -> E:
        return E(
            "Move:Move",
            [E("Move:SrcMsgId", message), E("Move:SrcFldId", "mail%2FINBOX"),
             E("Move:DstFldId", "mail%2FArchiv")],
        )  # fmt: skip

    return E("Move:MoveItems", [move("17"), move("19")])


def move_items_response() -> E:
    return E(
        "Move:MoveItems",
        [
            E(
                "Move:Response",
                [E("Move:SrcMsgId", "17"), E("Move:Status", "3"), E("Move:DstMsgId", "5")],
            )
        ],
    )


def get_item_estimate() -> E:
    return E(
        "GetItemEstimate:GetItemEstimate",
        [
            E(
                "GetItemEstimate:Collections",
                [
                    E(
                        "GetItemEstimate:Collection",
                        [E("AirSync:SyncKey", "1-2"),
                         E("GetItemEstimate:CollectionId", "mail%2FINBOX"),
                         E("AirSync:Options", [E("AirSync:FilterType", "0")])],
                    )  # fmt: skip
                ],
            )
        ],
    )


def get_item_estimate_response() -> E:
    return E(
        "GetItemEstimate:GetItemEstimate",
        [
            E(
                "GetItemEstimate:Response",
                [
                    E("GetItemEstimate:Status", "1"),
                    E(
                        "GetItemEstimate:Collection",
                        [E("GetItemEstimate:CollectionId", "mail%2FINBOX"),
                         E("GetItemEstimate:Estimate", "2841")],
                    ),  # fmt: skip
                ],
            )
        ],
    )


DOCUMENTS: dict[str, Callable[[], E]] = {
    f.__name__: f
    for f in (
        folder_sync_request,
        folder_sync_response,
        sync_request,
        sync_response,
        item_operations_fetch,
        item_operations_response,
        ping_request,
        ping_response,
        provision_request,
        provision_response,
        send_mail,
        move_items,
        move_items_response,
        get_item_estimate,
        get_item_estimate_response,
    )
}
