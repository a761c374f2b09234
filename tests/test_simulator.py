"""The policy simulator: a draft replayed on past deliveries, beside the live policy;
hand-computed on a small data set; read-only; the command and the page."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from django.apps import apps
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.test import Client

from feedback.models import EmailLog, InvitationPolicy
from feedback.rules import PolicyRules
from feedback.selectors.simulator import read_only, simulate, simulate_many
from feedback.views import staff_simulator as simulator_view
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory
from tests.staff import member

pytestmark = pytest.mark.django_db

START, END = date(2026, 3, 2), date(2026, 3, 8)  # Monday to Sunday
LIVE = PolicyRules()  # the defaults: 7 days, 09:00-18:00, cooldown 90, notice, no cap
DRAFT = PolicyRules(customer_cooldown_days=0, consent_mode="opt_in", daily_send_cap=1)


def at(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def order(customer: object, delivered_at: datetime, external_id: str) -> None:
    OrderFactory(customer=customer, delivered_at=delivered_at, external_id=external_id)


@pytest.fixture
def history() -> None:
    """Seven deliveries in the period, one after it, and one earlier invitation."""
    utc = {"time_zone": "UTC"}
    ann = CustomerFactory(consent="given", **utc)
    order(ann, at(3, 2, 10), "A1")  # sent 9 March 10:00 by both
    order(ann, at(3, 4, 10), "A2")  # live: cooldown after A1; draft (no cooldown): sent 11 March
    gus = CustomerFactory(consent="given", **utc)
    order(gus, at(3, 2, 11), "G1")  # live: sent 9 March; draft: that day's cap of 1 is taken
    dan = CustomerFactory(consent="unknown", **utc)
    order(dan, at(3, 2, 12), "D1")  # live (notice): sent; draft (opt-in): no consent
    bea = CustomerFactory(invitations_stopped_at=at(2, 1, 0), **utc)
    order(bea, at(3, 3, 10), "B1")  # opted out under both
    order(CustomerFactory(email="", **utc), at(3, 3, 11), "C1")  # no email under both
    eve = CustomerFactory(consent="given", **utc)
    InvitationFactory(order__customer=eve, order__delivered_at=at(1, 20, 10), sent_at=at(2, 1, 10))
    order(eve, at(3, 5, 10), "E1")  # live: within 90 days of 1 Feb; draft: sent 12 March
    order(eve, at(3, 9, 10), "E2")  # delivered after the period: not replayed
    OrderFactory(customer=eve, delivered_at=None)  # never delivered: not replayed


@pytest.mark.usefixtures("history")
def test_it_replays_the_period_through_each_policy_by_hand() -> None:
    live = simulate(LIVE, START, END)
    assert (live.orders, live.would_send) == (7, 3)
    assert live.suppressed == {"cooldown": 2, "opted_out": 1, "no_email": 1}
    assert live.sends_per_day == {date(2026, 3, 9): 3}
    assert live.peak_day == (date(2026, 3, 9), 3)
    assert (live.customers_invited, live.max_per_customer) == (3, 1)

    draft = simulate(DRAFT, START, END)
    assert (draft.orders, draft.would_send) == (7, 3)
    assert draft.suppressed == {"daily_cap": 1, "no_consent": 1, "opted_out": 1, "no_email": 1}
    assert draft.sends_per_day == {date(2026, 3, d): 1 for d in (9, 11, 12)}
    assert draft.peak_day == (date(2026, 3, 9), 1)
    assert (draft.customers_invited, draft.max_per_customer) == (2, 2)


def test_an_empty_period_gives_zeros_and_no_peak() -> None:
    result = simulate(LIVE, START, END)
    assert (result.orders, result.would_send, result.max_per_customer) == (0, 0, 0)
    assert result.peak_day is None


@contextmanager
def refuse_writes() -> Iterator[list[str]]:
    """Fail any INSERT, UPDATE or DELETE the code under test sends to the database."""
    attempted: list[str] = []

    def guard(execute: object, sql: str, *args: object) -> object:
        if sql.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            attempted.append(sql)
            raise AssertionError(f"the simulator wrote: {sql}")
        return execute(sql, *args)

    with connection.execute_wrapper(guard):
        yield attempted


def row_counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in apps.get_app_config("feedback").get_models()}


@pytest.mark.usefixtures("history")
def test_it_writes_nothing_and_sends_nothing(client: Client) -> None:
    client.force_login(member("alice", "Ops"))
    before = row_counts()
    policy_stamp = InvitationPolicy.live().updated_at
    with refuse_writes() as attempted:
        simulate_many([LIVE, DRAFT], START, END)
        call_command("simulate_policy", "--from", "2026-03-02", "--to", "2026-03-08")
        page = client.get("/staff/simulate/", {**form(), "customer_cooldown_days": "0"})
    assert page.status_code == 200
    assert attempted == []
    assert row_counts() == before
    assert InvitationPolicy.live().updated_at == policy_stamp
    assert mail.outbox == []
    assert not EmailLog.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="READ ONLY is PostgreSQL's")
def test_the_database_itself_refuses_a_write_during_the_replay() -> None:
    with pytest.raises(DatabaseError, match="read-only transaction"), read_only():
        CustomerFactory()


def form(**changes: str) -> dict[str, str]:
    """The simulator's form as a browser submits it, prefilled from the live defaults."""
    data = {
        "period_start": "2026-03-02",
        "period_end": "2026-03-08",
        "enabled": "on",
        "delay_after_delivery_days": "7",
        "send_window_start": "09:00",
        "send_window_end": "18:00",
        "send_on_weekends": "on",
        "customer_cooldown_days": "90",
        "invitation_valid_days": "30",
        "sample_percent": "100",
        "daily_send_cap": "",
        "consent_mode": "notice",
        "snooze_choices": "7, 14, 30",
        "brake_complaint_percent": "0.1",
        "brake_hard_bounce_percent": "5.0",
        "brake_window_days": "30",
        "brake_window_messages": "10000",
        "brake_min_messages": "500",
    }
    return {**data, **changes}


