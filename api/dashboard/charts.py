"""The dashboard's charts: horizontal bars drawn in HTML (no script, no inline style, no external service), so every
word is page text at the page's own size (at least 12 px on any screen: nothing is scaled down with a picture, no
label is cut off — a long one wraps), each chart is a table a screen reader reads, and every value is a link.

This module computes what a chart shows: its title (what it counts and for which period), the two axes' names
(with the unit), the rows, each bar's length as a class `w0`…`w100` (dashboard.css sets their widths: the CSP
forbids a style attribute) and its value written beside it, and the scale's ticks. `templates/charts.html` draws
it. Series differ by fill (solid, hatched) and by name, never only by colour; bars have a border, so a greyscale
print keeps them."""

from dataclasses import dataclass, field

from api.dashboard.render import num, pct


@dataclass(frozen=True)
class Value:
    """One bar: its length class (`w0`…`w100`), its value as written, and the list it counts."""

    series: int
    width: str
    shown: str
    href: str | None


@dataclass(frozen=True)
class Row:
    """A category (a unit, a month, a field): its label, where the label leads, and a bar per series."""

    label: str
    values: list[Value]
    href: str | None = None


@dataclass(frozen=True)
class BarChart:
    key: str  # the id of the chart's title in the page
    title: str
    category_axis: str
    value_axis: str  # with its unit: "Số hồ sơ (hồ sơ)", "Tỷ lệ (%)"
    series: list[str]
    rows: list[Row]
    ticks: list[str]
    empty: str  # what has no data, said when there are no rows
    notes: list[str] = field(default_factory=list)


def nice_max(value: float) -> float:
    """The scale's end: 1, 2 or 5 times a power of ten, at or above the largest value."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for m in (1, 2, 5, 10):
        if m * step >= value:
            return m * step
    return 10 * step


def width(value: float, top: float) -> str:
    """The length class of a bar: its share of the scale in whole percent (a non-zero value is never 0)."""
    share = 0 if top <= 0 else round(100 * value / top)
    if value > 0:
        share = max(share, 1)
    return f"w{min(max(share, 0), 100)}"


def bar_chart(
    key: str,
    title: str,
    *,
    category_axis: str,
    value_axis: str,
    series: list[str],
    rows: list[tuple[str, str | None, list[tuple[float, str | None]]]],
    empty: str,
    percent: bool = False,
    notes: list[str] | None = None,
) -> BarChart:
    """`rows`: (label, label's link, [(value, value's link) per series]) in the order shown (the caller sorts, e.g.
    worst first). Counts are written 1.234; shares (0–1) as 87,5%."""
    top = 1.0 if percent else nice_max(max((v for _, _, vals in rows for v, _ in vals), default=0))
    drawn = [
        Row(
            label,
            [Value(i, width(v, top), pct(v) if percent else num(v), href) for i, (v, href) in enumerate(values)],
            label_href,
        )
        for label, label_href, values in rows
    ]
    ticks = ["0%", "50%", "100%"] if percent else [num(0), num(top / 2) if (top / 2).is_integer() else "", num(top)]
    return BarChart(key, title, category_axis, value_axis, series, drawn, ticks, empty, notes or [])
