"""Server-side SVG charts for the staff dashboard: no JavaScript, no CDN, nothing inline
that the CSP forbids (presentation attributes only). Each chart names itself (role="img",
<title>, <desc>); the page puts a table with the same numbers next to it."""

from collections.abc import Sequence

from django import template
from django.utils import dateformat, formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext as _

register = template.Library()

# Widths are in the chart's own units: the wider the chart, the smaller its text on the page.
# A chart fills its card; on a 375 px phone that is about 320 px, so 360 units keep 12-unit
# text above 10 px there, and about 12 px in a third of a desktop card.
WIDTH, HEIGHT = 360, 220
FONT_SIZE = 12
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 34
PLOT_H = HEIGHT - TOP - BOTTOM
DISTRIBUTION_WIDTH = 360
# Date labels need about 40 units each, and a partial week's ("3 Sep (4 d)") about 70.
MAX_X_LABELS = 4
BAR_COLOUR = "#0a58ca"
LINE_COLOUR = "#146c43"
GRID_COLOUR = "#ced4da"
TEXT_COLOUR = "#495057"


def _n(x: float) -> str:
    # format_html escapes its arguments into strings first: numbers are formatted here.
    return f"{x:.1f}"


def _value(row: object, name: str) -> object:
    return row[name] if isinstance(row, dict | list | tuple) else getattr(row, name)


def _label(value: object, fmt: str = "j M") -> str:
    """A date in the active language ("3 Sep", "3 sep"); anything else as it is."""
    return dateformat.format(value, fmt) if hasattr(value, "strftime") else str(value)


def _count(n: int) -> str:
    return formats.number_format(n, force_grouping=True)


def _span(rows: Sequence[object], label: str) -> str:
    first, last = _value(rows[0], label), _value(rows[-1], label)
    return _("from %(first)s to %(last)s") % {
        "first": _label(first, "j M Y"),
        "last": _label(last, "j M Y"),
    }


def _no_data() -> str:
    return _("No data in this period.")


def _nice_max(peak: float) -> float:
    """A round top for the axis at or above the peak: 1, 2 or 5 times a power of ten."""
    if peak <= 0:
        return 1
    step = 1
    while step * 10 <= peak:
        step *= 10
    return next(m * step for m in (1, 2, 5, 10) if m * step >= peak)


def _plot_width(width: int) -> int:
    return width - LEFT - RIGHT


def _frame(title: str, description: str, body: SafeString, width: int = WIDTH) -> SafeString:
    # Titles differ on a page, so they make stable, unique ids.
    ident = f"chart-{slugify(title)}"
    return format_html(
        '<svg class="chart w-100 h-auto" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="{}-t {}-d" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-t">{}</title><desc id="{}-d">{}</desc>{}</svg>',
        width,
        HEIGHT,
        ident,
        ident,
        ident,
        title,
        ident,
        description,
        body,
    )


def _y_axis(top: float, percent: bool, width: int) -> SafeString:
    lines = []
    for fraction in (0, 0.5, 1):
        y = TOP + PLOT_H * (1 - fraction)
        value = top * fraction
        text = f"{value:.0%}" if percent else f"{value:,.0f}"
        grid = (LEFT, _n(y), width - RIGHT, _n(y), GRID_COLOUR)
        lines.append((*grid, LEFT - 6, _n(y + 4), FONT_SIZE, TEXT_COLOUR, text))
    return format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>'
        '<text x="{}" y="{}" text-anchor="end" font-size="{}" fill="{}">{}</text>',
        lines,
    )


def _x_labels(labels: Sequence[str], band: float) -> SafeString:
    every = max(1, -(-len(labels) // MAX_X_LABELS))
    return format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" font-size="{}" fill="{}">{}</text>',
        (
            (_n(LEFT + band * (i + 0.5)), HEIGHT - BOTTOM + 16, FONT_SIZE, TEXT_COLOUR, label)
            for i, label in enumerate(labels)
            if i % every == 0
        ),
    )


@register.simple_tag
def bar_chart(
    rows: Sequence[object], value: str, label: str, title: str, width: int = WIDTH
) -> SafeString:
    """Vertical bars, one per row (e.g. invitations sent per week)."""
    values = [_value(row, value) or 0 for row in rows]
    labels = [_label(_value(row, label)) for row in rows]
    if not values:
        return _frame(title, _no_data(), mark_safe(""))
    top = _nice_max(max(values))
    band = _plot_width(width) / len(values)
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
        (
            (
                _n(LEFT + band * (i + 0.15)),
                _n(TOP + PLOT_H * (1 - v / top)),
                _n(band * 0.7),
                _n(PLOT_H * v / top),
                BAR_COLOUR,
                labels[i],
                _count(v),
            )
            for i, v in enumerate(values)
        ),
    )
    description = ngettext(
        "%(n)s bar %(span)s; highest %(peak)s.",
        "%(n)s bars %(span)s; highest %(peak)s.",
        len(values),
    ) % {"n": len(values), "span": _span(rows, label), "peak": _count(max(values))}
    body = _y_axis(top, False, width) + bars + _x_labels(labels, band)
    return _frame(title, description, body, width)


