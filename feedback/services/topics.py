"""The per-day term counts behind "what customers talk about", kept exact at write time.

Every change of a comment calls `topic_counts_change` inside the same transaction as the
change itself (a new answer, an edit, an erasure), so the counts and the comments cannot
disagree, even after a crash. A comment counts once per term it mentions, on the day it was
first submitted, for all products and for each product in its order.
"""

from datetime import date

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from feedback.models import Customer, OrderItem, Response, TopicCount, TopicWord
from feedback.topics import LANGUAGES, comment_terms, language_of

# The empty term counts the day's comments, the base of every share.
ALL_COMMENTS = ""


def topic_counts_change(*, response: Response, old_comment: str, new_comment: str) -> None:
    """Move the counts from the old comment's terms to the new one's ("" for none)."""
    language = language_of(response.language)
    old = _terms(old_comment, language)
    new = _terms(new_comment, language)
    gone = {term: written for term, written in old.items() if term not in new}
    came = {term: written for term, written in new.items() if term not in old}
    if not (gone or came):
        return
    day = timezone.localdate(response.submitted_at)
    skus = _skus(response)
    _count(day=day, skus=skus, language=language, terms=gone, delta=-1)
    _count(day=day, skus=skus, language=language, terms=came, delta=1)


def _terms(comment: str, language: str) -> dict[str, str]:
    if not comment.strip():
        return {}
    return {ALL_COMMENTS: "", **comment_terms(comment, language)}


def _skus(response: Response) -> list[str]:
    order_id = response.invitation.order_id
    skus = OrderItem.objects.filter(order_id=order_id).values_list("sku", flat=True).distinct()
    return sorted({"", *skus})


def _count(*, day: date, skus: list[str], language: str, terms: dict[str, str], delta: int) -> None:
    """Add delta to each (product, term) of the day, and to the ways each term was written.

    Two statements per table whatever the number of terms: create the missing rows (a
    concurrent answer may create the same ones: conflicts are ignored), then one UPDATE.
    Rows are locked in primary-key order, so two answers sharing terms never deadlock.
    """
    if not terms:
        return
    keys = sorted(terms)
    TopicCount.objects.bulk_create(
        [
            TopicCount(day=day, sku=sku, language=language, term=term)
            for sku in skus
            for term in keys
        ],
        ignore_conflicts=True,
    )
    counts = TopicCount.objects.filter(day=day, sku__in=skus, language=language, term__in=keys)
    _lock(counts)
    counts.update(comments=F("comments") + delta)
    written = [(term, terms[term]) for term in keys if term != ALL_COMMENTS]
    if not written:
        return
    TopicWord.objects.bulk_create(
        [TopicWord(language=language, term=term, written=text) for term, text in written],
        ignore_conflicts=True,
    )
    for term, text in written:
        # Few and short: one UPDATE each keeps the (term, written) pairs exact.
        TopicWord.objects.filter(language=language, term=term, written=text).update(
            uses=F("uses") + delta
        )


def _lock(rows: object) -> None:
    list(rows.select_for_update().order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def topic_counts_rebuild(*, batch_size: int = 5000) -> int:
    """Recompute every count from the comments themselves (after an import of answers
    that bypassed the services, or a restore); returns the comments counted.

    First sets each answer's language to its customer's locale (answers stored before
    answers had a language are all English otherwise).
    """
    mismatched = Response.objects.exclude(language=F("invitation__customer__locale"))
    mismatched = mismatched.filter(invitation__customer__locale__in=LANGUAGES)
    Response.objects.filter(pk__in=mismatched.values("pk")).update(
        language=Subquery(
            Customer.objects.filter(invitations=OuterRef("invitation")).values("locale")[:1]
        )
    )
    TopicCount.objects.all().delete()
    TopicWord.objects.all().delete()
    counts: dict[tuple[date, str, str, str], int] = {}
    words: dict[tuple[str, str, str], int] = {}
    answers = (
        Response.objects.exclude(comment="")
        .values_list("pk", "comment", "submitted_at", "invitation__order_id", "language")
        .order_by("pk")
    )
    skus_of = _skus_by_order()
    counted = 0
    for _pk, comment, submitted_at, order_id, language in answers.iterator(batch_size):
        terms = _terms(comment, language_of(language))
        if not terms:
            continue
        counted += 1
        day = timezone.localdate(submitted_at)
        for sku in ("", *skus_of.get(order_id, ())):
            for term in terms:
                key = (day, sku, language, term)
                counts[key] = counts.get(key, 0) + 1
        for term, written in terms.items():
            if term != ALL_COMMENTS:
                key = (language, term, written)
                words[key] = words.get(key, 0) + 1
    TopicCount.objects.bulk_create(
        (
            TopicCount(day=day, sku=sku, language=lang, term=term, comments=n)
            for (day, sku, lang, term), n in counts.items()
        ),
        batch_size=batch_size,
    )
    TopicWord.objects.bulk_create(
        (
            TopicWord(language=lang, term=term, written=written, uses=n)
            for (lang, term, written), n in words.items()
        ),
        batch_size=batch_size,
    )
    return counted


def _skus_by_order() -> dict[int, set[str]]:
    skus: dict[int, set[str]] = {}
    items = OrderItem.objects.filter(order__invitation__response__isnull=False).exclude(
        order__invitation__response__comment=""
    )
    for order_id, sku in items.values_list("order_id", "sku").iterator(5000):
        skus.setdefault(order_id, set()).add(sku)
    return skus
