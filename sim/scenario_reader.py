"""Reading a resolved scenario dict into the frozen objects of :mod:`sim.model`, one
method per section, with the checks across sections (line and reinsurer names,
panels, premiums, correlation matrices). Objects are built only when there is no
problem at all.
"""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import model
from .correlation import correlation_matrix, nearest_correlation
from .distributions import Distribution
from .event_tables import read_event_table
from .optimize_read import read_optimize
from .regulation import DEFAULT_PROBABILITY_BY_RATING
from .scenario_fields import (CATASTROPHE, DEPENDENCE, DYNAMICS, LINE, MAX_POLICIES, MEMBER, PARAMETRIC_CATASTROPHE_KEYS,
                              PERCENT_LIKE, POOL, PRICING, REINSURER, ROLES, SCENARIO, SIMULATION, SOLVENCY,
                              TABLE_CATASTROPHE_KEYS, TREATY_TERMS, TREATY_TYPE, Field, _TERM_HOMES)
from .scenario_tables import TableReader
from .scenario_values import STRING, SUM_TOLERANCE, _is_number, _join, show

EIGENVALUE_TOLERANCE = 1e-10  # a correlation matrix eigenvalue below -this is negative

# The results' name for the pool as a whole (sim.pool.parties): no member or reinsurer may take it.
POOL_PARTY = "pool"


