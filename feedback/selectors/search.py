"""Comment search for staff: the comments of a period and filters that contain some words.

On PostgreSQL, full-text search in each answer's language (English or Spanish stemming, so
"leaks" finds "leaking" and "fuga" finds "fugas"), through one GIN index per language
(migration 0011), with the matches highlighted by ts_headline. On SQLite, a simple match:
each word's stem, in either language, appears in the comment; the highlight marks those
stems.
"""

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, Q, QuerySet, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from feedback.models import Response
from feedback.selectors.dashboard import Filters, responses
from feedback.topics import LANGUAGES, query_stems

RESULTS_SHOWN = 50
# ts_headline wraps each match in these; the text is escaped, then they become <mark>.
# Private-use characters: a customer cannot type them by accident.
MARK_START, MARK_END = "\ue000", "\ue001"


@dataclass(frozen=True)
class Hit:
    response: Response
    highlighted: SafeString


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    more: bool  # more matches than shown: narrow the period or the words


def comment_search(filters: Filters, words: str) -> Results:
    """The comments of the period (and channel and product) matching the words: on
    PostgreSQL the best matches first, then the newest; on SQLite the newest."""
    newest = ("-submitted_at", "-pk")
    if connection.vendor == "postgresql":
        # Best matches first. Also what keeps PostgreSQL on the text indexes: asked for
        # the newest few, it would walk the period's index backwards and test every
        # comment, and a rare word found only long ago would cost a scan of the period.
        matches = full_text_matches(responses(filters), words).alias(rank=rank(words))
        matches = matches.order_by("-rank", *newest)
    else:
        matches = simple_matches(responses(filters), words).order_by(*newest)
    found = list(matches.values_list("pk", flat=True)[: RESULTS_SHOWN + 1])
    shown = Response.objects.filter(pk__in=found[:RESULTS_SHOWN])
    if connection.vendor == "postgresql":
        shown = shown.annotate(headline=headline(words))
    shown = shown.select_related("invitation__order", "follow_up").in_bulk(found)
    hits = [Hit(shown[pk], _highlighted(shown[pk], words)) for pk in found if pk in shown]
    return Results(hits=hits, more=len(found) > RESULTS_SHOWN)


def full_text_matches(rows: QuerySet[Response], words: str) -> QuerySet[Response]:
    from django.contrib.postgres.search import SearchVector

    queries = _queries(words)
    documents = {
        language: SearchVector("comment", config=config) for language, config in LANGUAGES.items()
    }
    # The same expressions and conditions as the two indexes, so PostgreSQL uses them.
    return rows.alias(en_document=documents["en"], es_document=documents["es"]).filter(
        (~Q(language="es") & Q(en_document=queries["en"]))
        | (Q(language="es") & Q(es_document=queries["es"]))
    )


def rank(words: str) -> Case:
    """How well each comment matches (PostgreSQL's ts_rank, in the comment's language)."""
    from django.contrib.postgres.search import SearchRank, SearchVector

    queries = _queries(words)
    ranks = {
        language: SearchRank(SearchVector("comment", config=config), queries[language])
        for language, config in LANGUAGES.items()
    }
    return Case(When(language="es", then=ranks["es"]), default=ranks["en"])


def headline(words: str) -> Case:
    """The whole comment with each match between MARK_START and MARK_END (PostgreSQL)."""
    from django.contrib.postgres.search import SearchHeadline

    queries = _queries(words)
    headlines = {
        language: SearchHeadline(
            "comment",
            queries[language],
            config=config,
            start_sel=MARK_START,
            stop_sel=MARK_END,
            highlight_all=True,
        )
        for language, config in LANGUAGES.items()
    }
    return Case(When(language="es", then=headlines["es"]), default=headlines["en"])


def _queries(words: str) -> dict[str, object]:
    from django.contrib.postgres.search import SearchQuery

    return {
        language: SearchQuery(words, config=config, search_type="websearch")
        for language, config in LANGUAGES.items()
    }


def simple_matches(rows: QuerySet[Response], words: str) -> QuerySet[Response]:
    rows = rows.exclude(comment="")
    stems_per_word = query_stems(words)
    if not stems_per_word:
        return rows.none()  # only stop words: as PostgreSQL, nothing to look for
    for stems in stems_per_word:
        match = Q()
        for stem in stems:
            match |= Q(comment__icontains=stem)
        rows = rows.filter(match)
    return rows


def _highlighted(answer: Response, words: str) -> SafeString:
    """The whole comment, escaped, with each match in <mark>."""
    marked = getattr(answer, "headline", None)
    if marked is None:
        marked = _mark_stems(answer.comment, words)
    text = escape(marked).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    return mark_safe(text)  # noqa: S308 - escaped just above; only our <mark> tags added


def _mark_stems(comment: str, words: str) -> str:
    stems = sorted({stem for group in query_stems(words) for stem in group}, key=len)
    if not stems:
        return comment
    # The whole word that starts with a stem: "leak" marks "leaking".
    pattern = "|".join(re.escape(stem) for stem in reversed(stems))
    return re.sub(
        rf"\b(?:{pattern})\w*", lambda m: f"{MARK_START}{m.group()}{MARK_END}", comment, flags=re.I
    )
