"""How many e-mails per second the outbox delivers to a local SMTP server. A measurement, not a test.

    .venv/bin/python benchmarks/outbox_throughput.py [--messages 2000] [--database URL]
                                                     [--connection-per-message]

Queues the messages first (not timed), then times the scheduler's ``deliver-outbox`` job until every
message is sent: claim, read, SMTP, record, one message at a time, exactly as in production. The SMTP
server is aiosmtpd's ``Sink`` on loopback in a process of its own (in this process it would compete for
the GIL). The default database is SQLite in a temporary file (WAL); pass
``--database postgresql+psycopg://…`` for an empty PostgreSQL database (its tables are recreated).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import SQLModel, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from samrad import create_app, db, jobs, outbox  # noqa: E402
from samrad.enums import OutboxStatus  # noqa: E402
from samrad.models import OutboxMessage, utcnow  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database", default="")
    parser.add_argument(
        "--connection-per-message",
        action="store_true",
        help="close the SMTP connection after every message (what reuse saves)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="samrad-bench-"))
    url = args.database or f"sqlite:///{workdir}/bench.db"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"]
    )
    for _ in range(500):  # wait until it listens
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.02)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "benchmark-secret-key-0123456789",
            "DATABASE_URL": url,
            "MAIL_TRANSPORT": "smtp",
            "MAIL_SMTP_HOST": "127.0.0.1",
            "MAIL_SMTP_PORT": port,
            "LOG_LEVEL": "WARNING",
            "MAIL_FILE_DIR": str(workdir / "mail"),
        }
    )
    if args.connection_per_message:
        send = outbox.SMTPTransport.send

        def send_and_close(self, mime):
            send(self, mime)
            self.close()

        outbox.SMTPTransport.send = send_and_close
    try:
        with app.app_context():
            engine = db.get_engine()
            SQLModel.metadata.drop_all(engine)
            SQLModel.metadata.create_all(engine)
            consultation = type("C", (), {"name": "Una Norrbotten – kompetensteam mot våld"})()
            queued_at = utcnow() - timedelta(seconds=1)
            with db.session_scope(deliver_mail=False) as s:
                for i in range(args.messages):
                    outbox.queue_email(
                        s,
                        to=f"person{i}@kommun.example",
                        template="join_request_receipt",
                        now=queued_at,
                        consultation=consultation,
                        name=f"Person {i}",
                    )
            runs = 0
            started = time.perf_counter()
            while True:
                jobs.run_job("deliver-outbox")
                runs += 1
                with db.session_scope() as s:
                    left = s.exec(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status != OutboxStatus.SENT)
                    ).one()
                if left == 0 or runs > args.messages:
                    break
            elapsed = time.perf_counter() - started
            delivered = args.messages - left
            engine.dispose()
    finally:
        server.terminate()
        server.wait()
    backend = url.split(":", 1)[0]
    mode = "a new connection per message" if args.connection_per_message else "one connection per batch"
    print(
        f"{backend}, {mode}: delivered {delivered} of {args.messages} messages in {elapsed:.2f} s "
        f"over {runs} job runs: {delivered / elapsed:.0f} messages/s"
    )


if __name__ == "__main__":
    main()
