"""Writes: every change that spans models or has side effects goes through here."""

from feedback.services.controls import (
    ControlRefused,
    customer_resume_invitations,
    customer_stop_invitations,
    invitation_decline,
    invitation_snooze,
)
from feedback.services.invitations import (
    BatchResult,
    SweepSummary,
    invitation_claim_due,
    invitation_schedule,
    invitation_send_batch,
    invitations_expire,
    invitations_recover_stale,
    invitations_schedule,
    invitations_sweep,
    invitations_wake_snoozed,
    live_rules,
    order_mark_delivered,
    send_here,
)
from feedback.services.orders import UpsertSummary, orders_upsert
from feedback.services.policy import policy_save
from feedback.services.responses import AnswerRefused, answer_editable, response_submit

__all__ = [
    "AnswerRefused",
    "BatchResult",
    "ControlRefused",
    "SweepSummary",
    "UpsertSummary",
    "answer_editable",
    "customer_resume_invitations",
    "customer_stop_invitations",
    "invitation_claim_due",
    "invitation_decline",
    "invitation_schedule",
    "invitation_send_batch",
    "invitation_snooze",
    "invitations_expire",
    "invitations_recover_stale",
    "invitations_schedule",
    "invitations_sweep",
    "invitations_wake_snoozed",
    "live_rules",
    "order_mark_delivered",
    "orders_upsert",
    "policy_save",
    "response_submit",
    "send_here",
]
