"""``Store``: the local cache as one object, composed of parts that each own their tables.

| part (module)      | owns                                   | used by                      |
| ------------------ | -------------------------------------- | ---------------------------- |
| ``db.Database``    | connections, transactions, migrations  | every part                   |
| ``SyncState``      | a batch's folder, sync state writes    | the parts that sync writes   |
| ``Accounts``       | accounts, folders, their sync state    | the sync worker              |
| ``MailWrites``     | batches of mail changes                | the sync worker              |
| ``Bodies``         | bodies, packs, search texts            | worker, indexer, reads       |
| ``Reads``          | folder lists, message list, search     | UI, exporter                 |
| ``ListingQueries`` | conversations, "next unread"           | UI                           |
| ``Intents``        | local changes + their pending ops      | UI                           |
| ``Undo``           | taking intents back                    | UI                           |
| ``PendingOps``     | the op life cycle (claim, done, failed)| the sync worker              |
| ``Outbox``         | outbox, draft copies                   | compose, the outbox sender   |
| ``LocalMail``      | folders and ops of local accounts      | the sync worker, the manager |
| ``AddressQueries`` | address completion                     | compose                      |
| ``Contacts``       | contacts synced from servers           | the sync worker, address book|
| ``Calendar``       | calendar items synced from servers     | the sync worker, agenda      |
| ``Downloads``      | the download ledger (POP3 UIDLs)       | the sync worker (ledger)     |

Why mixins over one ``Database`` rather than separate objects: every write of every part
must run in the same serialized transaction (``Database._tx``), and several writes span
parts (a permanent op failure reverts an intent; a sync batch adopts a moved message; a
vanished folder fails the moves into it; a draft copy inserts a message and queues an op).
Parts that were objects would have to pass the connection and the transaction between
them on every call; as mixins they share it, and a part names the few methods of other
parts it calls in an ``if TYPE_CHECKING:`` block, so those dependencies are visible at
the top of each class. Callers see one ``Store``, as before.
"""

from __future__ import annotations

from mailtui.store.accounts import Accounts
from mailtui.store.addresses import AddressQueries
from mailtui.store.bodies import Bodies
from mailtui.store.calendar import Calendar
from mailtui.store.contacts import Contacts
from mailtui.store.downloads import Downloads
from mailtui.store.intents import Intents
from mailtui.store.listing import ListingQueries
from mailtui.store.local import LocalMail
from mailtui.store.mail_writes import MailWrites
from mailtui.store.ops import PendingOps
from mailtui.store.outbox import Outbox
from mailtui.store.reads import Reads
from mailtui.store.undo import Undo


class Store(
    Accounts,
    MailWrites,
    Bodies,
    Reads,
    ListingQueries,
    Intents,
    Undo,
    PendingOps,
    Outbox,
    LocalMail,
    AddressQueries,
    Contacts,
    Calendar,
    Downloads,
):
    """The cache database. Create with ``await Store.open(path)``; see docs/architecture.md.

    Every method is a coroutine. Writes are serialized and each is one transaction, so a
    crash leaves either all or nothing of a call. ``sqlite3`` errors surface as
    ``StoreError``; unknown folder or outbox ids as ``NotFound`` (a ``StoreError`` and a
    ``KeyError``).
    """
