"""Scenario files: parsing, defaults, `base` inheritance and every validation message."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from sim import model, scenario
from sim.correlation import correlation_matrix, nearest_correlation
from sim.distributions import Distribution
from sim.errors import ScenarioError
from sim.regulation import DEFAULT_PROBABILITY_BY_RATING

SCENARIOS = Path(__file__).parent.parent / "scenarios"

# ---------------------------------------------------------------- the tiny valid scenario


def test_tiny_scenario_is_valid_and_fully_parsed(tiny_scenario_path):
    loaded = scenario.load(tiny_scenario_path)
    assert loaded.name == "tiny test pool"
    assert loaded.source == str(tiny_scenario_path)
    assert len(loaded.sha256) == 64
    assert loaded.simulation == model.Simulation(trials=200, seed=7, years=1)
    ai, robot = loaded.lines
    assert ai.severity.kind == "lognormal" and ai.damage_ratio is None
    assert robot.damage_ratio.kind == "beta" and robot.severity is None
    assert robot.sum_insured == Distribution.constant(2e6)
    assert robot.limit is None and robot.deductible == 0.0 and robot.capital_class == "other"
    assert loaded.dependence.correlation == (("ai_liability", "robot_liability", 0.5),)
    assert loaded.pool.lead.name == "Lead P&C"
    assert loaded.pool.members[1].reinsurance[0].type == "stop_loss"


def test_defaults_follow_the_contract(tiny_scenario_path):
    loaded = scenario.load(tiny_scenario_path)
    quota_share, per_risk, cat = loaded.pool.reinsurance
    assert per_risk.reinstatements == 0 and per_risk.reinstatement_premium == 1.0
    assert per_risk.reinstatement_basis == "amount" and per_risk.aggregate_deductible == 0.0
    assert per_risk.aggregate_limit == per_risk.limit           # (0 + 1) * limit
    assert cat.aggregate_limit == 2 * cat.limit                  # (1 + 1) * limit
    assert cat.lines == ("ai_liability",) and quota_share.lines is None
    assert loaded.dynamics == model.Dynamics()
    assert loaded.solvency.regime == "c-ross"


def test_rating_sets_the_default_probability(tiny_scenario_path):
    china_re, swiss_re = scenario.load(tiny_scenario_path).reinsurers
    assert china_re.rating == "A"
    assert china_re.default_probability == DEFAULT_PROBABILITY_BY_RATING["A"]
    assert swiss_re.default_probability == 0.0001 and swiss_re.rating is None


def test_aggregate_limit_is_the_smaller_of_given_and_reinstated(tiny_scenario_text, write_scenario):
    text = tiny_scenario_text.replace("reinstatements = 1", "reinstatements = 1\naggregate_limit = 15e6")
    cat = scenario.load(write_scenario(text)).pool.reinsurance[2]
    assert cat.aggregate_limit == 15e6


def test_surplus_lines_is_the_number_of_lines(tiny_scenario_text, write_scenario):
    text = tiny_scenario_text.replace(
        'type = "per_risk_xl"\nretention = 1e6\nlimit = 2e6\nrate_on_line = 0.05',
        'type = "surplus"\nretention = 1e6\nlines = 4\ncommission = 0.25')
    surplus = scenario.load(write_scenario(text)).pool.reinsurance[1]
    assert surplus.type == "surplus" and surplus.surplus_lines == 4.0 and surplus.lines is None


def test_sha256_ignores_formatting_but_not_content(tiny_scenario_text, write_scenario):
    original = scenario.load(write_scenario(tiny_scenario_text, "a.toml")).sha256
    reformatted = scenario.load(write_scenario("# a comment\n" + tiny_scenario_text, "b.toml")).sha256
    changed = scenario.load(write_scenario(tiny_scenario_text.replace("seed = 7", "seed = 8"), "c.toml")).sha256
    assert original == reformatted != changed


def test_loads_reads_text(tiny_scenario_text):
    assert scenario.loads(tiny_scenario_text, source="inline.toml").source == "inline.toml"
    with pytest.raises(ScenarioError) as raised:
        scenario.loads(tiny_scenario_text.replace("trials = 200", "trials = -3"), source="inline.toml")
    assert raised.value.problems == ["inline.toml: simulation.trials = -3 must be >= 1"]


def test_scenario_objects_are_frozen(tiny_scenario_path):
    loaded = scenario.load(tiny_scenario_path)
    with pytest.raises(AttributeError):
        loaded.name = "other"


# ---------------------------------------------------------------- validation messages
# (replace this text of tiny.toml, by this, expected substrings of a problem).
# Each case must give exactly one problem; every message must name the file.
TRIALS, SEED = "trials = 200", "seed = 7"
FOLLOWER_SHARE = "share = 0.4"
QS_PANEL = '{ "China Re" = 0.6, "Swiss Re" = 0.4 }'
STOP_LOSS_PANEL = 'rate = 0.04\npanel = { "Swiss Re" = 1.0 }'
XL = 'type = "per_risk_xl"\nretention = 1e6\nlimit = 2e6\nrate_on_line = 0.05'
CORRELATION = '[["ai_liability", "robot_liability", 0.5]]'
ROBOT_DAMAGE = 'damage_ratio = { dist = "beta", mean = 0.2, sd = 0.1 }'
AI_FREQUENCY = 'frequency = { dist = "poisson", mean = 0.05 }'
AI_SEVERITY = 'severity = { dist = "lognormal", median = 2e5, sigma = 1.0 }'

CASES = [
    # unknown and misspelt keys, with a suggestion
    ("premium_rate = 0.02", "premium_rat = 0.02",
     ["lines[0].premium_rat is not a valid key", "did you mean 'premium_rate'?"]),
    (TRIALS, TRIALS + "\ntrails = 3", ["simulation.trails is not a valid key", "did you mean 'trials'?"]),
    ('name = "tiny pool"', 'name = "tiny pool"\nleadfee = 0.01', ["pool.leadfee", "did you mean 'lead_fee'?"]),
    ("cession = 0.3", "cession = 0.3\nretention = 5",
     ["pool.reinsurance[0].retention is not a valid key of a quota_share treaty",
      "it is a term of surplus, per_risk_xl, cat_xl"]),
    ('currency = "CNY"', 'currency = "CNY"\n[simulaton]\ntrials = 1', ["simulaton is not a valid key",
                                                                      "did you mean 'simulation'?"]),
    (AI_SEVERITY, 'severity = { dist = "lognormal", median = 2e5, sigmaa = 1.0 }',
     ["lines[0].severity.sigmaa is not a parameter of a lognormal distribution", "did you mean 'sigma'?"]),
    # missing required keys
    ("premium_rate = 0.015\n", "", ["lines[1].premium_rate is missing; it is required (a number within [0, 1])"]),
    ("capital = 5e8\n", "", ["pool.members[1].capital is missing"]),
    ("cession = 0.3\n", "", ["pool.reinsurance[0].cession is missing"]),
    ("retention = 1e6\n", "",
     ["pool.reinsurance[1].retention is missing; it is required (a finite number >= 0)"]),
    ('name = "tiny test pool"\n', "", ["name is missing"]),
    # wrong types
    (TRIALS, "trials = true", ["simulation.trials = true must be a whole number (true/false is not a number)"]),
    (TRIALS, "trials = 2e2", ["simulation.trials = 200.0 must be a whole number", "write 200"]),
    ("premium_rate = 0.02", 'premium_rate = "2%"', ['lines[0].premium_rate = "2%" must be a number']),
    ("premium_rate = 0.02", "premium_rate = false", ["lines[0].premium_rate = false must be a number"]),
    ("lead_fee = 0.015", "lead_fee = nan", ["pool.lead_fee = nan must be a number"]),
    # counts
    (TRIALS, "trials = 0", ["simulation.trials = 0 must be >= 1"]),
    (SEED, "seed = -1", ["simulation.seed = -1 must be within [0, 2**64 - 1]"]),
    # the random streams take the seed as an unsigned 64-bit integer
    (SEED, "seed = 18446744073709551616",
     ["simulation.seed = 18446744073709551616 must be within [0, 2**64 - 1]"]),
    ("policies = 50", "policies = 0", ["lines[0].policies = 0 must be >= 1"]),
    ("years = 1", "years = 0", ["simulation.years = 0 must be >= 1"]),
    # shares and sums
    (FOLLOWER_SHARE, "share = 1.2", ["pool.members[1].share = 1.2 must be within [0, 1]"]),
    (FOLLOWER_SHARE, "share = 0.3", ["pool.members: the shares sum to 0.9", "must sum to 1"]),
    ('role = "follower"', 'role = "lead"', ['2 members have role = "lead"', "exactly one member must be the lead"]),
    ('role = "lead"', 'role = "follower"', ['0 members have role = "lead"']),
    ('role = "follower"', 'role = "folower"', ["pool.members[1].role = \"folower\"", "did you mean 'follower'?"]),
    ("expense_ratio = 0.25", "expense_ratio = 1.5", ["pool.members[0].expense_ratio = 1.5 must be within [0, 1]"]),
    # duplicate names
    ('name = "Follower P&C"', 'name = "Lead P&C"',
     ['pool.members[1].name = "Lead P&C" repeats the name of pool.members[0]']),
    ("[solvency]", '[[reinsurers]]\nname = "China Re"\n\n[solvency]',
     ['reinsurers[2].name = "China Re" repeats the name of reinsurers[0]']),
    # panels
    (QS_PANEL, '{ "China Re" = 0.6, "Swiss Rex" = 0.4 }',
     ['pool.reinsurance[0].panel."Swiss Rex": reinsurer "Swiss Rex" is not in [[reinsurers]]',
      "did you mean 'Swiss Re'?"]),
    (QS_PANEL, '{ "China Re" = 0.6, "Swiss Re" = 0.3 }',
     ["pool.reinsurance[0].panel = ", "has shares summing to 0.9"]),
    (QS_PANEL, '{ "China Re" = 1.6, "Swiss Re" = 0.4 }', ['pool.reinsurance[0].panel."China Re" = 1.6 must be']),
    (STOP_LOSS_PANEL, 'rate = 0.04\npanel = { "Swiss Re" = 0.5 }',
     ["pool.members[1].reinsurance[0].panel", "summing to 0.5"]),
    # treaty and catastrophe lines
    ('lines = ["ai_liability"]', 'lines = ["ai_liabilty"]',
     ['pool.reinsurance[2].lines[0] = "ai_liabilty" is not a line of this scenario',
      "did you mean 'ai_liability'?"]),
    ('lines = ["ai_liability", "robot_liability"]', 'lines = ["ai_liability", "drones"]',
     ['catastrophes[0].lines[1] = "drones" is not a line of this scenario']),
    ('lines = ["ai_liability", "robot_liability"]', 'lines = "ai_liability"',
     ["catastrophes[0].lines = \"ai_liability\" must be a non-empty list of line names"]),
    # correlation
    (CORRELATION, '[["ai_liability", "robot_liability", 1.5]]',
     ["dependence.correlation[0][2] = 1.5 must be within [-1, 1]"]),
    (CORRELATION, '[["ai_liability", "robo_liability", 0.5]]',
     ['dependence.correlation[0][1] = "robo_liability" is not a line', "did you mean 'robot_liability'?"]),
    (CORRELATION, '[["ai_liability", "ai_liability", 0.5]]', ["pairs a line with itself"]),
    (CORRELATION, '[["ai_liability", 0.5]]', ["dependence.correlation[0] = [\"ai_liability\", 0.5] must be [line, line, rho]"]),
    ('copula = "t"\ndf = 4', 'copula = "independent"', ['copula = "independent" ignores it']),
    ('copula = "t"', 'copula = "gaussian"', ['dependence.df is given but copula = "gaussian" ignores it']),
    # negative money
    ("retention = 1e6", "retention = -1e6", ["pool.reinsurance[1].retention = -1e6 must be a finite number >= 0"]),
    ("limit = 2e6", "limit = -2e6", ["pool.reinsurance[1].limit = -2e6 must be > 0"]),
    ("deductible = 10_000", "deductible = -5", ["lines[0].deductible = -5 must be a finite number >= 0"]),
    ("capital = 5e8", "capital = -5e8", ["pool.members[1].capital = -5e8 must be a finite number >= 0"]),
    # distributions
    (ROBOT_DAMAGE, 'damage_ratio = { dist = "beta", mean = 0.2, sd = 0.6 }',
     ["lines[1].damage_ratio.sd = 0.6 is too large: a beta distribution with mean 0.2"]),
    (ROBOT_DAMAGE, 'damage_ratio = { dist = "beta", mean = 1.2, sd = 0.1 }',
     ["lines[1].damage_ratio.mean = 1.2 must be within (0, 1)"]),
    (AI_FREQUENCY, 'frequency = { dist = "lognormal", median = 0.05, sigma = 1 }',
     ['lines[0].frequency.dist = "lognormal" must be one of "poisson", "negbin", "bernoulli"']),
    (AI_FREQUENCY, "frequency = 0.05", ["lines[0].frequency = 0.05 must be a table such as"]),
    (AI_FREQUENCY, 'frequency = { dist = "bernoulli", p = 1.5 }', ["lines[0].frequency.p = 1.5 must be within [0, 1]"]),
    (AI_FREQUENCY, 'frequency = { mean = 0.05 }', ["lines[0].frequency.dist is missing"]),
    (AI_FREQUENCY, 'frequency = { dist = "poisson", mean = 0.05, max = 0.2 }',
     ["lines[0].frequency.max = 0.2 must be a whole number >= 1", "caps each policy's claim count in a year"]),
    (AI_FREQUENCY, 'frequency = { dist = "negbin", mean = 0.05, dispersion = 2, max = 1.5 }',
     ["lines[0].frequency.max = 1.5 must be a whole number >= 1"]),
    (AI_SEVERITY, 'severity = { dist = "poisson", mean = 3 }',
     ['lines[0].severity.dist = "poisson"', "for claim counts only"]),
    (AI_SEVERITY, 'severity = { dist = "lognormal", median = 2e5 }',
     ['lines[0].severity.dist = "lognormal" takes the parameters (median, sigma) or (mean, sd)']),
    (ROBOT_DAMAGE, 'damage_ratio = { dist = "gamma", mean = 0.2, sd = 0.1 }',
     ["lines[1].damage_ratio = { dist = \"gamma\", mean = 0.2, sd = 0.1 } can exceed 1", "add max = 1"]),
    (ROBOT_DAMAGE, 'damage_ratio = { dist = "uniform", low = 0.1, high = 1.5 }', ["lines[1].damage_ratio", "can exceed 1"]),
    (ROBOT_DAMAGE, "damage_ratio = 1.5", ["lines[1].damage_ratio = 1.5 must be within [0, 1]"]),
    (ROBOT_DAMAGE, "", ["lines[1].severity is missing; give exactly one of severity", "or damage_ratio"]),
    ("uncertainty = 0.3", "uncertainty = 0.3\ndamage_ratio = 0.5", ["lines[0] gives both severity and damage_ratio"]),
    ("affected_share = { dist = \"beta\", mean = 0.1, sd = 0.05 }", "affected_share = 2",
     ["catastrophes[0].affected_share = 2 must be within [0, 1]"]),
    # choices
    ('type = "quota_share"', 'type = "quota_shares"',
     ['pool.reinsurance[0].type = "quota_shares" must be one of', "did you mean 'quota_share'?"]),
    ('copula = "t"', 'copula = "clayton"', ['dependence.copula = "clayton" must be one of "independent", "gaussian", "t"']),
    ("df = 4", "df = 0", ["dependence.df = 0 must be a finite number > 0"]),
    ("df = 4", "df = -2", ["dependence.df = -2 must be a finite number > 0"]),
    ('regime = "c-ross"', 'regime = "solvency2"', ['solvency.regime = "solvency2" must be one of "c-ross", "var"']),
    ('regime = "c-ross"', 'regime = "C-ROSS"', ["did you mean 'c-ross'?"]),
    ('capital_class = "liability"', 'capital_class = "aerospace"', ['lines[0].capital_class = "aerospace" must be one of']),
    ("reinstatements = 1", 'reinstatements = 1\nreinstatement_basis = "time"',
     ['pool.reinsurance[2].reinstatement_basis = "time" must be one of "amount", "amount_and_time"']),
    ('rating = "A"', 'rating = "a"', ['reinsurers[0].rating = "a" must be one of', "did you mean 'A'?"]),
    # treaty terms
    (XL, XL.replace("\nrate_on_line = 0.05", ""), ["pool.reinsurance[1].rate_on_line is missing", "or premium"]),
    (XL, XL + "\npremium = 1e5", ["pool.reinsurance[1] gives both rate_on_line and premium"]),
    (XL, XL.replace("limit = 2e6", "limit = inf"), ["rate_on_line cannot price an unlimited layer"]),
    (XL, XL.replace("per_risk_xl", "surplus").replace("limit = 2e6\nrate_on_line = 0.05", "lines = 4\nretention = 0")
     .replace("retention = 1e6\n", ""), ["pool.reinsurance[1].retention = 0 must be a finite number > 0"]),
    (XL, 'type = "surplus"\nretention = 1e6\nlines = ["ai_liability"]',
     ["pool.reinsurance[1].lines = [\"ai_liability\"] must be the whole number of lines",
      "on a surplus the lines of business it covers are covered_lines"]),
    (XL, 'type = "surplus"\nretention = 1e6\nlines = 4\ncovered_lines = ["ai_liabilty"]',
     ["pool.reinsurance[1].covered_lines", "ai_liabilty", "did you mean 'ai_liability'?"]),
    ("cession = 0.3", "cession = 1.3", ["pool.reinsurance[0].cession = 1.3 must be within [0, 1]"]),
    # reinsurers
    ('rating = "A"', 'rating = "A"\ndefault_probability = 0.01',
     ['reinsurers[0] gives both rating = "A" and default_probability = 0.01']),
    ("recovery_rate = 0.5\ncapital", "recovery_rate = 1.5\ncapital", ["reinsurers[1].recovery_rate = 1.5 must be within [0, 1]"]),
    # dynamics
    ('regime = "c-ross"', 'regime = "c-ross"\n[dynamics]\npayment_pattern = [0.6, 0.3]',
     ["dynamics.payment_pattern = [0.6, 0.3] sums to 0.9"]),
    ('regime = "c-ross"', 'regime = "c-ross"\n[dynamics]\npayment_pattern = [1.2, -0.2]',
     ["dynamics.payment_pattern = [1.2, -0.2] must not hold negative shares"]),
    # NaN passes every comparison: it would make every figure of the run NaN
    ('regime = "c-ross"', 'regime = "c-ross"\n[dynamics]\npayment_pattern = [nan, 1.0]',
     ["dynamics.payment_pattern = [nan, 1.0] must be a non-empty list of numbers"]),
    ('regime = "c-ross"', 'regime = "c-ross"\n[dynamics]\nreallocation = "equal"',
     ['dynamics.reallocation = "equal" must be one of "pro_rata", "lead"']),
    # structure
    ('name = "Follower P&C"', 'name = "Swiss Re"',
     ['pool.members[1].name = "Swiss Re" is also the name of a reinsurer']),
    ('name = "Follower P&C"', 'name = "pool"',
     ['pool.members[1].name = "pool" is reserved for the pool as a whole']),
]


def _only_case_ids():
    return [f"{index}:{new.splitlines()[0][:40] if new else 'removed ' + old.splitlines()[0][:30]}"
            for index, (old, new, _) in enumerate(CASES)]


@pytest.mark.parametrize("old, new, expected", CASES, ids=_only_case_ids())
def test_each_problem_is_reported_with_file_and_key_path(old, new, expected, tiny_scenario_text, write_scenario):
    assert old in tiny_scenario_text, f"the mutation {old!r} does not apply to tiny.toml"
    path = write_scenario(tiny_scenario_text.replace(old, new, 1), "bad_pool.toml")
    problems = scenario.validate(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: "), problems
    for substring in expected:
        assert substring in problems[0]


@pytest.mark.parametrize("new_name, expected", [
    ("pool", 'reinsurers[0].name = "pool" is reserved for the pool as a whole'),
    ("Lead P&C", 'pool.members[0].name = "Lead P&C" is also the name of a reinsurer'),
])
def test_a_reinsurer_cannot_take_a_party_name_already_used(new_name, expected, tiny_scenario_text,
                                                           write_scenario):
    # the results name each party once: "pool" for the pool, then members, then reinsurers
    text = tiny_scenario_text.replace('name = "China Re"', f'name = "{new_name}"').replace(
        '"China Re" =', f'"{new_name}" =')
    path = write_scenario(text, "renamed_reinsurer.toml")
    problems = scenario.validate(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: {expected}")
    with pytest.raises(ScenarioError):
        scenario.load(path)


@pytest.mark.parametrize("old", ['lines = ["ai_liability", "robot_liability"]', 'lines = ["ai_liability"]'])
def test_every_unknown_line_of_a_list_is_reported(old, tiny_scenario_text, write_scenario):
    # the catastrophe's lines, then the cat XL's
    text = tiny_scenario_text.replace(old, 'lines = ["x", "ai_liability", "y"]', 1)
    problems = scenario.validate(write_scenario(text))
    assert len(problems) == 2, problems
    assert '[0] = "x" is not a line of this scenario' in problems[0]
    assert '[2] = "y" is not a line of this scenario' in problems[1]


def test_a_whole_claim_count_cap_is_valid(tiny_scenario_text, write_scenario):
    text = tiny_scenario_text.replace(AI_FREQUENCY, 'frequency = { dist = "poisson", mean = 0.05, max = 2 }')
    assert scenario.load(write_scenario(text)).lines[0].frequency.cap == 2


def test_the_largest_seed_is_valid(tiny_scenario_text, write_scenario):
    path = write_scenario(tiny_scenario_text.replace(SEED, "seed = 18446744073709551615"))
    assert scenario.load(path).simulation.seed == 2**64 - 1


def test_stop_loss_on_lines_without_premium(tiny_scenario_text, write_scenario):
    text = tiny_scenario_text.replace("premium_rate = 0.015", "premium_rate = 0.0").replace(
        STOP_LOSS_PANEL, STOP_LOSS_PANEL + '\nlines = ["robot_liability"]')
    problems = scenario.validate(write_scenario(text))
    assert len(problems) == 1
    assert "pool.members[1].reinsurance[0]: a stop loss is set as loss ratios" in problems[0]
    assert "premium_rate is 0" in problems[0]


def test_reinsurers_written_as_a_single_table(tiny_scenario_text, write_scenario):
    text = tiny_scenario_text.replace('[[reinsurers]]\nname = "Swiss Re"', '[[reinsurers]]\nname = "Swiss Re"')
    text = text.replace('[[reinsurers]]\nname = "China Re"', '[reinsurer]\nname = "China Re"')
    problems = scenario.validate(write_scenario(text))
    assert any("reinsurer is not a valid key" in problem and "did you mean 'reinsurers'?" in problem
               for problem in problems)


def test_unknown_reinsurer_when_none_declared(tiny_scenario_text, write_scenario):
    text = tiny_scenario_text.split("[[reinsurers]]")[0] + '[solvency]\nregime = "c-ross"\n'
    problems = scenario.validate(write_scenario(text))
    assert problems and all("is not declared; add a [[reinsurers]] table" in problem for problem in problems)


def test_all_problems_are_reported_at_once(tiny_scenario_text, write_scenario):
    text = (tiny_scenario_text.replace("trials = 200", "trials = 0")
            .replace("share = 0.4", "share = 0.4\nfoo = 1")
            .replace('copula = "t"', 'copula = "gauss"'))
    path = write_scenario(text, "three.toml")
    problems = scenario.validate(path)
    assert len(problems) == 3, problems
    assert all(problem.startswith(f"{path}: ") for problem in problems)
    with pytest.raises(ScenarioError) as raised:
        scenario.load(path)
    assert raised.value.problems == problems
    assert "3 problems" in str(raised.value)


def test_missing_sections(write_scenario):
    problems = scenario.validate(write_scenario('name = "empty"\n', "empty.toml"))
    assert [problem.split(": ", 1)[1].split(" ")[0] for problem in problems] == ["simulation", "lines", "pool"]


def test_not_positive_semidefinite_correlation_suggests_the_nearest(tiny_scenario_text, write_scenario):
    text = tiny_scenario_text.replace(
        '[[lines]]\nname = "robot_liability"',
        '[[lines]]\nname = "drone"\npolicies = 5\nsum_insured = 1e6\npremium_rate = 0.01\n'
        'frequency = { dist = "poisson", mean = 0.1 }\nseverity = 1e5\n\n[[lines]]\nname = "robot_liability"'
    ).replace(CORRELATION, '[["ai_liability", "robot_liability", 0.9], ["ai_liability", "drone", 0.9], '
                           '["robot_liability", "drone", -0.9]]')
    problems = scenario.validate(write_scenario(text))
    assert len(problems) == 1, problems
    message = problems[0]
    assert "dependence.correlation is not a valid correlation matrix" in message
    assert "smallest eigenvalue is -" in message
    suggestion = message.split("correlation = ", 1)[1]
    entries = eval(suggestion)   # the suggestion is TOML that is also a Python literal
    matrix = correlation_matrix(["ai_liability", "drone", "robot_liability"], entries)
    assert np.linalg.eigvalsh(matrix)[0] >= 0


def test_nearest_correlation_leaves_a_valid_matrix_alone():
    valid = np.array([[1.0, 0.3], [0.3, 1.0]])
    assert np.allclose(nearest_correlation(valid), valid)


# ---------------------------------------------------------------- files
def test_file_that_does_not_exist(tmp_path):
    missing = tmp_path / "nope.toml"
    assert scenario.validate(missing) == [f"{missing}: no such file"]


def test_a_directory_is_not_a_scenario(tmp_path):
    assert scenario.validate(tmp_path) == [f"{tmp_path}: is a directory, not a scenario file"]


def test_invalid_toml_gives_line_and_column(write_scenario):
    path = write_scenario('name = "x"\n[simulation]\ntrials = \n')
    problems = scenario.validate(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: is not valid TOML")
    assert "line 3, column" in problems[0] and "line 3 reads: trials =" in problems[0]


def test_a_table_written_once_as_a_table_and_once_as_a_list_shows_the_line_and_says_why(write_scenario):
    path = write_scenario('name = "x"\n[pool.reinsurance]\ntype = "quota_share"\n'
                          '[[pool.reinsurance]]\ntype = "cat_xl"\n')
    [problem] = scenario.validate(path)
    assert problem.startswith(f"{path}: is not valid TOML: Cannot overwrite a value (at line 4")
    assert "line 4 reads: [[pool.reinsurance]]" in problem
    assert "written both as [name] and as [[name]]" in problem


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    assert "is not UTF-8 text" in scenario.validate(path)[0]


def test_utf8_with_a_byte_order_mark_is_read(tiny_scenario_text, tmp_path):
    # Windows Notepad saves UTF-8 with a BOM; the scenario and its base are both read
    bom = "\ufeff".encode("utf-8")
    (tmp_path / "tiny.toml").write_bytes(bom + tiny_scenario_text.encode("utf-8"))
    child = tmp_path / "child.toml"
    child.write_bytes(bom + 'base = "tiny.toml"\nname = "子情景"\n'.encode("utf-8"))
    assert scenario.validate(tmp_path / "tiny.toml") == []
    loaded = scenario.load(child)
    assert loaded.name == "子情景" and loaded.pool.lead.name == "Lead P&C"


def test_an_aggregate_limit_above_the_reinstated_limit_is_noted(tiny_scenario_text, write_scenario):
    # the run caps the year's limit at (reinstatements + 1) * limit: the excess is never used
    text = tiny_scenario_text.replace("reinstatements = 1", "reinstatements = 1\naggregate_limit = 1e12")
    loaded = scenario.load(write_scenario(text))
    cat = loaded.pool.reinsurance[2]
    assert cat.aggregate_limit == 2 * cat.limit
    assert [note for note in loaded.notes if "pool.reinsurance[2].aggregate_limit = 1e12 is more than" in note]


def test_an_aggregate_limit_within_the_reinstated_limit_is_not_noted(tiny_scenario_text, write_scenario):
    text = tiny_scenario_text.replace("reinstatements = 1", "reinstatements = 1\naggregate_limit = 15e6")
    assert not [note for note in scenario.load(write_scenario(text)).notes if "aggregate_limit" in note]


def test_premium_fractions_written_as_percentages_are_noted(tiny_scenario_text, write_scenario):
    text = (tiny_scenario_text.replace("attachment = 1.1", "attachment = 90")
            .replace("reinstatements = 1", "reinstatements = 1\nreinstatement_premium = 100"))
    loaded = scenario.load(write_scenario(text))       # valid: a note, not a problem
    notes = "\n".join(loaded.notes)
    assert "pool.members[1].reinsurance[0].attachment = 90 is 9,000% as a loss ratio" in notes
    assert "pool.reinsurance[2].reinstatement_premium = 100 is 10,000% times the layer premium" in notes
    assert loaded.pool.members[1].reinsurance[0].attachment == 90.0
    # the tiny scenario's own terms (110%, 50%, 100%) are not noted, nor an unlimited stop loss
    text = tiny_scenario_text.replace("limit = 0.5\nrate = 0.04", "limit = inf\nrate = 0.04")
    assert not [note for note in scenario.load(write_scenario(text)).notes if "fractions" in note]


def test_a_share_written_as_a_percentage_is_told_it_is_a_fraction(tiny_scenario_text, write_scenario):
    text = tiny_scenario_text.replace("cession = ", "cession = 30 #", 1)
    problems = scenario.validate(write_scenario(text))
    assert [p for p in problems if p.endswith("cession = 30 must be within [0, 1]; a fraction: 0.3 is 30%")], problems
    # 1.2 is a slip, not a percentage: no hint
    text = tiny_scenario_text.replace("cession = ", "cession = 1.2 #", 1)
    assert [p for p in scenario.validate(write_scenario(text)) if p.endswith("cession = 1.2 must be within [0, 1]")]


def test_prices_written_as_percentages_are_noted(tiny_scenario_text, write_scenario):
    # a layer premium or a stop-loss price of its whole limit or premium, or more, is never sold
    text = (tiny_scenario_text.replace("rate_on_line = 0.05", "rate_on_line = 5")
            .replace("limit = 0.5\nrate = 0.04", "limit = 0.5\nrate = 3"))
    notes = "\n".join(scenario.load(write_scenario(text)).notes)
    assert "pool.reinsurance[1].rate_on_line = 5 is 500% of the limit as the layer premium" in notes
    assert "pool.members[1].reinsurance[0].rate = 3 is 300% of the premium as the stop loss's price" in notes
    money = tiny_scenario_text.replace("rate_on_line = 0.05", "premium = 5e8")
    notes = "\n".join(scenario.load(write_scenario(money)).notes)
    assert "pool.reinsurance[1].premium = 5e8 is at least the layer's limit (2e6)" in notes
    # the tiny scenario's own prices (5% and 10% on line, 4%) are not noted
    assert not [note for note in scenario.load(write_scenario(tiny_scenario_text)).notes
                if "price" in note or "premium" in note]


def test_a_domestic_reinsurers_own_solvency_ratio_is_read(tiny_scenario_text, write_scenario):
    text = tiny_scenario_text.replace('name = "China Re"\n', 'name = "China Re"\ndomestic_solvency_ratio = 2.4\n')
    china_re = scenario.load(write_scenario(text)).reinsurers[0]
    assert china_re.name == "China Re" and china_re.domestic_solvency_ratio == 2.4 and china_re.rating == "A"
    assert scenario.load(write_scenario(tiny_scenario_text)).reinsurers[0].domestic_solvency_ratio is None
    assert not [note for note in scenario.load(write_scenario(text)).notes if "domestic_solvency_ratio" in note]
    # 180 meaning 180% would be 18,000% and the best factor (0.008): valid, but noted
    percent = text.replace("domestic_solvency_ratio = 2.4", "domestic_solvency_ratio = 180")
    notes = "\n".join(scenario.load(write_scenario(percent)).notes)
    assert "reinsurers[0].domestic_solvency_ratio = 180 is 18,000% as its own solvency ratio" in notes
    bad = text.replace("domestic_solvency_ratio = 2.4", "domestic_solvency_ratio = -1")
    assert scenario.validate(write_scenario(bad)) == [
        f"{write_scenario(bad)}: reinsurers[0].domestic_solvency_ratio = -1 must be a finite number >= 0"]


def test_a_surplus_may_be_kept_to_some_lines_with_covered_lines(tiny_scenario_text, write_scenario):
    surplus = 'type = "surplus"\nretention = 1e6\nlines = 4\ncovered_lines = ["ai_liability"]'
    text = tiny_scenario_text.replace('type = "per_risk_xl"\nretention = 1e6\nlimit = 2e6\nrate_on_line = 0.05',
                                      surplus)
    treaty = scenario.load(write_scenario(text)).pool.reinsurance[1]
    assert (treaty.type, treaty.surplus_lines, treaty.lines) == ("surplus", 4.0, ("ai_liability",))


def test_more_policies_than_a_run_can_hold_is_a_problem_not_a_killed_process(tiny_scenario_text, write_scenario):
    [first_count] = re.findall(r"policies = ([0-9_]+)", tiny_scenario_text)[:1]
    too_many = tiny_scenario_text.replace(f"policies = {first_count}", "policies = 30_000_000", 1)
    [problem] = scenario.validate(write_scenario(too_many))
    assert "policies in their largest year" in problem and "at most 20,000,000" in problem
    # a hundred years at 20% growth: 1.2^99 = 69 million times the first year's book
    grown = tiny_scenario_text.replace("years = 1\n", "years = 100\n", 1) + \
        "\n[dynamics]\nexposure_growth = 0.2\n"
    [problem] = scenario.validate(write_scenario(grown))
    assert "grown by dynamics.exposure_growth = 0.2 a year over 100 years" in problem
    assert "or a shorter horizon or lower growth" in problem
    assert scenario.validate(write_scenario(grown.replace("years = 100", "years = 5"))) == []
    huge = grown.replace("exposure_growth = 0.2", "exposure_growth = 1e300")      # (1 + g)^99 overflows
    assert "policies in their largest year" in scenario.validate(write_scenario(huge))[0]


# ---------------------------------------------------------------- base inheritance
def test_base_override_replaces_the_whole_table(tiny_scenario_path, write_scenario, tmp_path):
    (tmp_path / "tiny.toml").write_text(tiny_scenario_path.read_text(encoding="utf-8"), encoding="utf-8")
    child = write_scenario('base = "tiny.toml"\nname = "child"\n[simulation]\ntrials = 10\nseed = 1\n', "child.toml")
    loaded = scenario.load(child)
    assert loaded.name == "child"
    assert loaded.simulation == model.Simulation(trials=10, seed=1, years=1)   # years not inherited
    assert loaded.pool == scenario.load(tmp_path / "tiny.toml").pool
    assert loaded.source == str(child)


def test_a_key_missing_from_a_table_that_replaced_the_base_one_says_tables_are_not_merged(
        tiny_scenario_path, write_scenario, tmp_path):
    base = tmp_path / "tiny.toml"
    base.write_text(tiny_scenario_path.read_text(encoding="utf-8"), encoding="utf-8")
    child = write_scenario('base = "tiny.toml"\nname = "child"\n[simulation]\nseed = 7\n', "child.toml")
    [problem] = scenario.validate(child)
    assert problem.startswith(f"{child}: simulation.trials is missing; it is required")
    assert f"replaces the whole [simulation] of its base {base}: tables are not merged" in problem
    # the same table missing a key in a file without a base: no word about bases
    lone = write_scenario(base.read_text(encoding="utf-8").replace("trials = 200", ""), "lone.toml")
    [problem] = scenario.validate(lone)
    assert "simulation.trials is missing" in problem and "base" not in problem


def test_base_chain_and_problems_name_the_file_that_gave_the_key(tiny_scenario_path, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "tiny.toml").write_text(tiny_scenario_path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "middle.toml").write_text('base = "tiny.toml"\nname = "middle"\n[solvency]\nregime = "var"\n')
    child = tmp_path / "sub" / "child.toml"
    child.write_text('base = "../middle.toml"\nname = "child"\n[simulation]\ntrials = 0\nseed = 1\n')
    problems = scenario.validate(child)
    assert problems == [f"{child}: simulation.trials = 0 must be >= 1"]
    child.write_text('base = "../middle.toml"\nname = "child"\n')
    loaded = scenario.load(child)
    assert loaded.name == "child" and loaded.solvency.regime == "var" and loaded.simulation.trials == 200
    (tmp_path / "middle.toml").write_text('base = "tiny.toml"\n[solvency]\nregime = "varr"\n')
    problems = scenario.validate(child)
    middle = tmp_path / "middle.toml"
    assert problems == [f"""{middle} (a base of {child}): solvency.regime = "varr" must be one of "c-ross", "var"; """
                        f"""did you mean 'var'?"""]


def test_base_cycle(write_scenario):
    first = write_scenario('base = "second.toml"\nname = "first"\n', "first.toml")
    write_scenario('base = "first.toml"\nname = "second"\n', "second.toml")
    problems = scenario.validate(first)
    assert len(problems) == 1
    assert "makes a cycle of bases" in problems[0] and "first.toml -> " in problems[0]


def test_base_that_is_itself(write_scenario):
    path = write_scenario('base = "self.toml"\nname = "self"\n', "self.toml")
    assert "makes a cycle of bases" in scenario.validate(path)[0]


def test_base_missing(write_scenario):
    path = write_scenario('base = "gone.toml"\nname = "orphan"\n', "orphan.toml")
    problems = scenario.validate(path)
    assert len(problems) == 1
    assert problems[0].startswith(f'{path}: base = "gone.toml" names a file that does not exist')


def test_base_not_a_string(write_scenario):
    path = write_scenario('base = 3\nname = "x"\n')
    assert 'base = 3 must be a file name' in scenario.validate(path)[0]


def test_sha256_is_of_the_resolved_scenario(tiny_scenario_path, tmp_path):
    (tmp_path / "tiny.toml").write_text(tiny_scenario_path.read_text(encoding="utf-8"), encoding="utf-8")
    child = tmp_path / "child.toml"
    child.write_text('base = "tiny.toml"\n')
    assert scenario.load(child).sha256 == scenario.load(tmp_path / "tiny.toml").sha256


# ---------------------------------------------------------------- the example scenarios
EXAMPLES = sorted(SCENARIOS.glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_scenarios_load(path):
    loaded = scenario.load(path)
    assert loaded.name and loaded.sha256
    assert math.isclose(math.fsum(member.share for member in loaded.pool.members), 1.0, abs_tol=1e-9)
    assert sum(member.role == "lead" for member in loaded.pool.members) == 1
    assert 10_000 <= loaded.simulation.trials <= 50_000
    # keep an example run to a few seconds: a few hundred expected risk losses a trial at most
    expected = sum(line.policies * line.frequency.mean() for line in loaded.lines)
    expected += sum(cat.rate * cat.affected_share.mean()
                    * sum(loaded.lines[loaded.line_index(name)].policies for name in cat.lines)
                    for cat in loaded.catastrophes)
    assert expected < 500


def test_space_launch_pool_has_twenty_members():
    loaded = scenario.load(SCENARIOS / "space_launch.toml")
    assert len(loaded.pool.members) == 20
    assert all(line.capital_class == "special" for line in loaded.lines)
    assert all(line.frequency.kind == "bernoulli" for line in loaded.lines)
    assert all(line.sum_insured.cap <= 2e8 for line in loaded.lines)


def test_first_set_equipment_follows_the_guideline():
    loaded = scenario.load(SCENARIOS / "first_set_equipment.toml")
    assert sum(member.capital for member in loaded.pool.members) >= 20e9
    assert all(line.premium_rate <= 0.03 for line in loaded.lines)


def test_ai_cyber_comparisons_share_the_loss_sections():
    base = scenario.load(SCENARIOS / "ai_cyber_pool.toml")
    assert base.dependence.copula == "t"
    assert {member.share for member in base.pool.members} == {0.2}
    for name in ("ai_cyber_no_cat_xl", "ai_cyber_capital_weighted", "ai_cyber_single_insurer"):
        variant = scenario.load(SCENARIOS / f"{name}.toml")
        assert (variant.lines, variant.dependence, variant.catastrophes, variant.simulation) == \
               (base.lines, base.dependence, base.catastrophes, base.simulation)
        assert variant.pool != base.pool
    weighted = scenario.load(SCENARIOS / "ai_cyber_capital_weighted.toml").pool.members
    total_capital = sum(member.capital for member in weighted)
    assert all(math.isclose(member.share, member.capital / total_capital) for member in weighted)
    single = scenario.load(SCENARIOS / "ai_cyber_single_insurer.toml").pool
    assert len(single.members) == 1 and single.members[0].share == 1.0
    assert [treaty.type for treaty in single.reinsurance] == ["quota_share", "cat_xl"]
    no_cat = scenario.load(SCENARIOS / "ai_cyber_no_cat_xl.toml").pool
    assert [treaty.type for treaty in no_cat.reinsurance] == ["quota_share"]


def test_paths_in_messages_are_as_given(tmp_path, monkeypatch, tiny_scenario_text):
    monkeypatch.chdir(tmp_path)
    Path("bad.toml").write_text(tiny_scenario_text.replace("share = 0.4", "share = 1.2"), encoding="utf-8")
    assert scenario.validate("bad.toml")[0].startswith("bad.toml: pool.members[1].share = 1.2")


def test_the_readme_example_scenario_is_valid(write_scenario):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    loaded = scenario.load(write_scenario(example, "readme_example.toml"))
    assert loaded.reinsurers[0].default_probability == DEFAULT_PROBABILITY_BY_RATING["A"]
