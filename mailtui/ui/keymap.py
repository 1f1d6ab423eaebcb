"""Every key the UI answers to, in one table, each with a stable id.

Widgets build their ``BINDINGS`` from this table, so a user keymap (``{id: "keys"}``,
given to ``MailApp(keymap=...)``, applied with Textual's ``App.set_keymap``) can rebind any
of them (checked whole first: ``keymap_check``), and the help screen lists exactly what is
bound. Keys use Textual's names
("j,down", "G", "question_mark" or "?").

| context   | who binds it                       |
| --------- | ---------------------------------- |
| global    | MailApp                            |
| panes     | MainScreen (pane focus and layout) |
| triage    | MainScreen (list and reader)       |
| list      | MessageList                        |
| folders   | FolderList                         |
| reader    | MessageView                        |
| links, attachments, source, confirm | the reader's modal screens |
| signin    | SignInScreen (the sign-in key's modal) |
| appearance | MailApp (themes)                |
| help      | HelpScreen                         |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding

CONTEXT_TITLES: dict[str, str] = {
    "global": "Everywhere",
    "panes": "Panes",
    "list": "Message list",
    "triage": "Triage",
    "picker": "Picker",
    "filter": "Filter",
    "folders": "Folder list",
    "reader": "Reader",
    "links": "Links",
    "attachments": "Attachments",
    "source": "Source view",
    "confirm": "Questions",
    "appearance": "Appearance",
    "help": "This help",
    "writing": "Writing",
    "folder_admin": "Folders on the server",
    "compose": "Composing",
    "drafts": "Drafts",
    "outbox": "Outbox",
    "setup": "Account setup",
    "signin": "Signing in",
}


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One bindable command: its id, default keys, Textual action and help text."""

    id: str
    keys: str
    action: str
    description: str
    context: str
    footer: bool = False  # shown in the footer (the footer is short at 80 columns)
    priority: bool = False

    def binding(self) -> Binding:
        return Binding(
            self.keys,
            self.action,
            self.description,
            show=self.footer,
            id=self.id,
            priority=self.priority,
        )


