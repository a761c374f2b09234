"""5,000 due invitations through the real pipeline against a raw smtplib loop, same server.

What is compared:

- pipeline: the time from publishing the sweep task on Redis (as beat does) until the
  SMTP server has all 5,000 invitations, then checked sent exactly once, in the database
  and on the wire. It is the real pipeline: Redis as broker, a real `celery -A portal
  worker` run as README's "Running at scale" runs it in production (`--concurrency 4`),
  claiming batches of 100, and for each invitation the row locks, the rules checked again,
  the EmailLog row, the three templates, the MIME message and one SMTP connection per
  batch; PostgreSQL throughout. `BENCH_WORKER_CONCURRENCY=2` measures the two processes
  `make run` (the Procfile) starts.
- raw: one invitation rendered once, and its bytes sent 5,000 times by smtplib over one
  connection, from a process of its own; the loop alone is timed, after 200 messages of
  warm-up on the same connection.

`BENCH_DKIM=1` runs the pipeline with DKIM signing on (a fresh 2048-bit RSA key, as
README's DKIM_* set it up) and prints `dispatch_throughput_vs_raw_smtp_with_dkim`; the raw
loop stays unsigned, so the ratio shows what signing costs.

Both send to the same aiosmtpd server, which only counts. It runs in a process of its own,
so that neither side nor this process's own work can starve it.

The machine's load drifts (other work shares its two cores), so the run alternates: raw,
pipeline, raw, pipeline, raw, pipeline, raw. Each round's ratio is its pipeline rate over
the mean of the raw rates just before and just after it, and the printed ratio is the
median of the rounds' ratios. A warm-up of 200 invitations through the pipeline, not
timed, goes first, as a worker that has been up a while would be. Each round starts from
freshly seeded and vacuumed tables. Every process the bench starts (server, worker, raw
client) runs at nice -10 where allowed, so that other work on the machine disturbs both
sides less; PostgreSQL and Redis run as they are.
"""

import logging
import math
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import IO

from aiosmtpd.controller import Controller
from celery import Celery

from bench import common

DKIM = os.environ.get("BENCH_DKIM") == "1"
NAME = "dispatch_throughput_vs_raw_smtp" + ("_with_dkim" if DKIM else "")
COUNT = 5000
BATCH_SIZE = 100
ROUNDS = 3
PIPELINE_WARMUP = 200
RAW_WARMUP = 200
# A Redis database nobody else uses (the tests take 12 to 15), and a queue of our own on
# it, so that no other worker takes our tasks, nor ours theirs.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
QUEUE = "bench-dispatch"
EMAIL_PREFIX = "bench-dispatch-"
ORDER_PREFIX = "BENCH-DISPATCH-"
# Bounds every wait: the pipeline normally needs well under a minute.
TIMEOUT_SECONDS = 300.0
# No new message for this long: the pipeline is stuck, no need to wait for the timeout.
STALL_SECONDS = 60.0


# As README's "Running at scale" runs the workers: more processes than cores, since a
# sending worker spends most of each message waiting on the SMTP server and PostgreSQL.
CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", 4))
# Raised scheduling priority for everything the bench starts (needs root; else none).
NICE = -10
WORKER_OPTIONS = [
    f"--queues={QUEUE}",
    f"--hostname={QUEUE}@%h",
    "--purge",  # only our queue: what an interrupted run left there
    f"--concurrency={CONCURRENCY}",
    "--loglevel=INFO",
    "--without-heartbeat",
    "--without-gossip",
    "--without-mingle",
]


# --- inside Django (via bench.call) ------------------------------------------------------


