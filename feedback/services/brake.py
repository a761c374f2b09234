"""The brake: sending pauses itself when complaints or hard bounces pass the policy's
lines, and stays paused until Ops resume it with a reason. Both ends are audited in
SendingPause (who, when, why, the figures at the time)."""

import logging
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from feedback.models import InvitationPolicy, SendingPause
from feedback.selectors import deliverability

logger = logging.getLogger(__name__)


class BrakeWatch:
    """The brake, asked before every message of a send batch (and before each claim of a
    sweep), so a run of complaints stops a batch half-way.

    Each ask is two small indexed reads: the latest pause, and how many complaints and hard
    bounces came back in the window. The window's full figures (a count over up to
    `brake_window_messages` messages) are worked out again only when that number changed
    since this watch last worked them out: in between, the rates can only fall as messages
    go out. Measured with a bounce in the window and 10,000 messages: 48 ms a message when
    every ask worked the figures out, 8 ms for the two reads, on a loaded machine."""

    def __init__(self, policy: InvitationPolicy) -> None:
        self.policy = policy
        self.bad_counted: int | None = None

    def pause_in_force(self, *, now: datetime) -> SendingPause | None:
        """The pause in force, pulling the brake first if a rate has passed its line; None
        when sending may go on."""
        latest = deliverability.latest_pause()
        if latest is not None and latest.resumed_at is None:
            return latest
        since = deliverability.window_start(self.policy, now, latest)
        bad = deliverability.bad_events_since(since)
        if not bad or bad == self.bad_counted:
            return None
        self.bad_counted = bad
        figures = deliverability.brake_figures(policy=self.policy, now=now, latest=latest)
        reason = figures.over_line()
        if not reason:
            return None
        return sending_pause(reason=reason, figures=figures, now=now)


def brake_check(*, policy: InvitationPolicy, now: datetime) -> SendingPause | None:
    """The brake asked once: the pause in force, if any, pulling it first if need be."""
    return BrakeWatch(policy).pause_in_force(now=now)


@transaction.atomic
def sending_pause(
    *, reason: str, figures: deliverability.BrakeFigures, now: datetime
) -> SendingPause:
    """Pull the brake, once: of several senders pulling it together, one records the pause
    and the others find it (the policy row's lock puts them in line)."""
    InvitationPolicy.objects.select_for_update().filter(pk=1).first()
    if (pause := deliverability.open_pause()) is not None:
        return pause
    logger.warning("sending paused by the brake (%s): %s", reason, figures.as_json())
    return SendingPause.objects.create(paused_at=now, reason=reason, figures=figures.as_json())


@transaction.atomic
def sending_resume(
    *, resumed_by: AbstractBaseUser | None, reason: str, now: datetime | None = None
) -> SendingPause | None:
    """Ops release the brake, saying why; the figures at that moment are kept with it.
    None when sending was not paused (e.g. a colleague resumed it first). The brake then
    counts afresh from now: due invitations go out with the next sweep, once each."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required to resume sending")
    now = now or timezone.now()
    policy = InvitationPolicy.objects.select_for_update().filter(pk=1).first()
    pause = deliverability.open_pause()
    if pause is None:
        return None
    figures = deliverability.brake_figures(policy=policy or InvitationPolicy.live(), now=now)
    pause.resumed_at = now
    pause.resumed_by = resumed_by
    pause.resume_reason = reason
    pause.resume_figures = figures.as_json()
    pause.save(update_fields=["resumed_at", "resumed_by", "resume_reason", "resume_figures"])
    logger.warning("sending resumed by %s: %s", resumed_by, reason)
    return pause
