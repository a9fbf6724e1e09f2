"""Charts drawn on the server as SVG: no script, no external service, readable in greyscale (series differ by
dash and marker, not only by colour) and scalable (viewBox) from a phone to a printed page.

This module computes each chart's geometry (coordinates, the labels and values written); the macros in
`templates/charts.html` draw it as SVG elements, escaped by the templates' autoescape like every other value."""

from dataclasses import dataclass

INK, MID, LIGHT, GRID = "#1b1b1b", "#5a5a5a", "#a8a8a8", "#dddddd"


@dataclass(frozen=True)
class Tick:
    """A horizontal grid line at `y` with its value written at the left."""

    y: float
    label: str


@dataclass(frozen=True)
class Series:
    """One line: its points, its look (colour, dash, marker) and where its legend starts."""

    name: str
    colour: str
    dash: str
    marker: str  # "circle" or "square"
    points: list[tuple[float, float]]
    legend_x: int


@dataclass(frozen=True)
class LineChart:
    title: str
    width: int
    height: int
    left: int
    right: int
    ticks: list[Tick]
    labels: list[tuple[float, str]]  # (x, month) along the bottom
    series: list[Series]
    grid: str = GRID


@dataclass(frozen=True)
class Bar:
    label: str  # shortened to 30 characters
    y: int
    w: float
    shown: str  # the value as written beside the bar


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    left: int
    top: int
    bar_h: int
    bars: list[Bar]
    fill: str = MID
    stroke: str = INK


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1)
    return float(((int(value) // step) + 1) * step)


def line_chart(title: str, labels: list[str], series: list[tuple[str, list[float]]], *, width: int = 640) -> LineChart:
    """Months along the bottom, one line per series: the first solid with dots, the second dashed with squares."""
    height, left, right, top, bottom = 240, 44, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((v for _, vals in series for v in vals), default=0))
    n = max(len(labels), 1)
    x = [left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / top_value

    ticks = [Tick(top + plot_h * k / 4, f"{top_value * (4 - k) / 4:,.0f}") for k in range(5)]
    styles = [(INK, "", "circle"), (MID, "6 4", "square")]
    drawn, legend_x = [], left
    for (name, values), (colour, dash, marker) in zip(series, styles, strict=False):
        points = [(x[i], y(v)) for i, v in enumerate(values)]
        drawn.append(Series(name, colour, dash, marker, points, legend_x))
        legend_x += 40 + 8 * len(name)
    return LineChart(title, width, height, left, right, ticks, list(zip(x, labels, strict=False)), drawn)


def bar_chart(
    title: str, rows: list[tuple[str, float]], *, unit: str = "", width: int = 640, percent: bool = False
) -> BarChart:
    """Horizontal bars in the given order (the caller sorts, e.g. worst first), each with its value written."""
    bar_h, gap, left, right, top = 18, 6, 190, 56, 8
    height = top * 2 + max(len(rows), 1) * (bar_h + gap)
    top_value = 1.0 if percent else _nice_max(max((v for _, v in rows), default=0))
    plot_w = width - left - right
    bars = []
    for i, (label, value) in enumerate(rows):
        shown = f"{value:.0%}" if percent else f"{value:,.0f}{unit}"
        short = label if len(label) <= 30 else label[:29] + "…"
        bars.append(Bar(short, top + i * (bar_h + gap), plot_w * (value / top_value if top_value else 0), shown))
    return BarChart(title, width, height, left, top, bar_h, bars)