KEYS: tuple[KeySpec, ...] = (
    KeySpec("app.quit", "q", "quit", "Quit", "global", footer=True),
    KeySpec("app.help", "question_mark", "help", "Help", "global", footer=True),
    KeySpec("look.theme", "f2", "next_theme", "Next theme", "appearance"),
    KeySpec("app.palette", "ctrl+p,colon", "command_palette", "All commands", "global"),
    KeySpec("app.reconnect", "f5,ctrl+g", "reconnect", "Reconnect now (every account)", "global"),
    KeySpec("app.check_now", "f6,ctrl+l", "check_now", "Check for new mail now", "global"),
    KeySpec("app.sign_in", "f7", "sign_in", "Sign in again (or type a password)", "global"),
    KeySpec("app.add_account", "f4", "add_account", "Add an account (the setup wizard)", "global"),
    KeySpec("app.edit_account", "f8", "edit_account", "Edit an account's settings", "global"),
    KeySpec(
        "app.remove_account", "shift+f8", "remove_account", "Remove an account (asks)", "global"
    ),
    KeySpec("panes.next", "tab", "next_pane", "Next pane", "panes", footer=True),
    KeySpec("panes.previous", "shift+tab", "previous_pane", "Previous pane", "panes"),
    KeySpec("panes.folders", "B", "toggle_folders", "Show/hide folders", "panes"),
    KeySpec("panes.back", "escape", "back", "Back", "panes"),
    KeySpec("list.down", "j,down", "cursor_down", "Next message", "list"),
    KeySpec("list.up", "k,up", "cursor_up", "Previous message", "list"),
    KeySpec("list.page_down", "pagedown,space", "page_down", "Page down", "list"),
    KeySpec("list.page_up", "pageup,b", "page_up", "Page up", "list"),
    KeySpec("list.first", "g,home", "first", "Newest message", "list"),
    KeySpec("list.last", "G,end", "last", "Oldest message", "list"),
    KeySpec("list.open", "enter", "open", "Open", "list", footer=True),
    KeySpec("list.select", "x,t", "toggle_select", "Select/unselect", "list"),
    KeySpec("list.select_range", "V", "select_range", "Select from last mark to here", "list"),
    KeySpec("list.extend_down", "shift+down,J", "extend_down", "Extend selection down", "list"),
    KeySpec("list.extend_up", "shift+up,K", "extend_up", "Extend selection up", "list"),
    KeySpec("list.select_thread", "ctrl+t", "select_thread", "Select the thread", "list"),
    KeySpec("list.select_all", "ctrl+a", "select_all", "Select all", "list"),
    KeySpec("list.select_none", "X", "select_none", "Clear selection", "list"),
    KeySpec("list.fold", "z", "toggle_fold", "Expand/collapse thread", "list"),
    KeySpec("triage.read", "N", "toggle_read", "Mark read/unread", "triage"),
    KeySpec("triage.flag", "F", "toggle_flag", "Flag/unflag", "triage"),
    KeySpec("triage.delete", "d,delete", "delete", "Delete", "triage"),
    KeySpec("triage.archive", "a", "archive", "Archive", "triage"),
    KeySpec("triage.move", "s", "move", "Move to folder", "triage"),
    KeySpec("triage.spam", "S", "spam", "Mark as spam", "triage"),
    KeySpec("triage.undo", "u", "undo", "Undo", "triage"),
    KeySpec("triage.next_unread", "n", "next_unread", "Next unread", "triage"),
    KeySpec("triage.filter", "slash", "filter", "Filter this list", "triage"),
    KeySpec("triage.jump_date", "at", "jump_date", "Go to a date", "triage"),
    KeySpec("triage.goto", "c", "goto_folder", "Go to folder", "triage"),
    KeySpec("triage.threads", "T", "toggle_threads", "Threads/flat list", "triage"),
    KeySpec("folders.down", "j,down", "cursor_down", "Next folder", "folders"),
    KeySpec("folders.up", "k,up", "cursor_up", "Previous folder", "folders"),
    KeySpec("folders.first", "g,home", "first", "First folder", "folders"),
    KeySpec("folders.last", "G,end", "last", "Last folder", "folders"),
    KeySpec("folders.open", "enter", "open", "Open folder", "folders", footer=True),
    KeySpec("reader.down", "j,down", "line_down", "Scroll down", "reader"),
    KeySpec("reader.up", "k,up", "line_up", "Scroll up", "reader"),
    KeySpec("reader.page_down", "space,pagedown", "page_down", "Page down", "reader"),
    KeySpec("reader.page_up", "b,pageup", "page_up", "Page up", "reader"),
    KeySpec("reader.top", "g,home", "top", "Top", "reader"),
    KeySpec("reader.bottom", "G,end", "bottom", "Bottom", "reader"),
    KeySpec("reader.close", "escape,q", "close", "Close", "reader", footer=True),
    KeySpec("reader.links", "l", "links", "Links (copy one)", "reader", footer=True),
    KeySpec(
        "reader.attachments", "v", "attachments", "Attachments (save, open)", "reader", footer=True
    ),
    KeySpec("reader.headers", "h", "headers", "All header fields", "reader"),
    KeySpec("reader.source", "ctrl+u", "source", "Raw source", "reader"),
    KeySpec("links.copy", "y,enter", "copy", "Copy the link", "links", footer=True),
    KeySpec("links.down", "j", "cursor_down", "Next link", "links"),
    KeySpec("links.up", "k", "cursor_up", "Previous link", "links"),
    KeySpec("links.close", "escape,q", "close", "Close", "links", footer=True),
    KeySpec("attachments.save", "s,enter", "save", "Save to a folder", "attachments", footer=True),
    KeySpec(
        "attachments.open",
        "o",
        "open",
        "Open with the system's program",
        "attachments",
        footer=True,
    ),
    KeySpec("attachments.down", "j", "cursor_down", "Next attachment", "attachments"),
    KeySpec("attachments.up", "k", "cursor_up", "Previous attachment", "attachments"),
    KeySpec("attachments.close", "escape,q", "close", "Close", "attachments", footer=True),
    KeySpec("source.down", "j,down", "scroll_lines(1)", "Scroll down", "source"),
    KeySpec("source.up", "k,up", "scroll_lines(-1)", "Scroll up", "source"),
    KeySpec("source.page_down", "space,pagedown", "scroll_pages(1)", "Page down", "source"),
    KeySpec("source.page_up", "b,pageup", "scroll_pages(-1)", "Page up", "source"),
    KeySpec("source.close", "escape,q", "close", "Close", "source", footer=True),
    KeySpec("confirm.yes", "y", "answer(True)", "Yes", "confirm", footer=True),
    KeySpec("confirm.no", "n,escape", "answer(False)", "No", "confirm", footer=True),
    KeySpec("picker.choose", "enter", "choose", "Choose", "picker", footer=True),
    KeySpec("picker.down", "down,ctrl+n", "cursor_down", "Next folder", "picker"),
    KeySpec("picker.up", "up,ctrl+p", "cursor_up", "Previous folder", "picker"),
    KeySpec("picker.cancel", "escape", "cancel", "Cancel", "picker", footer=True),
    KeySpec("filter.done", "enter", "done", "Keep filter, back to list", "filter", footer=True),
    KeySpec("filter.clear", "escape", "clear", "Clear filter", "filter", footer=True),
    KeySpec("folder.create", "plus", "create_folder", "New folder", "folder_admin"),
    KeySpec("folder.rename", "ctrl+r", "rename_folder", "Rename this folder", "folder_admin"),
    KeySpec("folder.delete", "minus", "delete_folder", "Delete this folder", "folder_admin"),
    KeySpec(
        "folder.subscribe",
        "U",
        "toggle_subscribed",
        "Subscribe/unsubscribe the folder",
        "folder_admin",
    ),
    KeySpec("write.new", "m", "compose_new", "New message", "writing"),
    KeySpec("write.reply", "r", "reply", "Reply", "writing"),
    KeySpec("write.reply_all", "R", "reply_all", "Reply to all", "writing"),
    KeySpec("write.forward", "f", "forward", "Forward", "writing"),
    KeySpec("write.edit", "e", "edit_message", "Edit (a draft: resume it; else as new)", "writing"),
    KeySpec("write.drafts", "D", "drafts", "Resume a draft", "writing"),
    KeySpec("write.outbox", "O", "outbox", "Outbox (retry, edit, discard)", "writing"),
    KeySpec(
        "write.forward_attached", "ctrl+f", "forward_attached", "Forward as attachment", "writing"
    ),
    KeySpec("outbox.retry", "r", "retry", "Send again", "outbox", footer=True),
    KeySpec("outbox.edit", "e", "edit", "Edit", "outbox", footer=True),
    KeySpec("outbox.discard", "x", "discard", "Discard", "outbox", footer=True),
    KeySpec("outbox.mark_sent", "m", "mark_sent", "It was sent (file it)", "outbox"),
    KeySpec("outbox.close", "escape,q", "close", "Close", "outbox", footer=True),
    KeySpec("drafts.delete", "d", "delete", "Delete the draft", "drafts", footer=True),
    KeySpec("drafts.close", "escape,q", "close", "Close", "drafts", footer=True),
    KeySpec("setup.back", "escape", "back", "Back a step (the first: leave)", "setup", footer=True),
    KeySpec("setup.demo", "f9", "demo", "Try the demo instead (first start)", "setup", footer=True),
    KeySpec("compose.send", "ctrl+s", "send", "Send", "compose", footer=True, priority=True),
    KeySpec(
        "compose.editor",
        "ctrl+e",
        "edit_body",
        "Edit body in $EDITOR",
        "compose",
        footer=True,
        priority=True,
    ),
    KeySpec(
        "compose.attach", "ctrl+a", "attach", "Attach a file", "compose", footer=True, priority=True
    ),
    KeySpec(
        "compose.detach", "ctrl+d", "detach", "Remove the last attachment", "compose", priority=True
    ),
    KeySpec(
        "compose.flowed",
        "ctrl+o",
        "toggle_flowed",
        "format=flowed on/off",
        "compose",
        priority=True,
    ),
    KeySpec(
        "compose.close", "escape", "close", "Close (the draft is kept)", "compose", footer=True
    ),
    KeySpec(
        "signin.close", "escape,q", "close", "Cancel the sign-in / close", "signin", footer=True
    ),
    KeySpec("signin.copy", "y", "copy", "Copy the sign-in page", "signin", footer=True),
    KeySpec("signin.qr", "r", "qr", "Show/hide the page as a QR code", "signin", footer=True),
    KeySpec("help.close", "escape,q,question_mark", "close", "Close help", "help", footer=True),
    KeySpec("help.down", "j,down", "scroll_lines(1)", "Scroll down", "help"),
    KeySpec("help.up", "k,up", "scroll_lines(-1)", "Scroll up", "help"),
    KeySpec("help.page_down", "space,pagedown", "scroll_pages(1)", "Page down", "help"),
    KeySpec("help.page_up", "b,pageup", "scroll_pages(-1)", "Page up", "help"),
)

