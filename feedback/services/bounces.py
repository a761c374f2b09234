"""Bounces, complaints and unsubscribe-by-mail: the reader for feedback.services.inbound.

- An abuse report (ARF, RFC 5965: `multipart/report; report-type=feedback-report`) is
  matched to our message through the original it quotes: its signed return path, its
  signed unsubscribe address, or its Message-ID. The customer is opted out of everything.
- Mail to a signed unsubscribe address (List-Unsubscribe's mailto) stops all invitations,
  as the one-click POST does.
- Mail to a signed return path is a bounce: flufl.bounce finds the failure in the many
  formats mail servers write, and the DSN's own Status (RFC 3464) tells a hard bounce
  (5.x.x) from a soft one (4.x.x).

A signed address that does not verify matches nothing: the message is kept as FORGED and
nothing changes. Every fact goes through feedback.services.suppressions.
"""

import email
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import getaddresses

from django.utils.translation import gettext as _
from flufl.bounce import all_failures

from feedback import verp
from feedback.models import DeliveryEvent, EmailLog, InboundMessage
from feedback.services.suppressions import delivery_event_record

Kind = DeliveryEvent.Kind
Signed = verp.Signed


def inbound_read(message: EmailMessage, record: InboundMessage) -> bool:
    """Recognise an ARF complaint, an unsubscribe by mail or a delivery status notification."""
    if is_feedback_report(message):
        return complaint_read(message, record)
    state, log_id = verp.read_address(verp.UNSUBSCRIBE, record.recipient)
    if state != Signed.NOT_OURS:
        return unsubscribe_read(record, state, log_id)
    state, log_id = verp.read_address(verp.BOUNCE, record.recipient)
    if state != Signed.NOT_OURS:
        return bounce_read(message, record, state, log_id)
    return False


def _email_log(log_id: int | None) -> EmailLog | None:
    if log_id is None:
        return None
    return EmailLog.objects.select_related("invitation__customer").filter(pk=log_id).first()


def _matched(record: InboundMessage, log: EmailLog, kind: str) -> None:
    record.kind = kind
    record.email_log = log
    record.customer = log.invitation.customer


def _forged(record: InboundMessage) -> bool:
    record.kind = InboundMessage.Kind.FORGED
    record.note = _("The signed address did not verify: nothing was changed.")
    return True


# Unsubscribe by mail --------------------------------------------------------------------


def unsubscribe_read(record: InboundMessage, state: str, log_id: int | None) -> bool:
    log = _email_log(log_id)
    if state == Signed.FORGED:
        return _forged(record)
    if log is None:
        record.kind = InboundMessage.Kind.UNSUBSCRIBE
        record.note = _("The message it refers to is no longer known: nothing was changed.")
        return True
    _matched(record, log, InboundMessage.Kind.UNSUBSCRIBE)
    delivery_event_record(
        kind=Kind.UNSUBSCRIBE,
        source=DeliveryEvent.Source.MAILTO,
        email_log=log,
        event_id=record.message_id,
    )
    record.note = _("The customer stopped all invitations by email.")
    return True


# Bounces ------------------------------------------------------------------------------


def bounce_read(
    message: EmailMessage, record: InboundMessage, state: str, log_id: int | None
) -> bool:
    if state == Signed.FORGED:
        return _forged(record)
    log = _email_log(log_id)
    kind, detail = bounce_kind(message, bytes(record.raw))
    if log is None:
        record.kind = InboundMessage.Kind.BOUNCE
        record.note = _("The message it refers to is no longer known: nothing was changed.")
        return True
    if kind is None:
        # Mail to the return path that reports no failure: an auto-reply, usually.
        record.email_log, record.customer = log, log.invitation.customer
        record.note = _("Sent to the return path, but reports no delivery failure.")
        return False
    _matched(record, log, InboundMessage.Kind.BOUNCE)
    delivery_event_record(
        kind=kind,
        source=DeliveryEvent.Source.DSN,
        email_log=log,
        detail=detail,
        event_id=record.message_id,
    )
    record.note = {
        Kind.HARD_BOUNCE: _("Hard bounce: the address is on the suppression list."),
        Kind.SOFT_BOUNCE: _("Soft bounce: the address is suppressed after repeated ones."),
        Kind.DELIVERED: _("Delivery report: delivered."),
    }[kind]
    return True


def delivery_status(message: Message) -> list[tuple[str, str, str]]:
    """(Action, Status, Diagnostic-Code) of each recipient block of an RFC 3464 report."""
    found = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in part.get_payload():
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", "")).strip()
            if action or status:
                found.append((action, status, str(block.get("Diagnostic-Code", "")).strip()))
    return found


