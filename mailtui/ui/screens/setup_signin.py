"""The setup wizard's sign-in and check steps (``SetupScreen`` in ``setup.py`` is built
on ``SignInAndCheck``): a password or a command; OAuth2 sign-in where the provider wants
it (``mailtui.login.login`` with its words on the screen, Esc cancels it); the check for
real, with the question about hosts outside the address's domain first, and a
certificate not trusted shown with its subject and SHA-256 and pinned on request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Input, Label, Static

from mailtui.account_setup import (
    Checked,
    Plan,
    changes,
    check,
    oauth_provider,
    oauth_values,
    outside,
    trial,
)
from mailtui.config import AccountConfig, Config
from mailtui.discovery import Email
from mailtui.errors import MailtuiError
from mailtui.protocols.net.tls import show_fingerprint
from mailtui.ui.jobs import run_job


class SignInAndCheck(Screen[Plan | str | None]):
    """Steps 4 and 5 of the wizard; the state below is the screen's (``SetupScreen``)."""

    config: Config
    email: Email | None
    plan: Plan | None
    editing: Plan | None
    asked: tuple[str, ...]  # the options an edit may empty
    oauth_custom: Mapping[str, object] | None
    checked: list[Checked] | None
    trust_asked: bool
    signed_in: str
    signing_in: bool
    signin_lines: list[str]

    @property
    def step(self) -> str:
        return self.query_one(ContentSwitcher).current or "who"

    def _show(self, step: str) -> None:
        raise NotImplementedError  # SetupScreen's

    def _oauth_table(self) -> Mapping[str, object] | None:
        """The ``[oauth]`` table the sign-in starts from, None when mailtui knows none."""
        assert self.plan is not None
        provider = oauth_provider(self.plan.values)
        if provider is not None:
            return {"provider": provider}
        return self.oauth_custom

    def _signin_shown(self) -> None:
        assert self.plan is not None
        oauth = self.plan.values.get("auth") == "oauth2"
        table = self._oauth_table() if oauth else None
        self.query_one("#password-part").display = not oauth
        self.query_one("#oauth-part").display = table is not None
        self.query_one("#signin-log", Static).update("")
        if table is not None:
            self.query_one("#client-id", Input).value = str(table.get("client_id", ""))
        if not oauth:
            help_text = "\n".join(self.plan.notes)
            command = "or a command that prints it (e.g. pass show mail/work)"
        elif table is not None:
            help_text = (
                "This provider signs you in with OAuth2: mailtui opens the sign-in here "
                "(a code to enter on any device, or a browser page). It needs the client "
                'id of an application you registered (README, "Signing in with OAuth2").'
            )
            command = "or a command that prints an access token (e.g. oama)"
        else:
            help_text = (
                "This server wants OAuth2. mailtui signs in to Microsoft and Google itself; "
                "for this one give a command that prints a current access token (e.g. "
                "oama), or write [accounts.NAME.oauth] by hand (README)."
            )
            command = "a command that prints an access token"
        self.query_one("#signin-help", Static).update(help_text)
        self.query_one("#command-label", Label).update(command)

    def _signin_done(self) -> None:
        assert self.plan is not None and self.email is not None
        if self.signing_in:
            return
        command = self.query_one("#command", Input).value.strip()
        client_id = self.query_one("#client-id", Input).value.strip()
        table = self._oauth_table()
        oauth = self.plan.values.get("auth") == "oauth2"
        if oauth and not command and table is not None:
            if not client_id:
                self._say("A client id, please (or a command that prints a token).")
                return
            values = {k: v for k, v in self.plan.values.items() if not k.startswith("oauth.")}
            values.pop("token_command", None)
            values |= oauth_values(table, client_id)
            name = self.plan.name or _name(self.config, self.email)
            self.plan = replace(self.plan, name=name, values=values)
            self.signing_in = True
            self.signin_lines = []
            self.query_one("#signin-log", Static).update("")
            run_job(self, self._sign_in, exclusive=True, group="signin")
            return
        self._signin_ready(command)

    def _say(self, line: str) -> None:
        self.signin_lines.append(line)
        self.query_one("#signin-log", Static).update("\n".join(self.signin_lines[-8:]))

    async def _sign_in(self) -> None:
        """The OAuth2 sign-in of ``mailtui login``, its words on this screen; the
        tokens go to the keyring under the account's name (forgotten if the wizard is
        left without saving)."""
        from mailtui.login import login

        assert self.plan is not None
        try:
            acc = self._trial()
            self.signed_in = acc.name
            await login(acc, None, self._say)
        except MailtuiError as exc:
            self._say(f"Not signed in: {exc}")
            self.signing_in = False
            return
        self.signing_in = False
        self._signin_ready("", signed_in=True)

    def _signin_ready(self, command: str, *, signed_in: bool = False) -> None:
        assert self.plan is not None and self.email is not None
        key = "token_command" if self.plan.values.get("auth") == "oauth2" else "password_command"
        values = {
            k: v
            for k, v in self.plan.values.items()
            if k not in ("password_command", "token_command")
        }
        if command:
            values[key] = command
        name = self.plan.name or _name(self.config, self.email)
        display = self.query_one("#name", Input).value.strip()
        if display:
            values["display_name"] = display
        self.plan = replace(self.plan, name=name, values=values)
        keyring = signed_in or not command and bool(self.query_one("#password", Input).value)
        self.query_one("#summary", Static).update(_summary(self.plan, keyring))
        self._show("check")
        self.checked = None
        hosts = outside(self.plan, self.email.domain)
        self.trust_asked = bool(hosts)
        if hosts:
            self.query_one("#check-results", Static).update(
                f"{', '.join(hosts)}: not in {self.email.domain}, where discovery found it. "
                "Is it your provider's? Enter: yes, log in there · Esc: back"
            )
        else:
            self._start_check()

    def _trial(self) -> AccountConfig:
        """The account as Save would write it (a copy of config.toml is edited)."""
        assert self.plan is not None
        if self.editing is None:
            return trial(self.config, self.plan)
        return trial(self.config, self.plan, changes(self.editing, self.plan, self.asked))

    def _start_check(self) -> None:
        self.trust_asked = False
        self.query_one("#check-results", Static).update("connecting …")
        run_job(self, self._check, exclusive=True, group="check")

    async def _check(self) -> None:
        assert self.plan is not None
        password = self.query_one("#password", Input).value or None
        try:
            results = await check(self._trial(), password=password)
        except MailtuiError as exc:
            results = [Checked("settings", False, str(exc))]
        self.checked = results
        lines = [f"{'ok' if r.ok else 'FAILED'}  {r.what}: {r.text}" for r in results]
        pinnable = [r for r in results if r.pin_key]
        for r in pinnable:
            lines.append(f"{r.what}: subject {r.subject or '(could not be read)'}")
            lines.append(f"  SHA-256 {show_fingerprint(r.fingerprint)}")
        pin = self.query_one("#pin-button", Button)
        pin.display = bool(pinnable)
        if pinnable:
            lines.append(
                "Compare with your server's own (openssl x509 -fingerprint -sha256). "
                "Pin: trust exactly this certificate · Tab: save anyway · Esc: back"
            )
            pin.focus()
        elif not all(r.ok for r in results):
            lines.append("Enter: save anyway · Esc: back to change the settings")
        self.query_one("#check-results", Static).update("\n".join(lines))

    def _pin(self) -> None:
        """Trust exactly the certificates the check found not trusted, and check again."""
        assert self.plan is not None and self.checked is not None
        values = dict(self.plan.values)
        for result in self.checked:
            if result.pin_key:
                values[result.pin_key] = result.fingerprint
                values.pop(result.pin_key.replace("tls_fingerprint", "ca_file"), None)
        smtp_pin = values.get("smtp.tls_fingerprint")
        if smtp_pin is not None and smtp_pin == values.get("tls_fingerprint"):
            del values["smtp.tls_fingerprint"]  # one certificate: SMTP takes the account's
        self.plan = replace(self.plan, values=values)
        self.query_one("#pin-button", Button).display = False
        self.query_one("#check-button", Button).focus()
        self.query_one("#summary", Static).update(_summary(self.plan))
        self._start_check()


def _summary(plan: Plan, keyring: bool = False) -> str:
    lines = [f"account {plan.name!r} ({plan.kind})"]
    lines += [f"  {k} = {v}" for k, v in plan.values.items()]
    if keyring:
        lines.append("  the password goes to the system keyring")
    return "\n".join(lines)


def _name(config: Config, email: Email) -> str:
    from mailtui.account_setup import account_name

    return account_name(email.domain, [a.name for a in config.accounts])
