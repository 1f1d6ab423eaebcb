"""A scripted POP3 server on loopback for the behaviours Dovecot (the suite's real
server) cannot be made to show: no UIDL, LOGIN-DELAY. Contract tests only."""

from __future__ import annotations

import asyncio


class OldServer:
    """One maildrop; deletions happen only when QUIT is answered (``quit_answers``).
    ``uidl``: answer UIDL (ids that last: a counter per message); ``login_delay``:
    announce LOGIN-DELAY and refuse every login after the first with it."""

    def __init__(self, messages: list[bytes], *, uidl: bool = False, login_delay: int = 0):
        self.messages = list(messages)
        self.ids = [f"id{i}" for i in range(len(messages))]
        self.uidl = uidl
        self.login_delay = login_delay
        self.logins = 0
        self.quit_answers = True
        self.heard: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        marked: set[int] = set()
        writer.write(b"+OK old server\r\n")
        while line := await reader.readline():
            words = line.decode().split()
            verb = words[0].upper() if words else ""
            self.heard.append(verb)
            if verb == "CAPA":
                caps = "USER\r\n" + ("UIDL\r\n" if self.uidl else "")
                if self.login_delay:
                    caps += f"LOGIN-DELAY {self.login_delay}\r\n"
                writer.write(f"+OK\r\n{caps}.\r\n".encode())
            elif verb == "USER":
                writer.write(b"+OK\r\n")
            elif verb == "PASS":
                self.logins += 1
                if self.login_delay and self.logins > 1:
                    writer.write(b"-ERR [LOGIN-DELAY] wait before logging in again\r\n")
                else:
                    writer.write(b"+OK\r\n")
            elif verb == "UIDL" and self.uidl:
                listing = "".join(
                    f"{n} {self.ids[n - 1]}\r\n"
                    for n in range(1, len(self.messages) + 1)
                    if n not in marked
                )
                writer.write(f"+OK\r\n{listing}.\r\n".encode())
            elif verb == "LIST":
                sizes = "".join(
                    f"{n} {len(m)}\r\n" for n, m in enumerate(self.messages, 1) if n not in marked
                )
                writer.write(f"+OK\r\n{sizes}.\r\n".encode())
            elif verb == "RETR":
                raw = self.messages[int(words[1]) - 1]
                stuffed = raw.replace(b"\r\n.", b"\r\n..")
                writer.write(b"+OK\r\n" + stuffed + b".\r\n")
            elif verb == "DELE":
                marked.add(int(words[1]))
                writer.write(b"+OK\r\n")
            elif verb == "QUIT":
                if not self.quit_answers:
                    break  # the line drops: nothing is removed
                keep = [n for n in range(1, len(self.messages) + 1) if n not in marked]
                self.messages = [self.messages[n - 1] for n in keep]
                self.ids = [self.ids[n - 1] for n in keep]
                writer.write(b"+OK bye\r\n")
                break
            else:
                writer.write(b"-ERR unknown command\r\n")
            await writer.drain()
        await writer.drain()
        writer.close()