def bounce_kind(message: EmailMessage, raw: bytes) -> tuple[str | None, str]:
    """(hard_bounce | soft_bounce | delivered | None, detail) for a message sent to our
    return path. The DSN's Status decides when there is one (5.x.x hard, 4.x.x soft, as
    RFC 3463 defines its classes); else flufl.bounce's permanent or temporary failure."""
    statuses = delivery_status(message)
    classes = {status[:1] for _action, status, _diag in statuses}
    actions = {action for action, _status, _diag in statuses}
    detail = "; ".join(" ".join(filter(None, fields)) for fields in statuses)
    if "5" in classes or (not classes - {""} and "failed" in actions):
        return Kind.HARD_BOUNCE, detail
    if "4" in classes or "delayed" in actions:
        return Kind.SOFT_BOUNCE, detail
    if statuses and actions <= {"delivered", "relayed", "expanded"}:
        return Kind.DELIVERED, detail
    # flufl.bounce reads the raw, unparsed message (its detectors expect compat32).
    temporary, permanent = all_failures(email.message_from_bytes(raw))
    if permanent:
        return Kind.HARD_BOUNCE, _addresses("permanent failure", permanent)
    if temporary:
        return Kind.SOFT_BOUNCE, _addresses("temporary failure", temporary)
    return None, ""


def _addresses(what: str, found: set) -> str:
    # flufl.bounce gives bytes; only the domains are kept, never the addresses.
    names = sorted(a.decode(errors="replace") if isinstance(a, bytes) else a for a in found)
    return f"{what} ({', '.join(name.rpartition('@')[2] for name in names)})"


# Complaints ---------------------------------------------------------------------------


def is_feedback_report(message: EmailMessage) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "feedback-report"
    )


def complaint_read(message: EmailMessage, record: InboundMessage) -> bool:
    """Match the quoted original to our message; opt its customer out of everything."""
    record.kind = InboundMessage.Kind.COMPLAINT
    report = _feedback_report(message)
    state, log_id = _original_log(_quoted_original(message), report, record.recipient)
    log = _email_log(log_id)
    if log is None:
        if state == Signed.FORGED:
            return _forged(record)
        record.note = _("Could not be matched to a message we sent: nothing was changed.")
        return True
    _matched(record, log, InboundMessage.Kind.COMPLAINT)
    keys = ("Feedback-Type", "User-Agent", "Source-IP")
    detail = "; ".join(f"{k}: {report[k]}" for k in keys if report is not None and report.get(k))
    delivery_event_record(
        kind=Kind.COMPLAINT,
        source=DeliveryEvent.Source.COMPLAINT,
        email_log=log,
        detail=detail,
        event_id=record.message_id,
    )
    record.note = _("Spam complaint: the customer gets no more invitations.")
    return True


def _feedback_report(message: EmailMessage) -> Message | None:
    """The machine-readable part of an abuse report (its fields, RFC 5965 section 3)."""
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            fields = part.get_payload()
            return fields[0] if isinstance(fields, list) and fields else None
    return None


def _quoted_original(message: EmailMessage) -> Message | None:
    """The original message (or its headers) that an abuse report quotes."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            return payload[0] if isinstance(payload, list) and payload else None
        if kind == "text/rfc822-headers":
            return HeaderParser().parsestr(part.get_payload(decode=True).decode(errors="replace"))
    return None


def _original_log(
    original: Message | None, report: Message | None, recipient: str
) -> tuple[str, int | None]:
    """(the verdict, the EmailLog id): from a signed address (the report's recipient, its
    Original-Mail-From, the original's Return-Path or List-Unsubscribe mailto), else our
    Message-ID in the original. A valid signature or a known Message-ID wins; a forged
    signature with neither is FORGED."""
    candidates = [(verp.BOUNCE, recipient)]
    if report is not None:
        candidates.append((verp.BOUNCE, str(report.get("Original-Mail-From", ""))))
    if original is not None:
        candidates.append((verp.BOUNCE, str(original.get("Return-Path", ""))))
        unsubscribe = str(original.get("List-Unsubscribe", "")).replace("mailto:", "")
        candidates += [(verp.UNSUBSCRIBE, a) for _name, a in getaddresses([unsubscribe])]
    verdict = Signed.NOT_OURS
    for purpose, address in candidates:
        state, log_id = verp.read_address(purpose, address)
        if state == Signed.VALID:
            return state, log_id
        if state == Signed.FORGED:
            verdict = Signed.FORGED
    message_id = str(original.get("Message-ID", "")).strip() if original is not None else ""
    if message_id:
        found = EmailLog.objects.filter(message_id=message_id).values_list("pk", flat=True)
        if found:
            return Signed.VALID, found[0]
    return verdict, None