def seed(count: str) -> int:
    """Replace the bench rows with `count` due invitations, one customer each; returns
    how many."""
    from django.db import connection, transaction
    from django.utils import timezone

    from feedback.models import Invitation

    now = timezone.now()
    with transaction.atomic():
        _wipe()
        _open_policy()
        foreign = Invitation.objects.filter(state__in=["scheduled", "sending"], due_at__lte=now)
        if foreign.exists():
            # The sweep would send those too, and the counts would not add up.
            raise RuntimeError(f"{foreign.count()} other due invitations in the bench database")
        created = len(_create_invitations(int(count), now))
    if connection.vendor == "postgresql":
        # The last round's rows were just deleted: vacuum now, as autovacuum keeps a live
        # database, rather than have it start in the middle of the timed round.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(BENCH_TABLES)}")
    return created


BENCH_TABLES = (
    "feedback_customer",
    "feedback_order",
    "feedback_orderitem",
    "feedback_invitation",
    "feedback_emaillog",
)


def _wipe() -> None:
    from feedback.models import Customer, EmailLog, Invitation, Order

    # Children first: Order.customer is PROTECT.
    EmailLog.objects.filter(invitation__order__external_id__startswith=ORDER_PREFIX).delete()
    Invitation.objects.filter(order__external_id__startswith=ORDER_PREFIX).delete()
    Order.objects.filter(external_id__startswith=ORDER_PREFIX).delete()
    Customer.objects.filter(email__startswith=EMAIL_PREFIX).delete()


def _open_policy() -> None:
    """A window covering the whole day, no cap, no sampling: every invitation is sendable."""
    from datetime import time as clock

    from feedback.models import InvitationPolicy

    InvitationPolicy.objects.update_or_create(
        pk=1,
        defaults={
            "enabled": True,
            "send_window_start": clock(0, 0),
            "send_window_end": clock(23, 59, 59, 999999),
            "send_on_weekends": True,
            "sample_percent": 100,
            "daily_send_cap": None,
            "consent_mode": "notice",
        },
    )


def _create_invitations(count: int, now: object) -> list[object]:
    from datetime import timedelta

    from feedback import tokens
    from feedback.models import Customer, Invitation, Order, OrderItem

    customers = Customer.objects.bulk_create(
        Customer(email=f"{EMAIL_PREFIX}{i}@example.com", name=f"Bench Customer {i}")
        for i in range(count)
    )
    orders = Order.objects.bulk_create(
        Order(
            external_id=f"{ORDER_PREFIX}{i}",
            customer=customer,
            placed_at=now - timedelta(days=10),
            delivered_at=now - timedelta(days=8),
            channel="bench",
        )
        for i, customer in enumerate(customers)
    )
    OrderItem.objects.bulk_create(
        OrderItem(order=order, sku=f"BENCH-{n}", name=name, quantity=n)
        for order in orders
        for n, name in ((1, "Walnut desk lamp"), (2, "Linen lampshade"))
    )
    nonces = [tokens.new_nonce() for _ in orders]
    invitations = Invitation.objects.bulk_create(
        Invitation(
            order=order,
            customer=order.customer,
            due_at=now - timedelta(minutes=1),
            expires_at=now + timedelta(days=30),
            token_nonce=nonce,
            token_hash=tokens.token_hash(tokens.token_for(nonce)),
        )
        for order, nonce in zip(orders, nonces, strict=True)
    )
    return invitations


def raw_send(port: str, warmup: str, count: str) -> dict[str, float]:
    """The baseline: one bench invitation rendered once, then sent `warmup` times and `count`
    times more over one connection; returns the seconds of the `count` sends (Django's
    start-up, the rendering and the warm-up excluded) and the message size."""
    import smtplib
    from email.utils import make_msgid

    from feedback import emails
    from feedback.models import Invitation

    invitation = (
        Invitation.objects.select_related("customer", "order")
        .filter(order__external_id__startswith=ORDER_PREFIX)
        .earliest("pk")
    )
    message = emails.invitation_message(invitation, kind="invitation", message_id=make_msgid())
    data = message.message().as_bytes(linesep="\r\n")
    with smtplib.SMTP(common.HOST, int(port), timeout=30) as smtp:
        for i in range(int(warmup)):
            smtp.sendmail(message.from_email, [f"raw-warmup-{i}@example.com"], data)
        start = time.perf_counter()
        for i in range(int(count)):
            smtp.sendmail(message.from_email, [f"raw-{i}@example.com"], data)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "bytes": len(data)}


