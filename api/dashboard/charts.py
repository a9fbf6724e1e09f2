"""Charts drawn on the server as SVG: no script, no external service, readable in greyscale (series differ by
dash and marker, not only by colour) and scalable (viewBox) from a phone to a printed page."""

from html import escape

INK, MID, LIGHT, GRID = "#1b1b1b", "#5a5a5a", "#a8a8a8", "#dddddd"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1)
    return float(((int(value) // step) + 1) * step)


def line_chart(title: str, labels: list[str], series: list[tuple[str, list[float]]], *, width: int = 640) -> str:
    """Months along the bottom, one line per series: the first solid with dots, the second dashed with squares."""
    height, left, right, top, bottom = 240, 44, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((v for _, vals in series for v in vals), default=0))
    n = max(len(labels), 1)
    x = [left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / top_value

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for k in range(5):
        gy = top + plot_h * k / 4
        value = top_value * (4 - k) / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" font-size="11">{value:,.0f}</text>')
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{x[i]:.1f}" y="{height - 22}" text-anchor="middle" font-size="11">{escape(label)}</text>'
        )
    styles = [(INK, "", "circle"), (MID, "6 4", "square")]
    for (_name, values), (colour, dash, marker) in zip(series, styles, strict=False):
        points = " ".join(f"{x[i]:.1f},{y(v):.1f}" for i, v in enumerate(values))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr} points="{points}"/>')
        for i, v in enumerate(values):
            if marker == "circle":
                parts.append(f'<circle cx="{x[i]:.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}"/>')
            else:
                parts.append(f'<rect x="{x[i] - 3.5:.1f}" y="{y(v) - 3.5:.1f}" width="7" height="7" fill="{colour}"/>')
    legend_x = left
    for (name, _), (colour, dash, _m) in zip(series, styles, strict=False):
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 24}" y1="14" y2="14" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/>'
        )
        parts.append(f'<text x="{legend_x + 30}" y="18" font-size="12">{escape(name)}</text>')
        legend_x += 40 + 8 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    title: str, rows: list[tuple[str, float]], *, unit: str = "", width: int = 640, percent: bool = False
) -> str:
    """Horizontal bars in the given order (the caller sorts, e.g. worst first), each with its value written."""
    bar_h, gap, left, right, top = 18, 6, 190, 56, 8
    height = top * 2 + max(len(rows), 1) * (bar_h + gap)
    top_value = 1.0 if percent else _nice_max(max((v for _, v in rows), default=0))
    plot_w = width - left - right
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    if not rows:
        parts.append(f'<text x="{left}" y="{top + 14}" font-size="12">Không có số liệu</text>')
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = plot_w * (value / top_value if top_value else 0)
        shown = f"{value:.0%}" if percent else f"{value:,.0f}{unit}"
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" font-size="11">{escape(short)}</text>')
        parts.append(
            f'<rect x="{left}" y="{y}" width="{max(w, 0.5):.1f}" height="{bar_h}" fill="{MID}" stroke="{INK}" '
            'stroke-width="0.5"/>'
        )
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}" font-size="11">{shown}</text>')
    parts.append("</svg>")
    return "".join(parts)
