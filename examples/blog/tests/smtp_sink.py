"""A minimal SMTP server for the tests: it can hang up on the first clients.

Just enough of RFC 5321 for ``smtplib`` (EHLO/HELO, MAIL, RCPT, DATA,
RSET, NOOP, QUIT); each message it accepts is kept as bytes.
"""

from __future__ import annotations

import socketserver
import threading
import typing as t


class SMTPSink:
    def __init__(self, drop_first: int = 0) -> None:
        self.messages: list[bytes] = []
        self.drop_first = drop_first
        self.connections = 0
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                sink.connections += 1
                if sink.connections <= sink.drop_first:
                    return  # hang up before the greeting
                self.reply("220 sink ESMTP")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line[:4].upper()
                    if verb in (b"EHLO", b"HELO"):
                        self.reply("250 sink")
                    elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                        self.reply("250 OK")
                    elif verb == b"DATA":
                        self.reply("354 go on")
                        data = []
                        for raw in iter(self.rfile.readline, b""):
                            if raw == b".\r\n":
                                break
                            data.append(raw[1:] if raw.startswith(b"..") else raw)
                        sink.messages.append(b"".join(data))
                        self.reply("250 queued")
                    elif verb == b"QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SMTPSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: t.Any) -> None:
        self.server.shutdown()
        self.server.server_close()
