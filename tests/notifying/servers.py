"""Real receivers on loopback for the senders: an SMTP server (aiosmtpd) and an SMS gateway.

Both record what arrived and can run a hook at the worst moment — after the
message has arrived, before the answer goes back — which the kill -9 tests use
to stop a worker exactly between sending and marking.
"""
from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
from collections.abc import Callable
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.smtp import SMTP


class LoopbackSmtp:
    """aiosmtpd on 127.0.0.1, port 0, in a thread with its own event loop."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        # Runs when a message's data has arrived, before the server answers 250.
        self.on_data: Callable[[], None] | None = None
        # Hang up instead of answering: the client cannot know whether the message arrived.
        self.hang_up_after_data = False
        self.refuse_recipients: set[str] = set()
        self._arrived = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="loopback-smtp", daemon=True)
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _start(self):
        return await self.loop.create_server(lambda: SMTP(self, hostname="loopback", loop=self.loop),
                                             "127.0.0.1", 0)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?from=desk@kiosk.test&timeout=5"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_recipients:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        if self.on_data is not None:
            self.on_data()
        if self.hang_up_after_data:
            server.transport.close()
        return "250 OK queued"

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.messages) >= count, timeout), "no email arrived"
            return list(self.messages)

    def close(self) -> None:
        async def stop():
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class LoopbackGateway:
    """An SMS gateway's webhook on 127.0.0.1, port 0, that honours idempotency keys:
    a repeated key gets the first answer and is not delivered again."""

    def __init__(self) -> None:
        self.requests: list[dict] = []          # every POST: key header and JSON body
        self.delivered: dict[str, dict] = {}    # idempotency key -> the message, once
        self.on_request: Callable[[], None] | None = None
        self.answer_status: int | None = None   # answer this instead (e.g. 503, 400)
        self._arrived = threading.Condition()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key")
                with gateway._arrived:
                    gateway.requests.append({"key": key, "body": body})
                    if gateway.answer_status is None:
                        gateway.delivered.setdefault(key, body)
                    gateway._arrived.notify_all()
                if gateway.on_request is not None:
                    gateway.on_request()
                status = gateway.answer_status or 200
                answer = json.dumps({"id": f"sms-{key[:8]}"} if status == 200 else {"error": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="loopback-gateway", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms?timeout=5"

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[dict]:
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.requests) >= count, timeout), "no request arrived"
            return list(self.requests)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