def settled() -> dict[str, int]:
    """Wait (bounded) until no bench invitation is still being sent, then count states
    and email logs: the proof of "sent exactly once"."""
    from django.db.models import Count

    from feedback.models import EmailLog, Invitation

    invitations = Invitation.objects.filter(order__external_id__startswith=ORDER_PREFIX)
    deadline = time.monotonic() + 60
    while invitations.filter(state__in=["scheduled", "sending"]).exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    states = dict(invitations.values_list("state").annotate(n=Count("pk")))
    logs = EmailLog.objects.filter(invitation__in=invitations)
    return {
        "invitations_sent": states.get("sent", 0),
        "invitations_other": sum(states.values()) - states.get("sent", 0),
        "logs": logs.count(),
        "logs_sent": logs.filter(outcome="sent").count(),
        "invitations_logged": logs.values("invitation").distinct().count(),
    }


# --- the SMTP server, in a process of its own ----------------------------------------------


@dataclass
class CountingHandler:
    """Counts messages and distinct recipients; sets `done` when the target is reached.

    Nothing is parsed: the server should cost both sides as little as possible.
    """

    target: int = COUNT
    messages: int = 0
    recipients: set[str] = field(default_factory=set)
    done: threading.Event = field(default_factory=threading.Event)
    done_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, target: int) -> None:
        with self.lock:
            self.target, self.messages, self.done_at = target, 0, 0.0
            self.recipients.clear()
            self.done.clear()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.lock:
            self.messages += 1
            self.recipients.update(envelope.rcpt_tos)
            if self.messages >= self.target and not self.done.is_set():
                self.done_at = time.perf_counter()
                self.done.set()
        return "250 OK"

    def counts(self) -> tuple[int, int]:
        with self.lock:
            return self.messages, len(self.recipients)


def serve_smtp(port: int, commands: Connection) -> None:
    """The server process: aiosmtpd in a thread, this thread answering the bench's
    commands until told to stop or the bench goes away."""
    # aiosmtpd logs every SMTP command at INFO: noise, and time, should logging be on.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = CountingHandler()
    controller = Controller(handler, hostname=common.HOST, port=port, ready_timeout=10)
    controller.start()
    commands.send("ready")
    try:
        while True:
            try:
                command, argument = commands.recv()
            except EOFError:
                return
            if command == "stop":
                return
            if command == "reset":
                handler.reset(argument)
            elif command == "wait":
                handler.done.wait(argument)
            messages, recipients = handler.counts()
            commands.send((messages, recipients, handler.done_at))
    finally:
        controller.stop()


class SmtpServer:
    """The bench's handle on the server process."""

    def __init__(self, port: int, commands: Connection) -> None:
        self.port, self.commands = port, commands

    def _ask(self, command: str, argument: float = 0) -> tuple[int, int, float]:
        self.commands.send((command, argument))
        return self.commands.recv()

    def reset(self, target: int) -> None:
        self._ask("reset", target)

    def counts(self) -> tuple[int, int]:
        messages, recipients, _done_at = self._ask("counts")
        return messages, recipients

    def wait(self, seconds: float) -> float:
        """Wait up to `seconds` for the target; when it arrived (time.perf_counter(), the
        system's monotonic clock, the same in every process), or 0 if not yet."""
        return self._ask("wait", seconds)[2]


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """The counting aiosmtpd server in its own process, on a free local port."""
    port = common.free_port()
    # spawn: a fresh interpreter, none of this process's threads or state.
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=serve_smtp, args=(port, theirs), daemon=True)
    process.start()
    try:
        if not ours.poll(30) or ours.recv() != "ready":
            raise RuntimeError("the SMTP server process did not start")
        yield SmtpServer(port, ours)
    finally:
        if process.is_alive():
            with suppress(OSError):  # the server died already: nothing to stop
                ours.send(("stop", 0))
            process.join(10)
        if process.is_alive():
            process.kill()
            process.join(10)


