"""Reads for pages."""

import functools
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import get_related_populators
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from feedback import tokens
from feedback.models import Invitation, InvitationPolicy


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link points to, with its customer, order and answer, or None.

    One query; the order's items are read only by the pages that show them."""
    token_hash = tokens.lookup_hash(token)
    if token_hash is None:
        return None
    return _token_lookup(DEFAULT_DB_ALIAS).get(token_hash)


class _CompiledLookup:
    """invitation_by_token's query, compiled once per process.

    Compiling a select_related() query costs more than running it (about 0.7 ms against
    0.4 here), and it is the same SQL for every link: only the hash differs. The rows
    become instances exactly as QuerySet iteration makes them (Django's ModelIterable),
    with the same converters and the same related-object caches."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        # token_hash is unique: no ORDER BY needed, unlike .first().
        queryset = Invitation.objects.using(alias).select_related("customer", "order", "response")
        compiler = queryset.filter(token_hash="")[:1].query.get_compiler(using=alias)
        self.sql, _params = compiler.as_sql()
        klass_info, select = compiler.klass_info, compiler.select
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1]
        self.own = slice(first, last + 1)
        self.attnames = [column[0].target.attname for column in select[self.own]]
        self.related = get_related_populators(klass_info, select, alias)
        self.compiler = compiler
        columns = [column[0] for column in select[: compiler.col_count]]
        self.converters = compiler.get_converters(columns)

    def get(self, token_hash: str) -> Invitation | None:
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, [token_hash])
            rows = cursor.fetchmany(1)
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        for row in rows:
            invitation = Invitation.from_db(self.alias, self.attnames, row[self.own])
            for populator in self.related:
                populator.populate(row, invitation)
            return invitation
        return None


@functools.cache
def _token_lookup(alias: str) -> _CompiledLookup:
    return _CompiledLookup(alias)


def answer_editable(submitted_at: datetime | None) -> bool:
    """May the customer still change an answer submitted then? (None: not answered yet.)"""
    if submitted_at is None:
        return True
    return submitted_at > editable_since(timezone.now())


def editable_since(now: datetime) -> datetime:
    """An answer submitted after this moment may still be changed."""
    return now - timedelta(days=settings.RESPONSE_EDITABLE_DAYS)


_page_policy: tuple[float, InvitationPolicy] | None = None


def policy_for_pages() -> InvitationPolicy:
    """The live policy as customer pages show it: read at most every few seconds per process.

    Pages only display it (whether to ask the 0-10 question, which "later" days to offer);
    every decision (sending, snoozing) reads the live row itself. A change saved in this
    process shows at once, one saved in another within FEEDBACK_POLICY_CACHE_SECONDS.
    """
    global _page_policy
    now = time.monotonic()
    if _page_policy is None or now - _page_policy[0] >= settings.FEEDBACK_POLICY_CACHE_SECONDS:
        _page_policy = (now, InvitationPolicy.live())
    return _page_policy[1]


@receiver([post_save, post_delete], sender=InvitationPolicy)
def forget_page_policy(**_kwargs: object) -> None:
    global _page_policy
    _page_policy = None
