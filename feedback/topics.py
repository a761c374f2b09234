"""What a comment talks about, and when a term or a product stands out: pure functions, no I/O.

- `comment_terms(text, language)`: the stemmed words and two-word phrases of a comment,
  with stop words removed per language (the Snowball stemmers, as PostgreSQL's own full
  text search uses), each with the words as written (for display);
- `rising(...)`: the rule for "clearly more often than in the previous period";
- `slipped(...)` and `recovered(...)`: the rule for "a product's CSAT slipped by more than
  chance explains" (a one-sided two-proportion z-test).
"""

import math
import re
from dataclasses import dataclass
from functools import cache

import snowballstemmer
from stop_words import get_stop_words

# The answer's language (the customer's locale) -> Snowball's and PostgreSQL's name for it.
LANGUAGES = {"en": "english", "es": "spanish"}
DEFAULT_LANGUAGE = "en"
# Words: letters, with inner apostrophes ("doesn't"); digits and punctuation split them.
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# A phrase never spans the end of a sentence or a clause.
CLAUSE_END = re.compile(r"[.!?;:,()\n]+")
LONGEST_WORD = 40

# "Clearly more often": at least this many comments in the period mention it, and its share
# of the period's comments is at least RISE_RATIO times its share in the previous period,
# counting one extra mention there among at least as many comments as now (so a term new
# this period, or a product new this period, needs real support).
MIN_SUPPORT = 5
RISE_RATIO = 2.0

# "Slipped": recent window against the baseline just before it, one-sided two-proportion
# z-test (continuity-corrected) on the share of satisfied (4-5 star) answers, at
# SLIP_ALPHA, with enough answers in each.
SLIP_ALPHA = 0.01
SLIP_Z = 2.326  # the one-sided critical value at SLIP_ALPHA
RECOVERY_Z = 1.0  # closed once the recent share is within one standard error of the baseline
MIN_RECENT_ANSWERS = 15
MIN_BASELINE_ANSWERS = 50


def language_of(locale: str) -> str:
    """The language a comment is analysed in: the customer's locale, English otherwise."""
    return locale if locale in LANGUAGES else DEFAULT_LANGUAGE


@cache
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(LANGUAGES[language])


@cache
def _stop_words(language: str) -> frozenset[str]:
    return frozenset(word.replace("’", "'") for word in get_stop_words(language))


def comment_words(text: str, language: str) -> list[tuple[str, str] | None]:
    """Each word of the text as (stem, word as written, lower-cased); None for a stop word,
    so that a phrase never spans one."""
    language = language_of(language)
    stop, stemmer = _stop_words(language), _stemmer(language)
    words: list[tuple[str, str] | None] = []
    for clause in CLAUSE_END.split(text.lower()):
        for match in WORD.finditer(clause):
            word = match.group().replace("’", "'")
            if word in stop or len(word) < 2 or len(word) > LONGEST_WORD:
                words.append(None)
            else:
                words.append((stemmer.stemWord(word), word))
        words.append(None)
    return words


def comment_terms(text: str, language: str) -> dict[str, str]:
    """The comment's terms: each stem and each pair of neighbouring stems ("lid leak"),
    mapped to the words as written in it (the first time they appear)."""
    words = comment_words(text, language)
    terms: dict[str, str] = {}
    for index, word in enumerate(words):
        if word is None:
            continue
        terms.setdefault(word[0], word[1])
        following = words[index + 1] if index + 1 < len(words) else None
        if following is not None:
            terms.setdefault(f"{word[0]} {following[0]}", f"{word[1]} {following[1]}")
    return terms


def query_stems(text: str) -> list[set[str]]:
    """For the simple match (SQLite): each word of a search, as its stems in each language
    ("leaks" -> {"leak"}, "fugas" -> {"fuga", "fug"}); stop words are left out."""
    stems = []
    for match in WORD.finditer(text.lower()):
        word = match.group().replace("’", "'")
        if len(word) < 2 or any(word in _stop_words(language) for language in LANGUAGES):
            continue
        stems.append({_stemmer(language).stemWord(word) for language in LANGUAGES})
    return stems


# Rising terms


def rising(*, mentions: int, comments: int, before: int, comments_before: int) -> bool:
    """Is a term mentioned clearly more often in the period than in the one before it?

    Rules:
    - at least MIN_SUPPORT comments of the period mention it;
    - its share of the period's comments is at least RISE_RATIO times its share of the
      previous period's comments, counting one extra mention there, among at least as
      many comments as in the period (so a term absent before, or a product with no
      comments before, still needs MIN_SUPPORT mentions and twice the share of one).
    """
    if mentions < MIN_SUPPORT or comments == 0:
        return False
    share_before = (before + 1) / max(comments_before, comments)
    return mentions / comments >= RISE_RATIO * share_before


# Product slips


@dataclass(frozen=True)
class SlipTest:
    recent_answers: int
    recent_satisfied: int
    baseline_answers: int
    baseline_satisfied: int

    @property
    def enough(self) -> bool:
        return (
            self.recent_answers >= MIN_RECENT_ANSWERS
            and self.baseline_answers >= MIN_BASELINE_ANSWERS
        )

    @property
    def recent_csat(self) -> float | None:
        return self.recent_satisfied / self.recent_answers if self.recent_answers else None

    @property
    def baseline_csat(self) -> float | None:
        return self.baseline_satisfied / self.baseline_answers if self.baseline_answers else None

    @property
    def z(self) -> float | None:
        """How many standard errors the recent share of satisfied answers lies below the
        baseline's (pooled two-proportion z statistic, continuity-corrected); None without
        answers on both sides."""
        if not (self.recent_answers and self.baseline_answers):
            return None
        pooled = (self.recent_satisfied + self.baseline_satisfied) / (
            self.recent_answers + self.baseline_answers
        )
        spread = pooled * (1 - pooled) * (1 / self.recent_answers + 1 / self.baseline_answers)
        if spread == 0:
            return 0.0
        # Yates' continuity correction: with a few dozen answers the plain normal
        # approximation fires more often than alpha on stable products (measured in
        # tests/test_product_alerts.py); corrected, it stays within it.
        correction = 0.5 * (1 / self.recent_answers + 1 / self.baseline_answers)
        return (self.baseline_csat - self.recent_csat - correction) / math.sqrt(spread)


def slipped(test: SlipTest) -> bool:
    """Is the recent CSAT lower than the baseline by more than chance explains?

    Rules:
    - at least MIN_RECENT_ANSWERS answers in the recent window and MIN_BASELINE_ANSWERS in
      the baseline;
    - a one-sided two-proportion z-test (pooled, continuity-corrected) on the share of 4-5
      star answers rejects "no lower than the baseline" at SLIP_ALPHA (z >= SLIP_Z).
    """
    return test.enough and test.z is not None and test.z >= SLIP_Z


def recovered(test: SlipTest) -> bool:
    """Has a product whose incident is open recovered?

    Rules:
    - enough answers on both sides (as for opening one); with too few, it stays open;
    - the recent share of satisfied answers is within one standard error of the baseline's,
      or above it (z < RECOVERY_Z): a gap between the two lines keeps a product hovering at
      the line from opening and closing incidents again and again.
    """
    return test.enough and test.z is not None and test.z < RECOVERY_Z
