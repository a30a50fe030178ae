"""The calendar of a multi-year run: what happens when, scheduled and ordered by simpy.

The clock counts quarters: quarter ``q`` of the horizon (0-based) runs from
time ``q`` to ``q + 1``, and year ``y`` (1-based) from ``4 (y - 1)`` to ``4 y``.
Each kind of event is a :class:`Step`; events due at the same time run in the
order of their steps (simpy's event priority), whichever process scheduled
them and whenever it was created::

    at the end of each quarter (time q + 1)
      QUARTER_END   premium earned, losses incurred on their days (capital);
                    the claims occurred so far become outstanding
      PAYMENTS      claims due (payment_pattern) paid; a ruined member pays the
                    liquidator's dividend
      RECOVERIES    recoveries received (recovery_delay_days after each payment)
      YEAR_END      (the fourth quarter) solvency ratios; exits for the next renewal
    at the start of each year (time 4 (y - 1)), after the year before ended
      RENEWAL       exits take effect, shares re-allocated, exposure grown, rates
                    set; the year's losses and their split; reinsurer defaults found
      DEFAULT       a reinsurer's default found at renewal: its cedants lose the
                    unpaid part of its earlier years' recoveries

Every step acts on all the chunk's paths at once (:class:`sim.dynamics_paths.Paths`).
"""
from __future__ import annotations

import enum

import simpy

from .dynamics_timing import QUARTERS

# simpy's own events use priorities 0 (URGENT: a process starting) and 1 (NORMAL); the
# calendar's steps come after them at the same time.
_FIRST_PRIORITY = 10


class Step(enum.IntEnum):
    """The kinds of calendar event, in the order they run at one time."""

    QUARTER_END = 0
    PAYMENTS = 1
    RECOVERIES = 2
    YEAR_END = 3
    RENEWAL = 4
    DEFAULT = 5


class At(simpy.events.Event):
    """An event at ``time`` of the clock, of kind ``step`` (a timeout with the step's priority)."""

    def __init__(self, env: simpy.Environment, time: float, step: Step):
        if time < env.now:
            raise ValueError(f"{step.name} at {time} is before the clock's {env.now}")
        super().__init__(env)
        self._ok = True
        self._value = step
        env.schedule(self, _FIRST_PRIORITY + int(step), time - env.now)


def renewals(env: simpy.Environment, paths):
    for year in range(1, paths.years + 1):
        yield At(env, QUARTERS * (year - 1), Step.RENEWAL)
        late = paths.renew(year)
        if late is not None:
            env.process(reinsurer_default(env, paths, late))


def reinsurer_default(env: simpy.Environment, paths, late):
    """A default found at this renewal (on some paths) costs the cedants at once."""
    yield At(env, env.now, Step.DEFAULT)
    paths.book_default(late)


def each_quarter(step: Step, act):
    """A process that takes ``step`` at the end of every quarter of the horizon:
    ``act(paths, quarter)``, quarters counted from 0."""
    def process(env: simpy.Environment, paths):
        for quarter in range(paths.years * QUARTERS):
            yield At(env, quarter + 1, step)
            act(paths, quarter)
    return process


quarter_ends = each_quarter(Step.QUARTER_END, lambda paths, quarter: paths.book_quarter(quarter))
payment_dates = each_quarter(Step.PAYMENTS, lambda paths, quarter: paths.pay_claims(quarter))
recovery_dates = each_quarter(Step.RECOVERIES, lambda paths, quarter: paths.receive_recoveries(quarter))


def year_ends(env: simpy.Environment, paths):
    for year in range(1, paths.years + 1):
        yield At(env, QUARTERS * year, Step.YEAR_END)
        paths.year_end(year - 1)


PROCESSES = (year_ends, recovery_dates, payment_dates, quarter_ends, renewals)


def run_calendar(paths) -> None:
    """Every event of the horizon for ``paths``, in calendar order. The processes are created
    in an arbitrary order (here, latest step first): the steps order them."""
    env = simpy.Environment()
    for process in PROCESSES:
        env.process(process(env, paths))
    env.run()
