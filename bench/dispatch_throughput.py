"""5,000 due invitations through the real pipeline against a raw smtplib loop, same server.

The pipeline: the sweep task published on Redis, a real `celery worker` (two processes)
claiming batches and sending each invitation (row locks, rules, EmailLog, templates, one
SMTP connection per batch) to an aiosmtpd server running in this process. The baseline:
one pre-rendered invitation sent as many times over one smtplib connection, from a
subprocess, so that, like the worker, it does not share this process's GIL with the server.
"""

import logging
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

from aiosmtpd.controller import Controller
from celery import Celery

from bench import common

NAME = "dispatch_throughput_vs_raw_smtp"
COUNT = 5000
BATCH_SIZE = 100
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
WORKER_OPTIONS = [
    f"--queues={QUEUE}",
    f"--hostname={QUEUE}@%h",
    "--purge",  # only our queue: what an interrupted run left there
    "--concurrency=2",
    "--loglevel=INFO",
    "--without-heartbeat",
    "--without-gossip",
    "--without-mingle",
]


# --- inside Django (via bench.call) ------------------------------------------------------


def seed(count: str) -> int:
    """Replace the bench rows with `count` due invitations, one customer each; returns the
    pk of one of them (the raw baseline renders it)."""
    from django.db import transaction
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
        return _create_invitations(int(count), now)


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


def _create_invitations(count: int, now: object) -> int:
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
    return invitations[0].pk


def raw_send(port: str, count: str, invitation_pk: str) -> dict[str, float]:
    """The baseline: one invitation rendered once, then sent `count` times over one
    connection; returns the loop's seconds (Django's start-up excluded) and message size."""
    import smtplib
    from email.utils import make_msgid

    from feedback import emails
    from feedback.models import Invitation

    invitation = Invitation.objects.select_related("customer", "order").get(pk=invitation_pk)
    message = emails.invitation_message(invitation, kind="invitation", message_id=make_msgid())
    data = message.message().as_bytes(linesep="\r\n")
    with smtplib.SMTP(common.HOST, int(port), timeout=30) as smtp:
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


# --- the SMTP server ---------------------------------------------------------------------


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


@contextmanager
def smtp_server() -> Iterator[tuple[CountingHandler, int]]:
    """aiosmtpd on a free local port, in a thread of this process; stopped on exit."""
    # aiosmtpd logs every SMTP command at INFO: noise, and time, should logging be on.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = CountingHandler()
    port = common.free_port()
    controller = Controller(handler, hostname=common.HOST, port=port, ready_timeout=10)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


# --- the worker --------------------------------------------------------------------------


def worker_env(smtp_port: int) -> Mapping[str, str]:
    return {
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


def wait_for_all(handler: CountingHandler, log: IO[bytes]) -> float:
    """Block until the server has every message; returns when the last one arrived.

    Gives up after TIMEOUT_SECONDS, or sooner when no message came for STALL_SECONDS.
    """
    start = last_change = time.monotonic()
    last_count = 0
    while not handler.done.wait(0.5):
        messages, _recipients = handler.counts()
        now = time.monotonic()
        if messages != last_count:
            last_count, last_change = messages, now
        if now - start > TIMEOUT_SECONDS or now - last_change > STALL_SECONDS:
            raise RuntimeError(
                f"{messages}/{handler.target} messages after {now - start:.0f}s:\n"
                f"{common.tail(log)}"
            )
    return handler.done_at


# --- the benchmark -----------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineRun:
    seconds: float
    batch_seconds: list[float]


def run_pipeline(handler: CountingHandler, port: int) -> PipelineRun:
    """From publishing the sweep until the server has all COUNT messages, verified."""
    handler.reset(COUNT)
    with celery_worker(worker_env(port)) as log:
        start = trigger_sweep()
        seconds = wait_for_all(handler, log) - start
        verify(handler)
        log.seek(0)
        batches = [float(s) for s in BATCH_DONE.findall(log.read().decode(errors="replace"))]
    return PipelineRun(seconds, batches)


# Celery's log line for each finished send task, with its run time.
BATCH_DONE = re.compile(r"invitation_send_batch\[[^\]]+\] succeeded in ([\d.]+)s")


def verify(handler: CountingHandler) -> None:
    """Every invitation sent exactly once: in the database and on the wire."""
    counts = common.call_in_django(f"{__name__}:settled")
    messages, recipients = handler.counts()
    expected = {
        "invitations_sent": COUNT,
        "invitations_other": 0,
        "logs": COUNT,
        "logs_sent": COUNT,
        "invitations_logged": COUNT,
    }
    wrong = {key: counts[key] for key, value in expected.items() if counts[key] != value}
    if wrong or (messages, recipients) != (COUNT, COUNT):
        raise RuntimeError(
            f"not sent exactly once: database {wrong or 'ok'}, "
            f"smtp {messages} messages to {recipients} recipients (expected {COUNT})"
        )


def run_raw(handler: CountingHandler, port: int, invitation_pk: int) -> tuple[float, int]:
    """The baseline's seconds for COUNT messages, and the message size."""
    handler.reset(COUNT)
    raw = common.call_in_django(f"{__name__}:raw_send", str(port), str(COUNT), str(invitation_pk))
    if handler.counts() != (COUNT, COUNT):
        raise RuntimeError(f"raw loop: server counted {handler.counts()}, expected {COUNT}")
    return raw["seconds"], int(raw["bytes"])


def run() -> list[common.Result]:
    invitation_pk = common.call_in_django(f"{__name__}:seed", str(COUNT))
    with smtp_server() as (handler, port):
        # The baseline before and after the pipeline: load on the machine that drifts
        # during the run weighs on both sides alike.
        before, size = run_raw(handler, port, invitation_pk)
        pipeline = run_pipeline(handler, port)
        after, _size = run_raw(handler, port, invitation_pk)
    pipeline_rate = COUNT / pipeline.seconds
    raw_rate = COUNT / statistics.mean([before, after])
    per_message_ms = sum(pipeline.batch_seconds) / COUNT * 1000
    detail = (
        f"pipeline {pipeline_rate:.0f} msg/s ({pipeline.seconds:.1f} s), "
        f"raw smtplib {raw_rate:.0f} msg/s ({COUNT / before:.0f} before, "
        f"{COUNT / after:.0f} after); {COUNT} messages of {size / 1000:.1f} kB, "
        f"{len(pipeline.batch_seconds)} batches of {BATCH_SIZE}, 2 worker processes "
        f"at {per_message_ms:.1f} ms/msg each"
    )
    return [common.Result(NAME, pipeline_rate / raw_rate, detail)]
