"""The feedback page kept as rendered, per process, and served again while every row it
shows is unchanged.

A customer reloads the page, opens the link twice or switches language and back: each
time, the page would be built from the same rows. Every GET still reads the database
once (the fingerprint below), so a kept page can never outlive a change, whichever code
path or process made it: an answer, a snooze, an import that changed the items, an
erasure. What the fingerprint does not cover is in the key: the language, the parts of
the policy the page shows, and whether the answer may still be edited (a matter of time).

PostgreSQL only (the fingerprint is one SQL statement); elsewhere every GET renders.
"""

import re
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import translation

from feedback import selectors, tokens
from feedback.models import InvitationPolicy
from feedback.views.customer import page_language

# Each row as PostgreSQL writes it out, NULL columns in place: any change to any column
# of the invitation, its order and items, its customer or its answer changes the digest.
_FINGERPRINT_SQL = """
SELECT c.locale, r.submitted_at, md5(concat_ws(
    '|', i::text, o::text, c::text, coalesce(r::text, '-'),
    coalesce((SELECT string_agg(x::text, '|' ORDER BY x.id) FROM feedback_orderitem x
              WHERE x.order_id = i.order_id), '-')))
FROM feedback_invitation i
JOIN feedback_order o ON o.id = i.order_id
JOIN feedback_customer c ON c.id = i.customer_id
LEFT JOIN feedback_response r ON r.invitation_id = i.id
WHERE i.token_hash = %s
"""
_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class Seen:
    """What one GET found out before rendering: the key and fingerprint of its page."""

    key: tuple
    digest: str
    language: str

    @classmethod
    def of(cls, request: HttpRequest, token: str, policy: InvitationPolicy) -> "Seen | None":
        """The page's fingerprint now, or None: unknown token, a language being chosen
        (?lang= sets a cookie), the cache off, or not PostgreSQL."""
        if not settings.FEEDBACK_PAGE_CACHE_ENTRIES or connection.vendor != "postgresql":
            return None
        token_hash = tokens.lookup_hash(token)
        if "lang" in request.GET or token_hash is None:
            return None
        with connection.cursor() as cursor:
            cursor.execute(_FINGERPRINT_SQL, [token_hash])
            row = cursor.fetchone()
        if row is None:
            return None
        locale, submitted_at, digest = row
        language = page_language(request, locale)
        shown = (policy.nps_enabled, tuple(policy.snooze_choices))
        editable = selectors.answer_editable(submitted_at)
        return cls((token_hash, language, shown, editable), digest, language)

    def serve(self, request: HttpRequest) -> HttpResponse | None:
        """The kept page for these rows, with this visitor's CSRF token; None if none."""
        kept = _pages.get(self.key, self.digest)
        if kept is None:
            return None
        translation.activate(self.language)  # for Content-Language, as on a rendered page
        request.LANGUAGE_CODE = self.language
        return HttpResponse(get_token(request).encode().join(kept))

    def keep(self, response: HttpResponse) -> None:
        """Keep a page rendered from rows read after this fingerprint was taken.

        Rendered later than the fingerprint, the page is never older than it: a change in
        between makes the next fingerprint differ, and that GET renders afresh."""
        if response.status_code != 200 or response.cookies:
            return  # only the plain page; never one that sets a language cookie
        body = response.content
        found = _CSRF_INPUT.search(body)
        parts = body.split(found.group(1)) if found else [body]
        if found and len(parts) != 2:
            return
        _pages.put(self.key, self.digest, tuple(parts))


class _Pages:
    """A bounded least-recently-used map of key -> (digest, page split at its CSRF token)."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple, tuple[str, tuple[bytes, ...]]] = OrderedDict()
        self._lock = Lock()  # gunicorn's threaded workers share one process

    def get(self, key: tuple, digest: str) -> tuple[bytes, ...] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != digest:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple, digest: str, parts: tuple[bytes, ...]) -> None:
        with self._lock:
            self._entries[key] = (digest, parts)
            self._entries.move_to_end(key)
            while len(self._entries) > settings.FEEDBACK_PAGE_CACHE_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_pages = _Pages()


def clear() -> None:
    """Forget every kept page (tests; a deploy starts new processes anyway)."""
    _pages.clear()