# --- the worker --------------------------------------------------------------------------


def dkim_env(folder: str) -> dict[str, str]:
    """DKIM_* for the worker, with a new key in `folder`; none unless BENCH_DKIM=1."""
    if not DKIM:
        return {}
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = os.path.join(folder, "dkim.pem")
    with open(path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return {"DKIM_DOMAIN": "bench.example", "DKIM_SELECTOR": "bench", "DKIM_PRIVATE_KEY_FILE": path}


def worker_env(smtp_port: int, dkim_folder: str) -> Mapping[str, str]:
    return {
        **dkim_env(dkim_folder),
        **common.bench_env(),
        "REDIS_URL": REDIS_URL,
        "EMAIL_URL": f"smtp://{common.HOST}:{smtp_port}",
        "INVITATION_BATCH_SIZE": str(BATCH_SIZE),
        # One sweep queues the whole backlog: this measures how fast the workers send,
        # not the cap on what beat's once-a-minute sweep may queue.
        "INVITATION_SWEEP_MAX_BATCHES": str(math.ceil(COUNT / BATCH_SIZE)),
        "BENCH_CELERY_QUEUE": QUEUE,  # read by bench.settings
    }


@contextmanager
def celery_worker(env: Mapping[str, str]) -> Iterator[IO[bytes]]:
    """A real `celery -A portal worker`, ready to take tasks; yields its log file.

    Stopped on exit, also when the benchmark raises; its own session lets a hung worker
    and its pool processes be killed as one group.
    """
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker", *WORKER_OPTIONS]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            cwd=common.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            common.wait_for_log(log, b" ready.", process)
            yield log
        except BaseException:
            common.info(f"celery worker log:\n{common.tail(log)}")
            raise
        finally:
            common.stop_process(process)


def trigger_sweep() -> float:
    """Publish the sweep task on the broker, as beat would; returns when it was sent."""
    app = Celery(broker=REDIS_URL, broker_connection_timeout=5)
    try:
        start = time.perf_counter()
        app.send_task("feedback.tasks.invitations_sweep", queue=QUEUE)
    finally:
        app.close()
    return start


def wait_for_all(server: SmtpServer, target: int, log: IO[bytes]) -> float:
    """Block until the server has `target` messages; returns when the last one arrived.

    Gives up after TIMEOUT_SECONDS, or sooner when no message came for STALL_SECONDS.
    """
    start = last_change = time.monotonic()
    last_count = 0
    while not (done_at := server.wait(0.5)):
        messages, _recipients = server.counts()
        now = time.monotonic()
        if messages != last_count:
            last_count, last_change = messages, now
        if now - start > TIMEOUT_SECONDS or now - last_change > STALL_SECONDS:
            raise RuntimeError(
                f"{messages}/{target} messages after {now - start:.0f}s:\n{common.tail(log)}"
            )
    return done_at


# --- the benchmark -----------------------------------------------------------------------


# Celery's log line for each finished send task, with its run time.
BATCH_DONE = re.compile(rb"invitation_send_batch\[[^\]]+\] succeeded in ([\d.]+)s")


@dataclass(frozen=True)
class PipelineRun:
    count: int
    seconds: float
    batch_seconds: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def run_pipeline(server: SmtpServer, log: IO[bytes], count: int) -> PipelineRun:
    """Seed `count` due invitations, then time from publishing the sweep until the server
    has them all, verified sent exactly once."""
    common.call_in_django(f"{__name__}:seed", str(count))
    server.reset(count)
    log.seek(0, os.SEEK_END)
    log_start = log.tell()
    start = trigger_sweep()
    seconds = wait_for_all(server, count, log) - start
    verify(server, count)
    log.seek(log_start)
    batches = [float(s) for s in BATCH_DONE.findall(log.read())]
    return PipelineRun(count, seconds, batches)


def verify(server: SmtpServer, count: int) -> None:
    """Every invitation sent exactly once: in the database and on the wire."""
    counts = common.call_in_django(f"{__name__}:settled")
    messages, recipients = server.counts()
    expected = {
        "invitations_sent": count,
        "invitations_other": 0,
        "logs": count,
        "logs_sent": count,
        "invitations_logged": count,
    }
    wrong = {key: counts[key] for key, value in expected.items() if counts[key] != value}
    if wrong or (messages, recipients) != (count, count):
        raise RuntimeError(
            f"not sent exactly once: database {wrong or 'ok'}, "
            f"smtp {messages} messages to {recipients} recipients (expected {count})"
        )


@dataclass(frozen=True)
class RawRun:
    seconds: float
    size: int

    @property
    def rate(self) -> float:
        return COUNT / self.seconds


def run_raw(server: SmtpServer) -> RawRun:
    """The baseline's seconds for COUNT messages (after its warm-up), and their size."""
    total = RAW_WARMUP + COUNT
    server.reset(total)
    raw = common.call_in_django(
        f"{__name__}:raw_send", str(server.port), str(RAW_WARMUP), str(COUNT)
    )
    if server.counts() != (total, total):
        raise RuntimeError(f"raw loop: server counted {server.counts()}, expected {total}")
    return RawRun(raw["seconds"], int(raw["bytes"]))


@contextmanager
def raised_priority() -> Iterator[int]:
    """This process at NICE while the benchmark runs, and so every process it starts;
    yields the niceness in effect."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, NICE)
    except PermissionError:
        common.info(f"cannot run at nice {NICE}: measuring at nice {before}")
    try:
        yield os.getpriority(os.PRIO_PROCESS, 0)
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, before)


def run() -> list[common.Result]:
    with raised_priority() as nice:
        pipelines, raws = run_rounds()
    ratios = [
        pipeline.rate / statistics.mean([before.rate, after.rate])
        for pipeline, before, after in zip(pipelines, raws[:-1], raws[1:], strict=True)
    ]
    batch_seconds = [s for pipeline in pipelines for s in pipeline.batch_seconds]
    per_message_ms = sum(batch_seconds) / (COUNT * ROUNDS) * 1000
    detail = (
        f"median of {ROUNDS} rounds' ratios {', '.join(f'{r:.2f}' for r in ratios)}; "
        f"pipeline {', '.join(f'{p.rate:.0f}' for p in pipelines)} msg/s, "
        f"raw smtplib {', '.join(f'{r.rate:.0f}' for r in raws)} msg/s; "
        f"{COUNT} messages of {raws[0].size / 1000:.1f} kB, batches of {BATCH_SIZE}, "
        f"{CONCURRENCY} worker processes at {per_message_ms:.1f} ms/msg each; nice {nice}"
    )
    return [common.Result(NAME, statistics.median(ratios), detail)]


def run_rounds() -> tuple[list[PipelineRun], list[RawRun]]:
    """raw, then ROUNDS times pipeline and raw, after a pipeline warm-up."""
    with (
        tempfile.TemporaryDirectory() as folder,
        smtp_server() as server,
        celery_worker(worker_env(server.port, folder)) as log,
    ):
        run_pipeline(server, log, PIPELINE_WARMUP)  # also leaves an invitation for raw
        raws = [run_raw(server)]
        pipelines = []
        for _ in range(ROUNDS):
            pipelines.append(run_pipeline(server, log, COUNT))
            raws.append(run_raw(server))
    return pipelines, raws