_BY_ID = {spec.id: spec for spec in KEYS}


KEY_LABELS: dict[str, str] = {
    "question_mark": "?",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "escape": "Esc",
    "enter": "Enter",
    "tab": "Tab",
    "shift+tab": "Shift+Tab",
    "slash": "/",
    "at": "@",
    "plus": "+",
    "minus": "-",
    "shift+down": "S-Down",
    "shift+up": "S-Up",
    "colon": ":",
    "delete": "Del",
    "right": "Right",
    "left": "Left",
    "space": "Space",
    "down": "Down",
    "up": "Up",
    "home": "Home",
    "end": "End",
}


def key_label(key: str) -> str:
    """How a key is written in the footer and the help screen."""
    if key in KEY_LABELS:
        return KEY_LABELS[key]
    *modifiers, name = key.split("+")
    name = KEY_LABELS.get(name, name)
    return "+".join([m.capitalize() for m in modifiers] + [name])


def bindings(context: str) -> list[Binding]:
    """The ``BINDINGS`` of the node that owns ``context``."""
    return [spec.binding() for spec in KEYS if spec.context == context]


def spec(binding_id: str) -> KeySpec:
    return _BY_ID[binding_id]


def effective_keys(binding_id: str, overrides: Mapping[str, str]) -> list[str]:
    """The keys bound to ``binding_id`` once a user keymap is applied."""
    keys = overrides.get(binding_id) or _BY_ID[binding_id].keys
    return [key.strip() for key in keys.split(",") if key.strip()]
