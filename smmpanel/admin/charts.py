"""Bar charts drawn on the server as inline SVG: no JavaScript, no chart library.

Every label is escaped here, so a chart may be placed in a page as it is.
"""

import hashlib
import math
from collections.abc import Callable

from markupsafe import Markup, escape

from smmpanel.pagekit.i18n import gettext as _

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 96, 12, 16, 36
# In the SVG's own units: a chart is never drawn narrower than 30rem (panel.css), so a label
# never shows smaller than about 10 px.
FONT_SIZE = 13
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
MOST_DATE_LABELS = 6
BAR_GAP = 0.2  # of each bar's slot
UP_COLOUR, DOWN_COLOUR, AXIS_COLOUR, TEXT_COLOUR = "#1f5fbf", "#b3261e", "#5d6677", "#1d2330"


def bar_chart(
    points: list[tuple[str, int]], *, title: str, value_label: Callable[[int], str]
) -> Markup:
    """One bar per (label, value), heights in proportion; negative values hang below zero."""
    chart_id = "chart-" + hashlib.sha256(title.encode()).hexdigest()[:10]
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' width="{WIDTH}" height="{HEIGHT}" role="img"'
        f' aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(_describe(points, value_label))}</desc>',
    ]
    if points:
        parts += _plot(points, value_label)
    else:
        parts.append(_text(WIDTH / 2, HEIGHT / 2, _("No data yet."), anchor="middle"))
    parts.append("</svg>")
    return Markup("".join(parts))


def _describe(points: list[tuple[str, int]], value_label: Callable[[int], str]) -> str:
    if not points:
        return _("No data yet.")
    highest = max(points, key=lambda point: point[1])
    return _("%(count)d bars from %(first)s to %(last)s; the highest is %(value)s on %(at)s.") % {
        "count": len(points),
        "first": points[0][0],
        "last": points[-1][0],
        "value": value_label(highest[1]),
        "at": highest[0],
    }


def _plot(points: list[tuple[str, int]], value_label: Callable[[int], str]) -> list[str]:
    top = max(0, *(value for _label, value in points))
    bottom = min(0, *(value for _label, value in points))
    span = (top - bottom) or 1
    zero_y = TOP + PLOT_HEIGHT * top / span
    slot = PLOT_WIDTH / len(points)
    parts = _value_axis(top, bottom, zero_y, value_label)
    for index, (label, value) in enumerate(points):
        height = PLOT_HEIGHT * abs(value) / span
        x = LEFT + index * slot + slot * BAR_GAP / 2
        y = zero_y - height if value > 0 else zero_y
        colour = DOWN_COLOUR if value < 0 else UP_COLOUR
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * (1 - BAR_GAP):.1f}"'
            f' height="{height:.1f}" fill="{colour}" data-value="{value}">'
            f"<title>{escape(label)}: {escape(value_label(value))}</title></rect>"
        )
    return parts + _point_labels([label for label, _value in points], slot)


def _point_labels(labels: list[str], slot: float) -> list[str]:
    """A few labels under the bars; the last ends at the right edge, to stay in the picture."""
    y = HEIGHT - BOTTOM + 16
    last = len(labels) - 1
    parts = [
        _text(LEFT + (index + 0.5) * slot, y, labels[index], anchor="middle")
        for index in _labelled_positions(len(labels))
        if index != last
    ]
    return parts + [_text(WIDTH - RIGHT, y, labels[last], anchor="end")]


def _value_axis(
    top: int, bottom: int, zero_y: float, value_label: Callable[[int], str]
) -> list[str]:
    """The zero line, and the highest (and lowest, when below zero) value written on the left."""
    parts = [
        f'<line x1="{LEFT}" y1="{zero_y:.1f}" x2="{WIDTH - RIGHT}" y2="{zero_y:.1f}"'
        f' stroke="{AXIS_COLOUR}"/>',
        _text(LEFT - 6, zero_y + 4, value_label(0), anchor="end"),
    ]
    if top > 0:
        parts.append(
            f'<line x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}"'
            f' stroke="{AXIS_COLOUR}" stroke-dasharray="3 3"/>'
        )
        parts.append(_text(LEFT - 6, TOP + 4, value_label(top), anchor="end"))
    if bottom < 0:
        parts.append(_text(LEFT - 6, TOP + PLOT_HEIGHT, value_label(bottom), anchor="end"))
    return parts


def _labelled_positions(count: int) -> list[int]:
    """First and last always; evenly spaced between, at least a step from the last."""
    step = max(1, math.ceil(count / MOST_DATE_LABELS))
    positions = [index for index in range(0, count, step) if count - 1 - index >= step]
    return positions + [count - 1]


def _text(x: float, y: float, text: str, *, anchor: str) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{FONT_SIZE}" text-anchor="{anchor}"'
        f' fill="{TEXT_COLOUR}">{escape(text)}</text>'
    )
