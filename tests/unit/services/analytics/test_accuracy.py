"""The forecast backtest (:mod:`flambeau.services.analytics.accuracy`) on histories whose
errors are known, and the strike's effect on the pace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flambeau.services.analytics.accuracy import History, measure
from flambeau.services.analytics.forecast import Series, forecast
from flambeau.services.analytics.transit import TRANSIT_SHARE, Lines
from flambeau.services.mobility.schemas import LineState, LineStatus

T0 = datetime(2024, 8, 4, 10, tzinfo=UTC)


def _at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def _history(sales: list[int], entries: list[int]) -> History:
    history = History()
    history.sales["STA"] = {_at(m): v for m, v in enumerate(sales)}
    history.entries["STA"] = {_at(m): v for m, v in enumerate(entries)}
    return history


def _strike(lines: Lines, minute: int) -> None:
    status = LineStatus(route_id="RER-B", state=LineState.CLOSED, effect="NO_SERVICE",
                        cause="STRIKE", alert_id="s")  # fmt: skip
    lines.fold(_at(minute), status)


def test_a_steady_venue_is_forecast_exactly() -> None:
    sales, entries = measure(_history([100] * 80, [10] * 80))
    assert sales.forecasts == 10  # minutes 10 to 19: a full pace window before, an hour after
    assert (sales.mae, sales.wape, sales.hour_mape) == (0.0, 0.0, 0.0)
    assert (entries.mae, entries.baseline_mae) == (0.0, 0.0)


def test_a_known_unit_end_beats_the_pace_alone() -> None:
    # Departing spectators from minute 100: sales at 2.5x the pace, entries stop, 20 minutes.
    sales = [100] * 100 + [250] * 20 + [100] * 40
    entries = [10] * 100 + [0] * 20 + [10] * 40
    history = _history(sales, entries)
    history.ends["STA"].append((_at(0), "FNL", _at(100)))
    got = {e.series: e for e in measure(history)}
    assert got["sales"].forecasts == 90  # cuts at minutes 10 to 99
    assert got["sales"].mae == 0.0
    assert got["entries"].mae == 0.0
    assert got["sales"].baseline_mae > 0
    assert got["sales"].baseline_hour_mape > 0
    assert got["entries"].baseline_wape > 0


def test_a_strike_moves_the_forecast_until_the_pace_has_seen_it() -> None:
    lines = Lines()
    _strike(lines, 50)
    service = 1 - TRANSIT_SHARE / 3  # RER B is one of the three lines serving STA
    assert lines.service("STA", _at(49)) == 1.0
    assert lines.service("STA", _at(50)) == pytest.approx(service)
    assert lines.service("BCY", _at(50)) == 1.0
    steady = Series({_at(m): 100 for m in range(80)}, {})

    def pace_at(now: int) -> float:
        plan = forecast("STA", steady, {}, _at(now), lambda at: lines.service("STA", at))
        return plan.sales_pace

    assert pace_at(40) == pytest.approx(100)  # before the strike
    assert pace_at(49) == pytest.approx(100 * service)  # the strike, not yet in the pace
    assert pace_at(70) == pytest.approx(100)  # arrivals as measured under the strike
    history = _history([100] * 130, [10] * 130)
    history.lines = lines
    sales, _ = measure(history)
    assert sales.mae > 0  # the rehearsal's arrivals did not drop: the strike costs accuracy
    assert sales.baseline_mae == 0.0
