"""The account setup wizard (``mailtui setup``): who, discover and choose, servers, sign
in, save. Every step by keyboard (Enter goes on, Tab between fields, Esc goes back a
step; Esc on the first step leaves), nothing saved until the last step.

Discovery (``mailtui.discovery``) runs while the user watches: each source's result
is listed as it arrives, and the kinds found so far are offered at once, each with a
few plain lines saying what it means. What was found is a proposal: the servers step
shows it in fields the user may change. The plan (``mailtui.account_setup``) is
written by ``accounts.add_account``; a password goes to the keyring, never to the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import ClassVar

from textual import events
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ContentSwitcher, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from mailtui import accounts, secrets
from mailtui.account_setup import (
    Checked,
    Choices,
    Plan,
    changes,
    choose,
    plan_of,
)
from mailtui.config import AccountConfig, Config
from mailtui.discovery import Email, Findings, Options, Source, SourceResult, discover, merge
from mailtui.errors import MailtuiError
from mailtui.protocols.kinds import kind as kind_spec
from mailtui.ui import keymap
from mailtui.ui.jobs import run_job
from mailtui.ui.screens.setup_signin import SignInAndCheck

#: What each kind means, shown when it is highlighted (two or three plain lines).
EXPLAIN = {
    "imap": "IMAP keeps your mail on the server: every device and the webmail see the "
    "same folders and the same read and flagged state.",
    "pop3": "POP3 downloads your mail to this computer and can remove it from the server: "
    "other devices and the webmail will then not see it. 'download' (next step, keep "
    "unless you change it) says when, if ever, the server's copy goes.",
    "exchange": "Exchange (ActiveSync) syncs mail like IMAP, and also contacts and "
    "calendars, and sends through the server itself.",
}
STEPS = ("who", "discover", "servers", "signin", "check", "save")
#: What the screen is dismissed with when the user would rather try the demo.
DEMO = "demo"
#: The POP3 download options (the servers step), each with its consequence in one line.
SERVER_FIELDS = (
    "host", "port", "security", "username", "smtp.host", "smtp.port", "smtp.security",
    "ca_file", "tls_fingerprint",
)  # fmt: skip
#: POP3's download options, asked in the servers step: (name, value shown first,
#: label); the focused one's help (the kind's Option help) shows below the fields.
POP3_FIELDS = (
    ("leave_on_server", "yes", "leave on server"),
    ("delete_after_days", "0", "delete after days"),
    ("delete_when_deleted_here", "no", "delete with here"),
    ("max_message_kb", "0", "max message KB"),
    ("apop", "no", "APOP"),
)


#: The options the wizard shows, which an edit may empty (removed from the account).
ASKED = (*SERVER_FIELDS, *(name for name, _, _ in POP3_FIELDS), "password_command",
         "token_command")  # fmt: skip


class SetupScreen(SignInAndCheck):
    """Dismissed with the plan written, None when the user left, or ``DEMO`` (offered
    at the first start: the demo stays one key away)."""

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("setup"))
    asked = ASKED
    DEFAULT_CSS = """
    SetupScreen { padding: 0 1; }
    SetupScreen .title { text-style: bold; margin-bottom: 1; }
    SetupScreen .hint { color: $text-muted; }
    SetupScreen .error { color: $error; }
    SetupScreen Input { width: 60; }
    SetupScreen #results { height: auto; max-height: 8; }
    SetupScreen #kinds { height: auto; max-height: 5; }
    SetupScreen #explain { height: 3; }
    SetupScreen .field { width: 18; }
    SetupScreen #pop3-rows { height: auto; }
    SetupScreen .part { height: auto; }
    SetupScreen #signin-log { height: auto; max-height: 8; }
    SetupScreen .row { height: 1; }
    SetupScreen #field-help { height: 2; }
    SetupScreen .buttons { height: auto; }
    SetupScreen #pin-button { display: none; margin-left: 2; }
    SetupScreen Input.compact { border: none; height: 1; padding: 0 1; width: 50; }
    """

    def __init__(
        self,
        config: Config,
        options: Options,
        email: str = "",
        *,
        offer_demo: bool = False,
        oauth_custom: Mapping[str, object] | None = None,
        edit: AccountConfig | None = None,
    ) -> None:
        """``oauth_custom``: the ``[oauth]`` table (``provider = "custom"`` and its
        endpoints) for a server that wants OAuth2 and has no preset (a private identity
        provider; the tests' authorization server). ``edit``: an account to change: the
        wizard starts at its servers, pre-filled, and Save changes it in place (an
        empty password keeps the one in the keyring)."""
        super().__init__()
        self.editing = plan_of(edit) if edit is not None else None
        self.offer_demo = offer_demo
        self.config = config
        self.options = options
        self.start_email = email
        self.email: Email | None = None
        self.results: list[SourceResult] = []
        self.findings: Findings | None = None
        self.discovered = False  # every source has answered or timed out
        self.plan: Plan | None = None
        self.trust_asked = False  # hosts outside the domain shown, waiting for Enter
        self.checked: list[Checked] | None = None  # None: checking
        self.following: set[str] = set()  # Autodiscover redirects the user chose to follow
        self.oauth_custom = oauth_custom
        self.signed_in = ""  # the account name a sign-in stored tokens for, not saved yet
        self.signing_in = False
        self.signin_lines: list[str] = []

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="who"):
            with Vertical(id="who"):
                yield Label("Set up an account · 1 of 6: who you are", classes="title")
                yield Label("Your name (as others see it)")
                yield Input(id="name", placeholder="Ann Example")
                yield Label("Your email address")
                yield Input(id="email", value=self.start_email, placeholder="ann@example.org")
                yield Label("", id="who-error", classes="error")
                demo = " · F9: try the demo instead" if self.offer_demo else ""
                yield Label(f"Enter: find the settings{demo} · Esc: leave", classes="hint")
            with Vertical(id="discover"):
                yield Label("2 of 6: finding the settings", classes="title")
                yield Static("", id="results")
                yield Label("Choose how to reach your mail:")
                yield OptionList(id="kinds")
                yield Static("", id="explain", classes="hint")
                yield Label("Enter: choose · Esc: back", classes="hint")
            with Vertical(id="servers"):
                yield Label("3 of 6: the servers (found: change what is wrong)", classes="title")
                for name in SERVER_FIELDS:
                    with Horizontal(classes="row"):
                        yield Label(name, classes="field")
                        yield Input(id=_field_id(name), classes="compact")
                with Vertical(id="pop3-rows"):
                    for name, value, label in POP3_FIELDS:
                        with Horizontal(classes="row"):
                            yield Label(label, classes="field")
                            yield Input(value, id=_field_id(name), classes="compact")
                yield Label("", id="servers-error", classes="error")
                yield Static("", id="field-help", classes="hint")
                yield Label("Tab: next field · Enter: go on · Esc: back", classes="hint")
            with Vertical(id="signin"):
                yield Label("4 of 6: signing in", classes="title")
                yield Static("", id="signin-help", classes="hint")
                with Vertical(id="password-part", classes="part"):
                    yield Label("Password (kept in the system keyring, never in the config file)")
                    yield Input(id="password", password=True)
                with Vertical(id="oauth-part", classes="part"):
                    yield Label("Client id of the application you registered (README)")
                    yield Input(id="client-id")
                yield Label("", id="command-label")
                yield Input(id="command")
                yield Static("", id="signin-log")
                yield Label("Enter: go on · Esc: back", classes="hint")
            with Vertical(id="check"):
                yield Label("5 of 6: checking: connect and log in", classes="title")
                yield Static("", id="check-results")
                with Horizontal(classes="buttons"):
                    yield Button("Go on", id="check-button")
                    yield Button("Pin the certificate", id="pin-button")
                yield Label("Enter: go on · Esc: back", classes="hint")
            with Vertical(id="save"):
                yield Label("6 of 6: save", classes="title")
                yield Static("", id="summary")
                yield Static("", id="save-error", classes="error")
                yield Button("Save", id="save-button")
                yield Label("Enter: save · Esc: back", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        if self.editing is not None:
            address = str(self.editing.values["email"])
            self.query_one("#email", Input).value = address
            self.email = Email.parse(address)
            self._fill_servers(self.editing)
            self.query_one(".title", Label).update(f"Edit account {self.editing.name!r}")

    def _show(self, step: str) -> None:
        self.query_one(ContentSwitcher).current = step
        focus = {"who": "#email", "discover": "#kinds", "servers": "#f-host",
                 "signin": "#password", "check": "#check-button",
                 "save": "#save-button"}[step]  # fmt: skip
        if step == "signin":
            parts = (("#password-part", "#password"), ("#oauth-part", "#client-id"))
            shown = [field for part, field in parts if self.query_one(part).display]
            focus = shown[0] if shown else "#command"
        self.query_one(focus).focus()

    # ------------------------------------------------------------------ going on

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        match event.input.id:
            case "name":
                self.query_one("#email", Input).focus()
            case "email":
                self._who_done()
            case "password" | "command" | "client-id":
                self._signin_done()
            case _:
                self._servers_done()

    def _who_done(self) -> None:
        try:
            email = Email.parse(self.query_one("#email", Input).value)
        except MailtuiError as exc:
            self.query_one("#who-error", Label).update(str(exc))
            return
        self.query_one("#who-error", Label).update("")
        self.email = email
        self.results, self.findings, self.discovered = [], None, False
        self.query_one("#results", Static).update("")
        self.query_one("#kinds", OptionList).clear_options()
        self._show("discover")
        run_job(self, partial(self._discover, email), exclusive=True, group="discover")

    async def _discover(self, email: Email) -> None:
        async for result in discover(email, self.options):
            self.results.append(result)
            self._found_so_far(email)
        self.discovered = True
        self._found_so_far(email)

    def _found_so_far(self, email: Email) -> None:
        lines = [r.describe() for r in self.results]
        if not self.discovered:
            lines.append("… still asking")
        self.query_one("#results", Static).update("\n".join(lines))
        proposals = merge(self.results)
        self.findings = Findings(email, tuple(self.results), proposals)
        kinds = self.query_one("#kinds", OptionList)
        highlighted = kinds.highlighted
        kinds.clear_options()
        for proposal in proposals:
            where = f" ({proposal.provider})" if proposal.provider else ""
            kinds.add_option(Option(f"{proposal.kind.upper()}{where}", id=proposal.kind))
        for result in self.results:
            if result.ask_host and result.ask_host not in self.following:
                label = f"Follow Autodiscover to {result.ask_host} (not in {email.domain})"
                kinds.add_option(Option(label, id=f"follow:{result.ask_host}"))
        if self.discovered:
            found = {p.kind for p in proposals}
            for kind in ("imap", "pop3", "exchange"):
                if kind not in found:
                    label = f"{kind.upper()}: not found, set up by hand"
                    kinds.add_option(Option(label, id=kind))
        if kinds.option_count:
            kinds.highlighted = min(highlighted or 0, kinds.option_count - 1)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        option = event.option.id or ""
        text = EXPLAIN.get(option, "")
        if option.startswith("follow:") and self.email is not None:
            host = option.removeprefix("follow:")
            text = (
                f"Autodiscover for {self.email.domain} sends to {host}, another domain. "
                f"Follow it only if {host} is your provider's (no password goes there "
                "before the check step asks)."
            )
        self.query_one("#explain", Static).update(text)

    async def _follow(self, email: Email, host: str) -> None:
        """Autodiscover asked again, ``host`` trusted; its old result replaced."""
        self.following.add(host)
        self.options = replace(self.options, trusted_hosts=self.options.trusted_hosts | {host})
        again = replace(self.options, sources=frozenset({Source.AUTODISCOVER}))
        self.results = [r for r in self.results if r.source is not Source.AUTODISCOVER]
        async for result in discover(email, again):
            self.results.append(result)
        self._found_so_far(email)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.findings is None or self.email is None:
            return
        kind = event.option.id or "imap"
        if kind.startswith("follow:"):
            host = kind.removeprefix("follow:")
            self.run_worker(self._follow(self.email, host), group="follow")
            return
        found = any(p.kind == kind for p in self.findings.proposals)
        choices = Choices(email=self.email.address, kind=kind, host=None if found else "")
        try:
            plan = choose(self.findings, choices, self.config)
        except MailtuiError:
            plan = Plan("", kind, {"email": self.email.address})
        self._fill_servers(plan)

    def _fill_servers(self, plan: Plan) -> None:
        self.plan = plan
        self.query_one("#pop3-rows").display = plan.kind == "pop3"
        for name in SERVER_FIELDS:
            value = plan.values.get(name, "")
            self.query_one(f"#{_field_id(name)}", Input).value = str(value)
        for name, default, _ in POP3_FIELDS:
            given = plan.values.get(name)
            shown = {None: default, True: "yes", False: "no"}.get(given, str(given))  # type: ignore[arg-type]
            self.query_one(f"#{_field_id(name)}", Input).value = shown
        self._show("servers")

    def _servers_done(self) -> None:
        assert self.plan is not None and self.email is not None
        values = {k: v for k, v in self.plan.values.items() if k not in SERVER_FIELDS}
        for name in SERVER_FIELDS:
            text = self.query_one(f"#{_field_id(name)}", Input).value.strip()
            if not text:
                continue
            if name.endswith("port"):
                if not text.isdigit():
                    self.query_one("#servers-error", Label).update(f"{name}: a number, please")
                    return
                values[name] = int(text)
            else:
                values[name] = text
        if "host" not in values:
            self.query_one("#servers-error", Label).update("host: the incoming server, please")
            return
        if self.plan.kind == "pop3":
            pop3 = self._pop3_values()
            if isinstance(pop3, str):
                self.query_one("#servers-error", Label).update(pop3)
                return
            values |= pop3
        if values.get("username") == self.email.address:
            del values["username"]
        self.plan = replace(self.plan, values=values)
        self.query_one("#servers-error", Label).update("")
        self._signin_shown()
        self._show("signin")

    def _pop3_values(self) -> dict[str, str | int | bool] | str:
        """POP3's download options as typed (only what differs from the defaults, and
        leave_on_server always), or what is wrong with one."""
        out: dict[str, str | int | bool] = {}
        for name, default, _ in POP3_FIELDS:
            text = self.query_one(f"#{_field_id(name)}", Input).value.strip().lower()
            if default in ("yes", "no"):
                if text not in ("yes", "no", "true", "false"):
                    return f"{name.replace('_', ' ')}: yes or no"
                value: bool | int = text in ("yes", "true")
            else:
                if not text.isdigit():
                    return f"{name.replace('_', ' ')}: a whole number (0: none)"
                value = int(text)
            if name == "leave_on_server" or str(text) != default and value:
                out[name] = value
        return out

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The focused setting's one line of help, under the servers step's fields."""
        widget_id = event.widget.id or ""
        if not widget_id.startswith("f-") or self.plan is None:
            return
        name = widget_id.removeprefix("f-").replace("-", ".")
        helps = {option.name: option.help for option in kind_spec(self.plan.kind).options}
        self.query_one("#field-help", Static).update(f"{name}: {helps.get(name, '')}")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save-button":
            self._save()
        elif event.button.id == "pin-button":
            self._pin()
        elif self.trust_asked:
            self._start_check()
        elif self.checked is not None:
            self._show("save")

    def _save(self) -> None:
        assert self.plan is not None and self.config.path is not None
        password = self.query_one("#password", Input).value
        command = "password_command" in self.plan.values or "token_command" in self.plan.values
        plan = self.plan
        try:
            # The keyring first: if it cannot take the password, nothing is written.
            if password and not command:
                secrets.store_in_keyring(plan.name, password)
            if self.editing is not None:
                changed = changes(self.editing, plan, ASKED)
                accounts.change_account(self.config.path, plan.name, changed)
            else:
                accounts.add_account(self.config.path, plan.name, plan.kind, plan.values)
        except MailtuiError as exc:
            hint = " (give a command that prints it instead)" if "keyring" in str(exc) else ""
            self.query_one("#save-error", Static).update(f"{exc}{hint}")
            return
        self.dismiss(self.plan)

    # ------------------------------------------------------------------ going back

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "demo":
            return self.offer_demo
        return True

    def action_demo(self) -> None:
        self.workers.cancel_group(self, "discover")
        self._leave(DEMO)

    def _leave(self, result: str | None) -> None:
        """Leaves without saving: a sign-in's tokens in the keyring go too."""
        if self.signed_in:
            secrets.forget_sign_in(self.signed_in)
        self.dismiss(result)

    def action_back(self) -> None:
        index = STEPS.index(self.step)
        if index == 0 or self.editing is not None and self.step == "servers":
            self._leave(None)
            return
        if self.step in ("discover", "check", "signin"):
            self.workers.cancel_group(self, self.step)
            self.signing_in = False
        self._show(STEPS[index - 1])


def _field_id(name: str) -> str:
    return "f-" + name.replace(".", "-")


class SetupApp(App[Plan | str | None]):
    """The wizard on its own (``mailtui setup``, and ``mailtui`` with no account): it
    ends with the plan written, None, or ``DEMO``."""

    def __init__(
        self,
        config: Config,
        options: Options,
        email: str = "",
        *,
        offer_demo: bool = False,
        oauth_custom: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__()
        self.setup_screen = SetupScreen(
            config, options, email, offer_demo=offer_demo, oauth_custom=oauth_custom
        )

    def on_mount(self) -> None:
        self.push_screen(self.setup_screen, self._done)

    def _done(self, result: Plan | str | None) -> None:
        self.exit(result)