class Reader(TableReader):
    """Walks a resolved scenario dict, collecting every problem and building the objects.

    Each section method returns the frozen object, or None when its part of the file has
    problems (which are then in ``self.problems``).
    """

    def exactly_one_loss_size(self, raw: dict, path: str) -> None:
        given = [key for key in ("severity", "damage_ratio") if key in raw]
        if len(given) == 2:
            self.problem(path, f"{path} gives both severity and damage_ratio; give exactly one "
                               "(severity in money, or damage_ratio as a share of the sum insured)")
        elif not given:
            self.problem(path, f"{path}.severity is missing; give exactly one of severity (money per claim) "
                               "or damage_ratio (share of the sum insured)")

    # ------------------------------------------------ sections
    def scenario(self, data: dict) -> model.Scenario | None:
        top = self.table(data, "", SCENARIO)
        simulation = self.simulation(data.get("simulation"))
        lines = self.lines(data.get("lines"))
        reinsurers = self.reinsurers(data.get("reinsurers"))
        dependence = self.dependence(data.get("dependence"))
        catastrophes = self.catastrophes(data.get("catastrophes"))
        pool = self.pool(data.get("pool"))
        solvency = self.optional_table(data.get("solvency"), "solvency", SOLVENCY, model.Solvency)
        dynamics = self.dynamics(data.get("dynamics"))
        pricing = self.pricing(data.get("pricing"))
        optimize = self.optimize(data.get("optimize"), pool)
        if self.problems:
            return None
        self.check_policy_count(lines, simulation.years, dynamics.exposure_growth)
        if self.problems:
            return None
        if "dynamics" in data and simulation.years == 1:
            # a note, not a problem: a scenario whose base has [dynamics] could not remove the table
            self.note("dynamics", "[dynamics] is used only for its payment_pattern and recovery_delay_days "
                                  "(the recoveries receivable at the year end, which C-ROSS credit risk is "
                                  "charged on): simulation.years = 1 is a one-year run; set years > 1 for a "
                                  "multi-year run")
        if pricing is not None and simulation.years == 1:
            self.note("pricing", "[pricing] reprices at each renewal of a multi-year run: simulation.years = 1 "
                                 "has none, so the rates stay as written; set years > 1 to reprice")
        return model.Scenario(
            name=top["name"], currency=top["currency"], simulation=simulation, lines=lines,
            pool=pool, dependence=dependence, catastrophes=catastrophes, reinsurers=reinsurers,
            solvency=solvency, dynamics=dynamics, optimize=optimize, pricing=pricing,
        )

    def pricing(self, value: Any) -> model.Pricing | None:
        if value is None:
            return None
        clean = self.table(value, "pricing", PRICING)
        return model.Pricing(**clean) if clean is not None and len(clean) == len(PRICING) else None

    def optimize(self, value: Any, pool: model.Pool | None) -> model.Optimize | None:
        if value is None:
            return None
        return read_optimize(self, value, pool)     # the key paths of the terms it searches

    def optional_table(self, value: Any, path: str, schema: dict, build):
        if value is None:
            return build()
        clean = self.table(value, path, schema)
        return build(**clean) if clean is not None and len(clean) == len(schema) else None

    def check_policy_count(self, lines: tuple[model.Line, ...], years: int, growth: float) -> None:
        """A problem when the largest year's policies (grown by ``growth`` a year) exceed
        ``MAX_POLICIES``: the run would exhaust the memory and be killed without a word."""
        try:
            largest_scale = max(1.0, (1.0 + growth) ** (years - 1))
        except OverflowError:
            largest_scale = math.inf
        total = sum(line.policies for line in lines) * largest_scale
        if total > MAX_POLICIES:
            grown = (f", grown by dynamics.exposure_growth = {growth:g} a year over {years} years"
                     if largest_scale > 1.0 else "")
            self.problem("lines", f"the lines hold {total:,.0f} policies in their largest year{grown}; a run "
                                  f"holds every policy in memory, at most {MAX_POLICIES:,}: use fewer "
                                  "policies (a sample of the book, scaled by sum insured)"
                                  + (" or a shorter horizon or lower growth" if grown else ""))

    def simulation(self, value: Any) -> model.Simulation | None:
        if value is None:
            self.problem("simulation", "simulation is missing; it is required: a [simulation] table "
                                       "with trials and seed")
            return None
        clean = self.table(value, "simulation", SIMULATION)
        return model.Simulation(**clean) if clean and len(clean) == len(SIMULATION) else None

    def lines(self, value: Any) -> tuple[model.Line, ...] | None:
        items = self.array_of_tables(value, "lines", required=True)
        if items is None:
            return None
        self.unique_names(items, "lines", "line")
        self.line_names = [item["name"] for item in items if isinstance(item.get("name"), str)]
        built = [self.line(item, f"lines[{index}]") for index, item in enumerate(items)]
        return tuple(built) if all(built) and built else None

    def line(self, raw: dict, path: str) -> model.Line | None:
        before = len(self.problems)
        clean = self.table(raw, path, LINE)
        self.exactly_one_loss_size(raw, path)
        if clean is None:
            return None
        if isinstance(clean.get("name"), str) and "premium_rate" in clean:
            self.line_premium_rates[clean["name"]] = clean["premium_rate"]
        frequency = clean.get("frequency")
        if (getattr(frequency, "kind", None) == "bernoulli" and clean.get("uncertainty", 0.0) > 0.0
                and clean.get("parameter_uncertainty", 0.0) > 0.0):
            self.problem(f"{path}.parameter_uncertainty",
                         f"{path} has a bernoulli frequency with both uncertainty = {show(clean['uncertainty'])} "
                         f"and parameter_uncertainty = {show(clean['parameter_uncertainty'])}; give one of them "
                         "(a product of two levels could make the yearly probability pass 1)")
        if len(self.problems) > before:
            return None
        return model.Line(**clean)

    def reinsurers(self, value: Any) -> tuple[model.Reinsurer, ...] | None:
        items = self.array_of_tables(value, "reinsurers") if value is not None else []
        if items is None:
            return None
        self.unique_names(items, "reinsurers", "reinsurer")
        self.reserved_reinsurer_names(items)
        self.reinsurer_names = [item["name"] for item in items if isinstance(item.get("name"), str)]
        built = [self.reinsurer(item, f"reinsurers[{index}]") for index, item in enumerate(items)]
        return tuple(built) if all(built) else None

    def reserved_reinsurer_names(self, items: list[dict]) -> None:
        """Results name every party once: no reinsurer may be called "pool".

        A reinsurer sharing a member's name is reported at the member (``party_names``),
        which is read after the reinsurers.
        """
        for index, item in enumerate(items):
            if item.get("name") == POOL_PARTY:
                self.bad_value(f"reinsurers[{index}].name", item["name"],
                               "is reserved for the pool as a whole in the results; "
                               "choose another reinsurer name")

    def reinsurer(self, raw: dict, path: str) -> model.Reinsurer | None:
        before = len(self.problems)
        clean = self.table(raw, path, REINSURER)
        if clean is None:
            return None
        if "default_probability" in raw and "rating" in raw:
            self.problem(path, f"{path} gives both rating = {show(raw['rating'])} and default_probability = "
                               f"{show(raw['default_probability'])}; give one: the rating sets the "
                               "default probability from the Solvency II table")
        if len(self.problems) > before:
            return None
        self.note_percent_like(clean, path, "domestic_solvency_ratio", "as its own solvency ratio, which takes "
                               "the best credit factor")
        probability = clean["default_probability"]
        if probability is None:
            probability = DEFAULT_PROBABILITY_BY_RATING[clean["rating"]] if clean["rating"] else 0.0
        return model.Reinsurer(name=clean["name"], default_probability=probability,
                               recovery_rate=clean["recovery_rate"], capital=clean["capital"],
                               rating=clean["rating"], domestic_solvency_ratio=clean["domestic_solvency_ratio"])

    def dependence(self, value: Any) -> model.Dependence | None:
        if value is None:
            return model.Dependence()
        before = len(self.problems)
        clean = self.table(value, "dependence", DEPENDENCE)
        if clean is None:
            return None
        correlation = self.correlation(value.get("correlation", []), "dependence.correlation")
        if correlation and clean.get("copula") == "independent":
            self.problem("dependence", 'dependence.correlation is given but copula = "independent" ignores '
                                       'it; set copula = "gaussian" or "t", or remove correlation')
        if "df" in value and clean.get("copula", "t") != "t":
            self.problem("dependence", f'dependence.df is given but copula = "{clean["copula"]}" ignores it '
                                       f'(the t copula\'s degrees of freedom); set copula = "t", or remove df')
        if len(self.problems) > before or correlation is None:
            return None
        return model.Dependence(copula=clean["copula"], df=clean["df"], correlation=correlation)

    def correlation(self, value: Any, path: str) -> tuple | None:
        if not isinstance(value, list):
            self.bad_value(path, value, 'must be a list of [line, line, rho] entries, '
                                        'e.g. [["ai_liability", "robot_liability", 0.6]]')
            return None
        entries, pairs, ok = [], {}, True
        for index, entry in enumerate(value):
            entry_path = f"{path}[{index}]"
            if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
                    and isinstance(entry[1], str) and _is_number(entry[2]) and entry[2] == entry[2]):
                self.bad_value(entry_path, entry, 'must be [line, line, rho], e.g. ["ai_liability", '
                                                  '"robot_liability", 0.6]')
                ok = False
                continue
            first, second, rho = entry
            named_ok = self.check_line_name(f"{entry_path}[0]", first)
            named_ok = self.check_line_name(f"{entry_path}[1]", second) and named_ok
            if first == second:
                self.bad_value(entry_path, entry, "pairs a line with itself; its correlation is always 1")
                named_ok = False
            if not -1 <= rho <= 1:
                self.bad_value(f"{entry_path}[2]", rho, "must be within [-1, 1] (a correlation)")
                named_ok = False
            pair = frozenset((first, second))
            if named_ok and pair in pairs:
                self.bad_value(entry_path, entry, f"repeats the pair of {path}[{pairs[pair]}]; "
                                                  "give each pair once")
                named_ok = False
            pairs.setdefault(pair, index)
            ok = ok and named_ok
            entries.append((first, second, float(rho)))
        if not ok:
            return None
        if entries and self.line_names is not None and not self.positive_semidefinite(entries, path):
            return None
        return tuple(entries)

    def positive_semidefinite(self, entries: list, path: str) -> bool:
        names = self.line_names
        matrix = correlation_matrix(names, entries)
        eigenvalues = np.linalg.eigvalsh(matrix)
        if eigenvalues[0] >= -EIGENVALUE_TOLERANCE:
            return True
        nearest = nearest_correlation(matrix)
        suggestion = ", ".join(
            f'["{names[i]}", "{names[j]}", {nearest[i, j]:.4f}]'
            for i in range(len(names)) for j in range(i + 1, len(names)) if round(nearest[i, j], 4) != 0)
        self.problem(path, f"{path} is not a valid correlation matrix: it is not positive semi-definite "
                           f"(its smallest eigenvalue is {eigenvalues[0]:.4g} < 0, over the lines "
                           f"{', '.join(names)}); the nearest valid correlation matrix (Higham) is "
                           f"correlation = [{suggestion}]")
        return False

    def catastrophes(self, value: Any) -> tuple[model.Catastrophe, ...] | None:
        items = self.array_of_tables(value, "catastrophes") if value is not None else []
        if items is None:
            return None
        self.unique_names(items, "catastrophes", "catastrophe")
        built = [self.catastrophe(item, f"catastrophes[{index}]") for index, item in enumerate(items)]
        return tuple(built) if all(built) else None

    def catastrophe(self, raw: dict, path: str) -> model.Catastrophe | None:
        before = len(self.problems)
        clean = self.table(raw, path, CATASTROPHE)
        if clean is None:
            return None
        if "event_table" in raw or "table" in raw:
            return self.table_catastrophe(raw, clean, path, before)
        given = [key for key in TABLE_CATASTROPHE_KEYS if key in raw]
        if given:
            self.problem(path, f"{_join(path, given[0])} is for event tables: give it with event_table and table")
        if len(self.problems) == before:     # else a misspelt key may be the missing one
            for key in ("rate", "lines", "affected_share"):
                if key not in raw:
                    self.problem(path, f"{_join(path, key)} is missing; it is required (or give event_table "
                                       f"and table for events from an event loss table)")
        self.exactly_one_loss_size(raw, path)
        if len(self.problems) > before:
            return None
        return model.Catastrophe(**{key: clean[key] for key in ("name",) + PARAMETRIC_CATASTROPHE_KEYS})

    def table_catastrophe(self, raw: dict, clean: dict, path: str, before: int) -> model.Catastrophe | None:
        """A catastrophe whose events come from an event loss table (:mod:`sim.event_tables`)."""
        both = [key for key in PARAMETRIC_CATASTROPHE_KEYS if key in raw]
        if both:
            self.problem(path, f"{path} gives both event_table and {', '.join(both)}; give either event_table "
                               f"and table (the events of a YELT or ELT), or rate, lines, affected_share and "
                               f"damage_ratio or severity")
        for key in ("event_table", "table"):
            if key not in raw:
                self.problem(path, f"{_join(path, key)} is missing; an event table needs both event_table "
                                   f'(a .csv or .parquet file, relative to the scenario) and table ("yelt" or "elt")')
        if clean.get("table") == "elt" and clean.get("table_years") is not None:
            self.problem(path, f"{_join(path, 'table_years')} is for a YELT; an ELT gives rates, not years")
        if len(self.problems) > before or self.line_names is None:
            return None
        where = Path(self.file_of(path))
        folder = where.parent if where.name and where.suffix else Path(".")
        file = Path(clean["event_table"])
        resolved = file if file.is_absolute() else folder / file
        display = f'{self.where(path)}: {_join(path, "event_table")} = "{clean["event_table"]}"'
        table, problems = read_event_table(resolved, display, clean["table"], self.line_names,
                                           years=clean["table_years"], given=clean["event_table"])
        if problems:
            self.problems.extend(problems)
            return None
        names = tuple(self.line_names[j] for j in table.line_indices())
        zero = Distribution("constant", 0.0)
        return model.Catastrophe(name=clean["name"], rate=0.0, lines=names, affected_share=zero,
                                 damage_ratio=zero, severity=None, event_table=table)

    def pool(self, value: Any) -> model.Pool | None:
        if value is None:
            self.problem("pool", "pool is missing; it is required: a [pool] table with name and "
                                 "at least one [[pool.members]]")
            return None
        before = len(self.problems)
        clean = self.table(value, "pool", POOL)
        if clean is None:
            return None
        members = self.members(value.get("members"))
        reinsurance = self.programme(value.get("reinsurance"), "pool.reinsurance", "pool")
        if len(self.problems) > before or members is None or reinsurance is None:
            return None
        return model.Pool(name=clean["name"], members=members, lead_fee=clean["lead_fee"],
                          reinsurance=reinsurance)

    def members(self, value: Any) -> tuple[model.Member, ...] | None:
        items = self.array_of_tables(value, "pool.members", required=True)
        if not items:
            return None
        self.unique_names(items, "pool.members", "member")
        self.party_names(items)
        built = [self.member(item, f"pool.members[{index}]") for index, item in enumerate(items)]
        shares = [item.get("share") for item in items]
        if all(_is_number(share) and 0 <= share <= 1 for share in shares):   # else already reported
            total = math.fsum(shares)
            if abs(total - 1.0) > SUM_TOLERANCE:
                self.problem("pool", f"pool.members: the shares sum to {total:.12g}; the members' shares "
                                     f"must sum to 1 (within {SUM_TOLERANCE:g})")
        roles = [item.get("role") for item in items]
        if all(role in ROLES for role in roles) and roles.count("lead") != 1:
            self.problem("pool", f"pool.members: {roles.count('lead')} members have role = \"lead\"; "
                                 'exactly one member must be the lead, the others "follower"')
        return tuple(built) if all(built) else None

    def party_names(self, items: list[dict]) -> None:
        """Results name every party once: no member may be called "pool" or share a reinsurer's name."""
        for index, item in enumerate(items):
            name = item.get("name")
            path = f"pool.members[{index}].name"
            if name == POOL_PARTY:
                self.bad_value(path, name, 'is reserved for the pool as a whole in the results; '
                                           'choose another member name')
            elif isinstance(name, str) and self.reinsurer_names and name in self.reinsurer_names:
                self.bad_value(path, name, "is also the name of a reinsurer; the results name every "
                                           "party once, so members and reinsurers need different names")

    def member(self, raw: dict, path: str) -> model.Member | None:
        before = len(self.problems)
        clean = self.table(raw, path, MEMBER)
        if clean is None:
            return None
        reinsurance = self.programme(raw.get("reinsurance"), f"{path}.reinsurance", "member")
        if len(self.problems) > before or reinsurance is None:
            return None
        return model.Member(reinsurance=reinsurance, **clean)

    def programme(self, value: Any, path: str, cedant: str) -> tuple[model.Treaty, ...] | None:
        items = self.array_of_tables(value, path) if value is not None else []
        if items is None:
            return None
        built = [self.treaty(item, f"{path}[{index}]", cedant) for index, item in enumerate(items)]
        if not all(built):
            return None
        # Every treaty is named, so treaties.csv and a multi-year run can tell them apart.
        built = [treaty if treaty.name is not None else replace(treaty, name=f"{treaty.type} #{index + 1}")
                 for index, treaty in enumerate(built)]
        names = [treaty.name for treaty in built]
        for index, name in enumerate(names):
            if name in names[:index]:
                self.bad_value(f"{path}[{index}].name", name,
                               f"must differ from the name of {path}[{names.index(name)}]: "
                               "treaties of one programme have distinct names")
                return None
        return tuple(built)

    def treaty(self, raw: dict, path: str, cedant: str) -> model.Treaty | None:
        treaty_type = raw.get("type")
        if treaty_type not in TREATY_TERMS:
            self.bad_treaty_type(raw, path)
            return None
        before = len(self.problems)
        schema = {"type": Field(STRING, required=True), **TREATY_TERMS[treaty_type]}
        clean = self.table(raw, path, schema, where=f" of a {treaty_type} treaty",
                           elsewhere=_TERM_HOMES)
        if clean is None:
            return None
        if treaty_type in ("per_risk_xl", "cat_xl"):
            self.check_layer_premium(raw, clean, path)
            self.note_unused_aggregate_limit(raw, clean, path)
            self.note_percent_like(clean, path, "reinstatement_premium", "times the layer premium a reinstatement")
        if treaty_type == "stop_loss":
            self.check_stop_loss_premium(clean, path)
            for key in ("attachment", "limit"):
                self.note_percent_like(clean, path, key, "as a loss ratio")
            self.note_percent_like(clean, path, "rate", "of the premium as the stop loss's price", threshold=1.0)
        if len(self.problems) > before:
            return None
        return build_treaty(clean)

    def bad_treaty_type(self, raw: dict, path: str) -> None:
        if not isinstance(raw, dict):
            self.bad_value(path, raw, "must be a table")
        elif "type" not in raw:
            self.problem(path, f"{path}.type is missing; it is required (one of "
                               f"{', '.join(model.TREATY_TYPES)})")
        else:
            self.bad_value(f"{path}.type", raw["type"],
                           f"must be {TREATY_TYPE.text}{TREATY_TYPE.hint(raw['type'])}")

    def check_layer_premium(self, raw: dict, clean: dict, path: str) -> None:
        if "rate_on_line" in raw and "premium" in raw:
            self.problem(path, f"{path} gives both rate_on_line and premium; give one "
                               "(layer premium = rate_on_line * limit, or premium in money)")
        elif "rate_on_line" not in raw and "premium" not in raw:
            self.problem(path, f"{path}.rate_on_line is missing; an XL treaty needs rate_on_line "
                               "(layer premium = rate_on_line * limit) or premium (money; 0 is allowed)")
        elif "rate_on_line" in raw and clean.get("limit") == math.inf:
            self.problem(path, f"{path}.rate_on_line cannot price an unlimited layer (limit = inf); "
                               "give premium in money instead")
        elif "rate_on_line" in raw:
            # a premium of the whole limit or more is never sold: 5 meant 5%, surely
            self.note_percent_like(clean, path, "rate_on_line", "of the limit as the layer premium",
                                   threshold=1.0)
        elif clean.get("premium") is not None and clean["premium"] >= clean.get("limit", math.inf):
            self.note(path, f"{path}.premium = {show(clean['premium'])} is at least the layer's limit "
                            f"({show(clean['limit'])}), a price no layer is bought at; premium is money (a rate "
                            "goes in rate_on_line, as a fraction)")

    def note_unused_aggregate_limit(self, raw: dict, clean: dict, path: str) -> None:
        """A note when the given aggregate_limit exceeds (reinstatements + 1) * limit: the
        reinstatements cap the year's limit, so the part above is never paid (free or further
        reinstatements need reinstatements = k, with reinstatement_premium = 0 if free)."""
        given, limit, reinstatements = (clean.get("aggregate_limit"), clean.get("limit"),
                                        clean.get("reinstatements"))
        if "aggregate_limit" not in raw or None in (given, limit, reinstatements):
            return
        total = (reinstatements + 1) * limit
        if given > total:
            self.note(path, f"{path}.aggregate_limit = {show(given)} is more than (reinstatements + 1) "
                            f"* limit = {show(float(total))}, which caps the limit in the year; the run uses "
                            f"{show(float(total))}. For more limit, raise reinstatements (with "
                            "reinstatement_premium = 0 for free reinstatements)")

    def note_percent_like(self, clean: dict, path: str, key: str, meaning: str,
                          threshold: float = PERCENT_LIKE) -> None:
        """A note when a fraction looks written as a percentage (90 for 90%): valid, as such
        terms are unbounded, but at ``threshold`` (10, i.e. 1,000%, unless a price) or more
        almost surely a slip."""
        value = clean.get(key)
        if value is not None and threshold <= value < math.inf:
            self.note(path, f"{path}.{key} = {value:g} is {value:,.0%} {meaning}; these terms are "
                            f"fractions (0.9 is 90%)")

    def check_stop_loss_premium(self, clean: dict, path: str) -> None:
        if self.line_names is None:
            return
        covered = clean.get("lines") or tuple(self.line_names)
        rates = [self.line_premium_rates.get(name) for name in covered]
        if rates and all(rate == 0 for rate in rates):
            self.problem(path, f"{path}: a stop loss is set as loss ratios of the premium of its lines "
                               f"({', '.join(covered)}), but their premium_rate is 0, so its attachment "
                               "and limit can never apply; give those lines a premium_rate > 0")

    def dynamics(self, value: Any) -> model.Dynamics | None:
        if value is None:
            return model.Dynamics()
        clean = self.table(value, "dynamics", DYNAMICS)
        if clean is None:
            return None
        pattern = clean.get("payment_pattern")
        if pattern is not None:
            if any(share < 0 for share in pattern):
                self.bad_value("dynamics.payment_pattern", list(pattern), "must not hold negative shares")
                clean.pop("payment_pattern")
            elif abs(math.fsum(pattern) - 1.0) > SUM_TOLERANCE:
                self.bad_value("dynamics.payment_pattern", list(pattern),
                               f"sums to {math.fsum(pattern):.12g}; the shares of a year's claims "
                               "paid in each year must sum to 1")
                clean.pop("payment_pattern")
        return model.Dynamics(**clean) if len(clean) == len(DYNAMICS) else None


def build_treaty(clean: dict) -> model.Treaty:
    """A Treaty from the clean keys of one treaty table (all checked)."""
    terms = dict(clean)
    if terms["type"] == "surplus":
        terms["surplus_lines"] = float(terms.pop("lines"))
        terms["lines"] = terms.pop("covered_lines", None)
    if terms["type"] in ("per_risk_xl", "cat_xl"):
        # k reinstatements give (k + 1) * limit in the year, unless the given aggregate is smaller
        terms["aggregate_limit"] = min(terms["aggregate_limit"], (terms["reinstatements"] + 1) * terms["limit"])
    return model.Treaty(**terms)