@pytest.mark.usefixtures("history")
def test_the_command_prints_live_and_draft_side_by_side(capsys: pytest.CaptureFixture) -> None:
    call_command(
        "simulate_policy",
        "--from=2026-03-02",
        "--to=2026-03-08",
        "--set",
        "customer_cooldown_days=0",
        "--set",
        "consent_mode=opt_in",
        "--set",
        "daily_send_cap=1",
    )
    lines = {" ".join(line.split()) for line in capsys.readouterr().out.splitlines()}
    assert "invitations that would be sent 3 3 0" in lines
    assert "suppressed: daily cap reached 0 1 +1" in lines
    assert "suppressed: customer cooldown 2 0 -2" in lines
    assert "peak sends in one day 3 1 -2" in lines
    assert "peak day 2026-03-09 2026-03-09" in lines
    assert "most invitations to one customer 1 2 +1" in lines


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "colour=blue"], "give FIELD=VALUE with a policy field"),
        (["--set", "sample_percent=150"], "sample_percent: Ensure this value is less than"),
        (["--set", "send_window_end=08:00"], "send_window_end: The window must end after"),
        (["--set", "send_on_weekends=maybe"], "send_on_weekends: 'maybe' is not yes/no"),
        (["--from=2026-03-32"], "is not a date"),
        (["--from=2026-03-09"], "--to: the period must end on or after --from"),
    ],
)
def test_the_command_names_the_bad_argument(args: list[str], message: str) -> None:
    defaults = {"--from": "--from=2026-03-02", "--to": "--to=2026-03-08"}
    for arg in args:
        defaults.pop(arg.split("=")[0], None)
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("simulate_policy", *defaults.values(), *args)


@pytest.mark.usefixtures("history")
def test_the_page_shows_the_comparison_and_a_chart_with_a_table(client: Client) -> None:
    client.force_login(member("bob", "Staff"))
    blank = client.get("/staff/simulate/").content.decode()
    assert 'name="customer_cooldown_days" value="90"' in blank
    assert 'id="comparison"' not in blank
    html = client.get(
        "/staff/simulate/",
        form(customer_cooldown_days="0", consent_mode="opt_in", daily_send_cap="1"),
    ).content.decode()
    rows = html[html.index('id="comparison"') : html.index("</table>", html.index("comparison"))]
    compact = " ".join(rows.replace("<", " <").split())
    assert 'invitations that would be sent </th> <td class="text-end">3' in compact
    assert "<svg" in html and "<rect" in html
    assert "<td>2026-03-11</td>" in html  # the table alternative of the chart
    assert "Customer cooldown (days) 90 → <strong>0</strong>" in html
    assert "Open the draft in the policy editor" not in html  # Staff may not edit


def test_the_page_refuses_a_bad_draft_naming_the_field(client: Client) -> None:
    client.force_login(member("alice", "Ops"))
    response = client.get(
        "/staff/simulate/", form(send_window_end="08:00", period_end="2026-01-01")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The window must end after it starts." in html
    assert "The period must end on or after its first day." in html


@pytest.mark.usefixtures("history")
def test_the_page_sends_a_too_long_replay_to_the_command(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulator_view, "PAGE_MAX_ORDERS", 6)
    client.force_login(member("alice", "Ops"))
    response = client.get("/staff/simulate/", form())
    assert response.status_code == 400
    html = response.content.decode()
    assert "7 orders were delivered in this period; this page replays up to 6" in html
    assert "manage.py simulate_policy" in html
    assert 'id="comparison"' not in html
