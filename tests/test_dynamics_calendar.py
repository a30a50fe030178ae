"""The multi-year calendar (sim.dynamics_calendar): events ordered by time and kind, not by which
process was created first."""
from __future__ import annotations

import numpy as np
import pytest

from sim import dynamics_calendar as calendar


class Recorder:
    """Stands for sim.dynamics_paths.Paths: records each step; a default is found at renewal 2."""

    years = 2

    def __init__(self):
        self.log = []

    def renew(self, year):
        self.log.append(("renew", year))
        return np.ones(1) if year == 2 else None

    def book_default(self, late):
        self.log.append(("default",))

    def book_quarter(self, t):
        self.log.append(("quarter_end", t))

    def pay_claims(self, t):
        self.log.append(("payments", t))

    def receive_recoveries(self, t):
        self.log.append(("recoveries", t))

    def year_end(self, y):
        self.log.append(("year_end", y))


def expected_log():
    log = []
    for year in (1, 2):
        log.append(("renew", year))
        if year == 2:
            log.append(("default",))
        for t in range(4 * (year - 1), 4 * year):
            log += [("quarter_end", t), ("payments", t), ("recoveries", t)]
        log.append(("year_end", year - 1))
    return log


@pytest.mark.parametrize("order", ["as written", "reversed", "shuffled"])
def test_the_calendar_orders_events_by_time_and_kind_whatever_the_creation_order(monkeypatch, order):
    processes = list(calendar.PROCESSES)
    if order == "reversed":
        processes.reverse()
    elif order == "shuffled":
        processes = [processes[i] for i in (2, 4, 0, 3, 1)]
    monkeypatch.setattr(calendar, "PROCESSES", tuple(processes))
    paths = Recorder()
    calendar.run_calendar(paths)
    assert paths.log == expected_log()


def test_an_event_cannot_be_scheduled_in_the_past():
    import simpy
    env = simpy.Environment(initial_time=3)
    with pytest.raises(ValueError, match="before the clock"):
        calendar.At(env, 2, calendar.Step.PAYMENTS)
