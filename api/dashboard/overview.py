"""What the overview page shows for a period and a scope (the province, or a unit and the units below it): the
headline figures, four charts, the figures of each unit, the heads' reception month by month, and the watch-list —
each figure with the link to the list of the cases (or register entries) it counts, each unit with the link to its
own overview. Names a user reads come from workflows/vocabulary.py."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.dashboard import charts, queries, render
from api.dashboard.web import href
from api.models.reception import MonthOut
from api.services.stats import forms, oversight
from workflows import periods, vocabulary

FOLD_AT = 12  # a longer list of units folds by district-level area
WATCH_PAGE = 25
TOP_UNITS = 15  # bars per unit chart (the table below them lists every unit)


@dataclass
class Group:
    """Units of one district-level area (or all of them, unfolded), with how many of them are short."""

    area: str
    rows: list[dict[str, Any]]
    flagged: int = 0
    open: bool = False


@dataclass
class Reception:
    period: periods.Period
    months: list[date]
    groups: list[Group] = field(default_factory=list)
    folded: bool = False
    units: int = 0


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def month_name(month: date) -> str:
    return vocabulary.period_name(month.strftime("%Y-%m"))


def _group(rows: list[dict[str, Any]], flag: str) -> tuple[list[Group], bool]:
    """Rows in one group, or folded by area when there are many (each area closed, saying how many of its units
    are flagged): areas with flagged units first."""
    if len(rows) <= FOLD_AT:
        return [Group("", rows, sum(1 for r in rows if r[flag]), open=True)], False
    by_area: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_area.setdefault(row["area"], []).append(row)
    groups = [Group(area, rs, sum(1 for r in rs if r[flag])) for area, rs in by_area.items()]
    groups.sort(key=lambda g: (-g.flagged, g.area))
    return groups, True


async def gather(
    session: AsyncSession, who: Officer, p: periods.Period, unit_id: int | None, scope_name: str, today: date
) -> dict[str, Any]:
    summary = await oversight.summary(session, who, p, unit_id, today)
    units = {u.id: u for u in await forms.scope_units(session, who, unit_id)}
    name = vocabulary.period_name(p.label)
    span = {"received_from": p.start, "received_to": p.end}
    settled_span = {"settled_from": p.start, "settled_to": p.end}

    def cases(**filters: Any) -> str:
        return href("/dashboard/cases", **{"unit_id": unit_id, **filters})

    def unit_page(uid: int) -> str:
        return href("/dashboard", unit_id=uid, period=p.label)

    sat = summary["satisfaction"]
    cards = [
        ("Đơn tiếp nhận", render.num(summary["received"]), cases(**span), name),
        ("Đã giải quyết", render.num(summary["settled"]), cases(**settled_span), name),
        (
            "Tỷ lệ giải quyết đúng hạn",
            render.pct(summary["on_time_rate"]),
            cases(**settled_span, late=False),
            f"{render.num(summary['on_time'])}/{render.num(summary['settled'])} vụ việc đã giải quyết",
        ),
        ("Đang quá hạn", render.num(summary["overdue_now"]), cases(overdue=True), f"đến ngày {today:%d/%m/%Y}"),
        (
            "Công dân hài lòng (4–5 sao)",
            render.pct(sat["share_4_5"]),
            cases(rated_from=p.start, rated_to=p.end),
            f"{render.num(sat['ratings'])} đánh giá; mục tiêu {render.pct(sat['goal'])}",
        ),
    ]

    # Received and settled month by month: each calendar month of the period, cut to the period's own days.
    trend = {t["month"]: t for t in summary["trend"]}
    trend_rows: list[tuple[str, str | None, list[tuple[float, str | None]]]] = []
    for m in p.months():
        start, end = max(m, p.start), min(month_end(m), p.end)
        t = trend.get(m.strftime("%Y-%m"), {"received": 0, "settled": 0})
        label = month_name(m)
        if (start, end) != (m, month_end(m)):
            label += f" (từ {start:%d/%m} đến {end:%d/%m})"
        trend_rows.append(
            (
                label,
                None,
                [
                    (t["received"], cases(received_from=start, received_to=end)),
                    (t["settled"], cases(settled_from=start, settled_to=end)),
                ],
            )
        )
    by_unit = summary["by_unit"]
    overdue = sorted((u for u in by_unit if u["overdue"]), key=lambda u: (-u["overdue"], u["unit_code"]))
    rated = sorted(
        (u for u in by_unit if u["on_time_rate"] is not None), key=lambda u: (u["on_time_rate"], u["unit_code"])
    )
    by_field = sorted(summary["by_field"].items(), key=lambda kv: (-kv[1], kv[0]))
    unit_cases = {"subtree": False}
    chart_list = [
        charts.bar_chart(
            "chart-trend",
            f"Số đơn tiếp nhận và số vụ việc giải quyết xong theo tháng — {name}",
            category_axis="Tháng",
            value_axis="Số lượng (đơn tiếp nhận, vụ việc giải quyết xong)",
            series=["Tiếp nhận", "Giải quyết xong"],
            rows=trend_rows,
            empty=f"Không có tháng nào trong {name}.",
        ),
        charts.bar_chart(
            "chart-overdue",
            f"Hồ sơ đang quá hạn theo đơn vị — đến ngày {today:%d/%m/%Y}"
            + (f" (trong {len(overdue)} đơn vị, {TOP_UNITS} đơn vị nhiều nhất)" if len(overdue) > TOP_UNITS else ""),
            category_axis="Đơn vị",
            value_axis="Số hồ sơ quá hạn (hồ sơ)",
            series=["Quá hạn"],
            rows=[
                (
                    u["unit_name"],
                    unit_page(u["unit_id"]),
                    [(u["overdue"], cases(**{**unit_cases, "unit_id": u["unit_id"]}, overdue=True))],
                )
                for u in overdue[:TOP_UNITS]
            ],
            empty=f"Không có hồ sơ nào quá hạn trong {scope_name} đến ngày {today:%d/%m/%Y}.",
        ),
        charts.bar_chart(
            "chart-on-time",
            f"Tỷ lệ giải quyết đúng hạn theo đơn vị, thấp nhất trước — {name}",
            category_axis="Đơn vị",
            value_axis="Tỷ lệ đúng hạn (%)",
            series=["Đúng hạn"],
            rows=[
                (
                    f"{u['unit_name']} ({render.num(round(u['on_time_rate'] * u['settled']))}/{u['settled']})",
                    unit_page(u["unit_id"]),
                    [(u["on_time_rate"], cases(**{**unit_cases, "unit_id": u["unit_id"]}, **settled_span))],
                )
                for u in rated[:TOP_UNITS]
            ],
            empty=f"Không có vụ việc nào giải quyết xong trong {name} thuộc {scope_name}.",
            percent=True,
        ),
        charts.bar_chart(
            "chart-field",
            f"Đơn tiếp nhận theo lĩnh vực — {name}",
            category_axis="Lĩnh vực",
            value_axis="Số đơn (đơn)",
            series=["Tiếp nhận"],
            rows=[
                (vocabulary.name(vocabulary.FIELD_SHORT, k), None, [(v, cases(**span, field=k))]) for k, v in by_field
            ],
            empty=f"Không có đơn nào tiếp nhận trong {name} thuộc {scope_name}.",
        ),
    ]

    unit_rows = []
    for u in by_unit:
        unit = units.get(u["unit_id"])
        mine = {**unit_cases, "unit_id": u["unit_id"]}
        unit_rows.append(
            {
                **u,
                "area": queries.area_of(u["unit_code"], unit.level if unit else ""),
                "href": unit_page(u["unit_id"]),
                "received_href": cases(**mine, **span),
                "settled_href": cases(**mine, **settled_span),
                "on_time_href": cases(**mine, **settled_span, late=False),
                "overdue_href": cases(**mine, overdue=True),
                "flag": u["overdue"] > 0,
            }
        )
    unit_groups, units_folded = _group(unit_rows, "flag")

    watch, watch_next = await oversight.watchlist(
        session, who, unit_id=unit_id, reason=None, today=today, limit=WATCH_PAGE, cursor=None
    )
    return {
        "summary": summary,
        "cards": cards,
        "charts": chart_list,
        "unit_groups": unit_groups,
        "units_folded": units_folded,
        "unit_count": len(unit_rows),
        "reception": await _reception(session, who, p, unit_id, today, units),
        "watch": watch,
        "watch_more": href("/dashboard/watch", unit_id=unit_id, cursor=watch_next) if watch_next else None,
        "watch_all": href("/dashboard/watch", unit_id=unit_id),  # a phone shows the first few inline (the CSS)
        "downloads": [(f, forms.get_form(f).official) for f in ("tcd", "xld", "gqkn", "gqtc", "kqth")],
    }


async def _reception(
    session: AsyncSession, who: Officer, p: periods.Period, unit_id: int | None, today: date, units: dict[Any, Any]
) -> Reception:
    """The heads' periodic reception in each calendar month of the period (up to this month): a month still
    running says so with the days held so far; a shortfall only once the month (its last week) is over."""
    cal = periods.parse(p.label)  # calendar months: the duty is per month (LTCD art. 12–18)
    out = Reception(cal, [m for m in cal.months() if m <= today])
    # Kept in the statistics cache under the register's, the sittings', the units' and the calendar's versions.
    rows = await oversight.compliance(session, who, cal, unit_id=unit_id, today=today)
    shaped = []
    for r in rows:
        by_month: dict[str, MonthOut] = {m.month: m for m in r["months"]}
        cells = []
        for month in out.months:
            mo = by_month.get(month.strftime("%Y-%m"))
            register = href(
                "/dashboard/register", unit_id=r["unit_id"], subtree=False, start=month, end=month_end(month)
            )
            if mo is None:
                cells.append({"state": "none", "text": "Không phải tiếp", "detail": "", "href": None})
            elif not mo.complete:
                cells.append(
                    {
                        "state": "running",
                        "text": "Đang trong tháng",
                        "detail": f"đã tiếp {mo.counted_days}/{mo.required} ngày",
                        "href": register,
                    }
                )
            elif mo.shortfall > 0:
                cells.append(
                    {
                        "state": "short",
                        "text": f"Thiếu {mo.shortfall} ngày",
                        "detail": f"đã tiếp {mo.counted_days}/{mo.required} ngày",
                        "href": register,
                    }
                )
            else:
                cells.append(
                    {
                        "state": "met",
                        "text": "Đủ",
                        "detail": f"đã tiếp {mo.counted_days}/{mo.required} ngày",
                        "href": register,
                    }
                )
        unit = units.get(r["unit_id"])
        shaped.append(
            {
                **r,
                "area": queries.area_of(r["unit_code"], unit.level if unit else r["level"]),
                "href": href("/dashboard", unit_id=r["unit_id"], period=p.label),
                "cells": cells,
                "flag": r["shortfall"] > 0,
                "register": href(
                    "/dashboard/register", unit_id=r["unit_id"], subtree=False, start=cal.start, end=cal.end
                ),
            }
        )
    out.groups, out.folded = _group(shaped, "flag")
    out.units = len(shaped)
    return out