@register.simple_tag
def line_chart(
    rows: Sequence[object], value: str, label: str, title: str, width: int = WIDTH
) -> SafeString:
    """A line of shares from 0 to 100 %, broken where a value is missing (nothing to divide)."""
    values = [_value(row, value) for row in rows]
    labels = [_label(_value(row, label)) for row in rows]
    if not values:
        return _frame(title, _no_data(), mark_safe(""))
    band = _plot_width(width) / len(values)

    def point(i: int, v: float) -> tuple[float, float]:
        return LEFT + band * (i + 0.5), TOP + PLOT_H * (1 - v)

    segments: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            segments.append([])
        else:
            segments[-1].append(point(i, v))
    lines = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
        (
            (" ".join(f"{x:.1f},{y:.1f}" for x, y in segment), LINE_COLOUR)
            for segment in segments
            if len(segment) > 1
        ),
    )
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3.5" fill="{}"><title>{}: {}</title></circle>',
        (
            (*map(_n, point(i, v)), LINE_COLOUR, labels[i], f"{v:.0%}")
            for i, v in enumerate(values)
            if v is not None
        ),
    )
    known = [v for v in values if v is not None]
    values_text = (
        _("lowest %(low)s, highest %(high)s.")
        % {"low": percent(min(known)), "high": percent(max(known))}
        if known
        else _("no values.")
    )
    description = ngettext(
        "%(n)s week %(span)s; %(values)s",
        "%(n)s weeks %(span)s; %(values)s",
        len(values),
    ) % {"n": len(values), "span": _span(rows, label), "values": values_text}
    body = _y_axis(1, True, width) + lines + dots + _x_labels(labels, band)
    return _frame(title, description, body, width)


@register.simple_tag
def distribution_chart(rows: Sequence[tuple[int, int, float | None]], title: str) -> SafeString:
    """Horizontal bars for the 1-5 star ratings: (stars, count, share) rows."""
    peak = max((n for _stars, n, _share in rows), default=0)
    top = _nice_max(peak)
    row_h = PLOT_H / max(len(rows), 1)
    bars = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end" font-size="{}" fill="{}">{} ★</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
        "<title>{}</title></rect>"
        '<text x="{}" y="{}" font-size="{}" fill="{}">{}</text>',
        (
            (
                LEFT - 8,
                _n(TOP + row_h * (i + 0.62)),
                FONT_SIZE,
                TEXT_COLOUR,
                stars,
                LEFT,
                _n(TOP + row_h * (i + 0.15)),
                _n((_plot_width(DISTRIBUTION_WIDTH) - 80) * n / top),
                _n(row_h * 0.7),
                BAR_COLOUR,
                _stars(stars, n),
                _n(LEFT + (_plot_width(DISTRIBUTION_WIDTH) - 80) * n / top + 6),
                _n(TOP + row_h * (i + 0.62)),
                FONT_SIZE,
                TEXT_COLOUR,
                _count(n) + (f" ({percent(share)})" if share is not None else ""),
            )
            for i, (stars, n, share) in enumerate(reversed(rows))
        ),
    )
    description = ", ".join(_stars(stars, n) for stars, n, _share in rows) + "."
    return _frame(title, description, bars, DISTRIBUTION_WIDTH)


def _stars(stars: int, n: int) -> str:
    return ngettext("%(stars)s star: %(n)s", "%(stars)s stars: %(n)s", stars) % {
        "stars": stars,
        "n": _count(n),
    }


# Number formats for the dashboard: "—" wherever there is nothing to divide by.
DASH = "—"


@register.filter
def percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.0%}"


@register.filter
def one_decimal(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


@register.filter
def signed(value: float | None) -> str:
    return DASH if value is None else f"{value:+.0f}"


@register.filter
def duration(value: object) -> str:
    """A timedelta as days and hours, e.g. "2 d 4 h"; "—" when there is none."""
    if value is None:
        return DASH
    hours = round(value.total_seconds() / 3600)
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if days else f"{hours} h"


@register.filter
def change(value: float | None, kind: str) -> str:
    """A difference from the previous period: "+3 pts" for a share (percentage points),
    "+0.2" for an average or a rate per 1,000, "+12" for a count or an NPS; "—" when
    either period has nothing to divide by."""
    if value is None:
        return DASH
    if kind == "percent":
        return gettext("%(points)s pts") % {"points": f"{value * 100:+.0f}"}
    if kind == "decimal":
        return f"{value:+.1f}"
    return f"{value:+.0f}"
