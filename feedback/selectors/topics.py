"""What customers talk about: the terms and two-word phrases that comments of the period
mention clearly more often than those of the previous period of the same length, overall
and per product (the rule: feedback.topics.rising).

Read from the per-day counts (TopicCount), never from the comments: aggregates over a
few rows per day and term of the products shown, as fast at ten million comments as at ten
thousand.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q, Sum
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from feedback.models import OrderItem, TopicCount, TopicWord
from feedback.selectors.dashboard import Filters, period_days
from feedback.topics import MIN_SUPPORT, RISE_RATIO, rising

TOPICS_SHOWN = 10
PRODUCTS_SHOWN = 5
TOPICS_PER_PRODUCT = 5

DEFINITION = format_lazy(
    _(
        "Words and two-word phrases that comments submitted in the period mention clearly "
        "more often than comments of the previous period of the same length: at least "
        "{support} comments mention it, and its share of the period's comments is at least "
        "{ratio}× its share before (counting one extra mention before, among at least as many "
        "comments as now, so that a new term needs real support). Stop words left out; "
        "“leak”, “leaks” and “leaking” count as one word. All channels; the product filter "
        "applies. Per product: those with an open CSAT alert, then those with the most "
        "comments."
    ),
    support=MIN_SUPPORT,
    ratio=f"{RISE_RATIO:g}",
)


@dataclass(frozen=True)
class Topic:
    term: str  # stems, e.g. "lid leak"
    language: str
    mentions: int  # comments of the period that mention it
    before: int  # comments of the previous period that do
    share: float
    share_before: float
    written: str = ""  # as customers most often wrote it, e.g. "lid leaks"

    @property
    def phrase(self) -> bool:
        return " " in self.term

    @property
    def search_words(self) -> str:
        """What the comment search is asked: the words as written, a phrase in quotes."""
        return f'"{self.written}"' if self.phrase else self.written


@dataclass(frozen=True)
class ProductTopics:
    sku: str
    name: str
    topics: list[Topic]


@dataclass
class TopicsPanel:
    first: date
    last: date
    first_before: date
    last_before: date
    comments: int
    comments_before: int
    topics: list[Topic]
    products: list[ProductTopics] = field(default_factory=list)
    definition: str = DEFINITION


def topics_panel(filters: Filters, *, alerted: Sequence[str] = ()) -> TopicsPanel:
    """Rising terms of the period, overall (or for the filtered product) and for the
    products shown: those `alerted` (an open CSAT alert), then those with the most
    comments."""
    first, last = period_days(filters.start, filters.end)
    length = (last - first).days + 1
    first_before, last_before = first - timedelta(days=length), first - timedelta(days=1)
    totals = _totals(first_before, first, last)
    overall_key = filters.sku or ""
    products = [] if filters.sku else _products_shown(totals, alerted)
    rows = _counts(first_before, first, last, [overall_key, *products])
    by_sku: dict[str, list[Topic]] = {}
    for (sku, language, term), (mentions, before) in rows.items():
        sku_comments, sku_before = totals.get(sku, (0, 0))
        if rising(
            mentions=mentions, comments=sku_comments, before=before, comments_before=sku_before
        ):
            by_sku.setdefault(sku, []).append(
                Topic(
                    term=term,
                    language=language,
                    mentions=mentions,
                    before=before,
                    share=mentions / sku_comments,
                    share_before=before / sku_before if sku_before else 0.0,
                )
            )
    for sku, topics in by_sku.items():
        topics.sort(key=lambda t: (-t.mentions, t.before, t.term))
        by_sku[sku] = topics[: TOPICS_SHOWN if sku == overall_key else TOPICS_PER_PRODUCT]
    shown = [t for topics in by_sku.values() for t in topics]
    written = _written({(t.language, t.term) for t in shown})
    comments, comments_before = totals.get(overall_key, (0, 0))
    return TopicsPanel(
        first=first,
        last=last,
        first_before=first_before,
        last_before=last_before,
        comments=comments,
        comments_before=comments_before,
        topics=_with_words(by_sku.get(overall_key, []), written),
        products=[
            ProductTopics(sku, _product_name(sku), _with_words(by_sku[sku], written))
            for sku in products
            if sku in by_sku
        ],
    )


Counts = dict[tuple[str, str, str], tuple[int, int]]


def _totals(first_before: date, first: date, last: date) -> dict[str, tuple[int, int]]:
    """One query: comments per product ("" for all), in the period and before."""
    rows = (
        TopicCount.objects.filter(term="", day__gte=first_before, day__lte=last)
        .values("sku")
        .annotate(
            mentions=Sum("comments", filter=Q(day__gte=first), default=0),
            before=Sum("comments", filter=Q(day__lt=first), default=0),
        )
        .order_by()
    )
    return {r["sku"]: (r["mentions"], r["before"]) for r in rows}


def _products_shown(totals: dict[str, tuple[int, int]], alerted: Sequence[str]) -> list[str]:
    """Products with an open CSAT alert first, then those with the most comments."""
    first = [sku for sku in alerted if sku in totals]
    busiest = sorted((sku for sku in totals if sku), key=lambda sku: (-totals[sku][0], sku))
    return list(dict.fromkeys(first + busiest))[:PRODUCTS_SHOWN]


def _counts(first_before: date, first: date, last: date, skus: list[str]) -> Counts:
    """One query: per product, language and term, the mentions in the period and before,
    for the terms with enough mentions to rise."""
    rows = (
        TopicCount.objects.filter(sku__in=skus, day__gte=first_before, day__lte=last)
        .exclude(term="")
        .values("sku", "language", "term")
        .annotate(
            mentions=Sum("comments", filter=Q(day__gte=first), default=0),
            before=Sum("comments", filter=Q(day__lt=first), default=0),
        )
        .filter(mentions__gte=MIN_SUPPORT)
        .order_by()
    )
    return {(r["sku"], r["language"], r["term"]): (r["mentions"], r["before"]) for r in rows}


def _product_name(sku: str) -> str:
    # Any one item with the SKU (the index finds one at once): names rarely differ.
    names = OrderItem.objects.filter(sku=sku).values_list("name", flat=True)[:1]
    return next(iter(names), "")


def _written(keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The most common way each term was written."""
    if not keys:
        return {}
    rows = (
        TopicWord.objects.filter(term__in={term for _language, term in keys}, uses__gt=0)
        .order_by("language", "term", "-uses", "written")
        .values_list("language", "term", "written")
    )
    written: dict[tuple[str, str], str] = {}
    for language, term, text in rows:
        written.setdefault((language, term), text)
    return written


def _with_words(topics: list[Topic], written: dict[tuple[str, str], str]) -> list[Topic]:
    return [
        Topic(**{**vars(t), "written": written.get((t.language, t.term), t.term)}) for t in topics
    ]
