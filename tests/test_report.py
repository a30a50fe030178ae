"""report.html: self-contained, its figures those of summary.csv, and whole in a real browser.

The first tests read the page as text (Python's HTML parser) on a synthetic
run; the browser tests open the report of an example run and of a comparison
in Debian's headless Chromium (through Selenium and chromium-driver) and check
what a reader would see: no console error, every image decoded, the key figures
those of summary.csv, and no network request. Where Chromium cannot be
started they are skipped with a warning that says why, never passed silently.
"""
from __future__ import annotations

import json
import math
import re
import shutil
import sys
import tomllib
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from sim.run_folder import write_run_folder
from sim import cli, report
from sim.report_format import MISSING, MoneyUnit, format_se
from sim.results import FILES, foreign_files
from sim.tables import build_results
from sim.scenario import load, loads, resolved_sha256
from sim.scenario_text import text_as_run
from sim.structure_figure import plot_structure

import browser as browser_tools
from conftest import DATA, REPOSITORY, SCENARIOS
from synthetic_results import make_run

EXAMPLE = SCENARIOS / "ai_cyber_pool.toml"
OTHER_STRUCTURE = SCENARIOS / "ai_cyber_capital_weighted.toml"     # base = ai_cyber_pool.toml


# --------------------------------------------------------------------------- reading a page
class Page(HTMLParser):
    """What a test needs of a report page: its images, links, scripts and figure cells."""

    def __init__(self, html: str):
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.links: list[dict[str, str]] = []
        self.scripts = 0
        self.cells: list[dict[str, str]] = []       # td with data-key: attributes and text
        self.ids: list[str] = []
        self._cell: dict[str, str] | None = None
        self._depth = 0
        self.feed(html)

    def handle_starttag(self, tag, attributes):
        attributes = {name: value or "" for name, value in attributes}
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "img":
            self.images.append(attributes)
        elif tag == "link":
            self.links.append(attributes)
        elif tag == "script":
            self.scripts += 1
        elif tag == "td" and "data-key" in attributes:
            self._cell = dict(attributes, text="", se="")
            self._depth = 0
            self._part = "text"
        elif self._cell is not None and tag == "span":
            self._part = "se" if attributes.get("class") == "se" else "text"

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._cell = {key: value.strip() if isinstance(value, str) else value for key, value in self._cell.items()}
            self.cells.append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[self._part] += data


def page_number(text: str) -> float:
    """A figure as the page prints it, back to a number in its printed unit: ``1,234.5`` -> 1234.5,
    ``0.70%`` -> 0.70, ``−3.2`` -> -3.2."""
    return float(text.replace(",", "").replace("%", "").replace("−", "-").replace("±", "").strip())


def printed_decimals(text: str) -> int:
    digits = text.replace("%", "").strip()
    return len(digits.split(".")[1]) if "." in digits else 0


SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "bn": 1e9, "tn": 1e12}


def page_unit(html: str) -> MoneyUnit:
    """The money unit the page says it prints in ("money in CNY m")."""
    found = re.search(r"money in ([A-Z]{3})(?: (k|m|bn|tn))?\b", html)
    assert found, "the page does not say its money unit"
    return MoneyUnit(found.group(1), SUFFIXES[found.group(2) or ""], found.group(2) or "")


def check_cells_against_summary(cells: list[dict], summary: pd.DataFrame, unit: MoneyUnit) -> int:
    """Every figure cell of a party: its data-value is the summary's value, and its printed text
    is that value rounded as printed (money in ``unit``, ratios in per cent). Returns how many."""
    rows = summary.drop_duplicates("party").set_index("party")
    checked = 0
    for cell in cells:
        party, key = cell.get("data-party"), cell["data-key"]
        if party not in rows.index or key not in rows.columns:
            continue
        expected = float(rows.loc[party, key])
        if cell["text"] == MISSING:
            assert math.isnan(expected), (party, key)
            continue
        assert float(cell["data-value"]) == expected, (party, key, cell["data-value"], expected)
        printed = page_number(cell["text"])
        if cell["text"].endswith("%"):
            shown = expected * 100
        elif cell["text"] == "unlimited":
            assert math.isinf(expected)
            continue
        else:
            shown = expected / unit.divisor
        half_step = 0.5 * 10 ** -printed_decimals(cell["text"])
        assert abs(printed - shown) <= half_step * (1 + 1e-9), (party, key, cell["text"], expected)
        checked += 1
    return checked


# --------------------------------------------------------------------------- a synthetic run
@pytest.fixture(scope="module")
def synthetic_folder(tmp_path_factory):
    results = build_results(*make_run(n_trials=3000))
    return write_run_folder(results, tmp_path_factory.mktemp("report") / "run")


@pytest.fixture(scope="module")
def synthetic_page(synthetic_folder):
    return Page((synthetic_folder / "report.html").read_text(encoding="utf-8"))


def test_a_results_folder_holds_its_report(synthetic_folder):
    html = (synthetic_folder / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "report.html" in FILES and "scenario.toml" in FILES
    assert foreign_files(synthetic_folder) == []


def test_the_page_fetches_nothing(synthetic_page, synthetic_folder):
    """Self-contained: every image inline, no script, no style sheet, no font, no URL to load."""
    assert synthetic_page.images, "the page has no image"
    for image in synthetic_page.images:
        assert image["src"].startswith("data:image/png;base64,"), image["src"][:60]
        assert image.get("alt")
    assert synthetic_page.scripts == 0
    assert [link["href"] for link in synthetic_page.links] == ["data:,"]      # the empty icon, no favicon fetch
    html = (synthetic_folder / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:|//)", html)
    assert "url(" not in html and "@import" not in html


def test_the_key_figures_are_those_of_summary_csv(synthetic_page, synthetic_folder):
    summary = pd.read_csv(synthetic_folder / "summary.csv", keep_default_na=False, na_values=[""])
    unit = page_unit((synthetic_folder / "report.html").read_text(encoding="utf-8"))
    assert unit.header == "CNY k"       # premiums of CNY 150m: thousands or less of the unit
    checked = check_cells_against_summary(synthetic_page.cells, summary, unit)
    # every party has its figures; the treaty table's cells belong to no party
    parties = {cell["data-party"] for cell in synthetic_page.cells if cell["data-party"]}
    assert parties == set(summary["party"])
    assert checked >= 10 * len(summary)


def test_standard_errors_stand_beside_their_figures(synthetic_page, synthetic_folder):
    summary = pd.read_csv(synthetic_folder / "summary.csv").set_index("party")
    cells = {(cell["data-party"], cell["data-key"]): cell for cell in synthetic_page.cells}
    cell = cells[("Lead P&C", "expected_net_loss")]
    expected_se = summary.loc["Lead P&C", "expected_net_loss_se"]
    unit = page_unit((synthetic_folder / "report.html").read_text(encoding="utf-8"))
    assert cell["se"] == f"± {format_se(expected_se, 'money', unit)}"
    ratio = cells[("Lead P&C", "prob_solvency_below_100")]
    assert ratio["se"].startswith("± ") and ratio["se"].endswith("%")


def test_a_small_standard_error_shows_its_digits_not_zero():
    assert format_se(0.00004, "percent", MoneyUnit("CNY", 1e6, "m")) == "0.0040%"
    assert format_se(0.0123, "probability", MoneyUnit("CNY", 1e6, "m")) == "1.23%"
    assert format_se(31_000.0, "money", MoneyUnit("CNY", 1e6, "m")) == "0.031"
    assert format_se(3_100_000.0, "money", MoneyUnit("CNY", 1e6, "m")) == "3.1"


def test_the_sections_come_in_the_order_a_reader_asks(synthetic_folder):
    html = (synthetic_folder / "report.html").read_text(encoding="utf-8")
    order = ["verdict", "figures", "structure", "treaties", "who-pays", "curves", "record"]
    positions = [html.index(f'<section id="{name}"') for name in order]
    assert positions == sorted(positions)


def test_the_verdict_names_each_member_from_its_figures(synthetic_folder):
    summary = pd.read_csv(synthetic_folder / "summary.csv").set_index("party")
    html = (synthetic_folder / "report.html").read_text(encoding="utf-8")
    for member in ("Lead P&C", "Follower 1", "Follower 2"):
        row = summary.loc[member]
        words = re.search(rf"<strong>{re.escape(member.replace('&', '&amp;'))}:</strong>(.*?)</li>", html, re.S)
        assert words, member
        text = words.group(1)
        probability = row["prob_solvency_below_100"]
        if probability > 0:
            assert f"below 100% in {probability:.2%} (± " in text
        assert f"at {row['solvency_ratio_p01']:.1%}" in text


def test_a_member_below_100_in_more_than_half_a_percent_of_years_is_flagged():
    members = pd.DataFrame({"party": ["Weak", "Strong", "Watched"], "prob_solvency_below_100": [0.007, 0.0, 0.001],
                            "prob_solvency_below_100_se": [0.001, 0.0, 0.0003],
                            "solvency_ratio_p01": [0.93, 1.8, 1.1], "solvency_ratio_p01_se": [0.02, 0.01, 0.01],
                            "prob_ruin": [0.0, 0.0, 0.0]})
    verdicts = report.member_verdicts(members, multi_year=False, n_trials=20_000)
    assert [verdict["status"] for verdict in verdicts] == ["at-risk", "sound", "watch"]
    assert verdicts[0]["text"] == ("ratio below 100% in 0.70% (± 0.10%) of years; worst 1% of years at 93.0% "
                                   "(± 2.0%).")
    assert verdicts[1]["text"].startswith("ratio below 100% in none of the 20,000 simulated years")


def test_names_are_escaped(tmp_path):
    results = build_results(*make_run(n_trials=500, name="Pool <b>bold</b> & co"))
    folder = write_run_folder(results, tmp_path / "run", plots=False)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "<b>bold</b>" not in html and "Pool &lt;b&gt;bold&lt;/b&gt; &amp; co" in html


def test_without_plots_the_report_draws_its_own_images(tmp_path):
    folder = write_run_folder(build_results(*make_run(n_trials=500)), tmp_path / "run", plots=False)
    assert not (folder / "plots").exists()
    assert len(Page((folder / "report.html").read_text(encoding="utf-8")).images) == 4


TREATIES = pd.DataFrame({
    "cedant": ["pool", "pool"], "treaty": ["1 quota_share", "2 cat_xl"], "type": ["quota_share", "cat_xl"],
    "ceded_premium": [45e6, 5e6], "reinstatement_premium": [0.0, 1.2e6], "commission": [13.5e6, 0.0],
    "expected_ceded_loss": [16.3e6, 4.1e6], "expected_ceded_loss_se": [1.2e5, 3.3e5],
    "expected_default_loss": [1.0e4, 0.0], "prob_attach": [1.0, 0.081], "prob_exhaust": [0.0, 0.004],
    "cost": [15.2e6, 2.1e6], "ceded_loss_ratio": [0.36, 0.82],
})


def test_the_treaty_table_when_the_folder_has_treaties_csv(synthetic_folder, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(synthetic_folder, folder)
    TREATIES.to_csv(folder / "treaties.csv", index=False)
    assert cli.main(["report", str(folder)]) == 0
    page = Page((folder / "report.html").read_text(encoding="utf-8"))
    cells = {(cell["data-key"], cell["text"]) for cell in page.cells if cell.get("data-party") == ""}
    assert ("cost", "2,100.0") in cells and ("prob_attach", "8.10%") in cells    # CNY k
    assert ("ceded_loss_ratio", "82.0%") in cells and ("treaty", "2 cat_xl") in cells
    assert "treaty-costs" in page.ids


def test_without_treaties_csv_the_page_says_so(synthetic_page, synthetic_folder, tmp_path):
    assert "treaty-costs" in synthetic_page.ids          # a run writes treaties.csv
    folder = tmp_path / "older"                          # a folder from before treaties.csv
    shutil.copytree(synthetic_folder, folder)
    (folder / "treaties.csv").unlink()
    assert cli.main(["report", str(folder)]) == 0
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "treaty-costs" not in Page(html).ids and "has no treaties.csv" in html


def test_poolsim_report_writes_the_page_again(synthetic_folder, tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(synthetic_folder, folder)
    (folder / "report.html").unlink()
    shutil.rmtree(folder / "plots")         # drawn again from the tables, not taken from plots/
    assert cli.main(["report", str(folder)]) == 0
    assert f"report: {folder / 'report.html'}" in capsys.readouterr().out
    page = Page((folder / "report.html").read_text(encoding="utf-8"))
    assert len(page.images) == 4 and len(page.cells) == len(Page(
        (synthetic_folder / "report.html").read_text(encoding="utf-8")).cells)
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        path.name for path in synthetic_folder.iterdir() if path.name != "plots")


def test_poolsim_report_refuses_what_is_not_a_results_folder(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path / "missing")]) == 2
    assert "no such results folder" in capsys.readouterr().err
    (tmp_path / "memo.txt").write_text("hello")
    assert cli.main(["report", str(tmp_path / "memo.txt")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path)]) == 2
    assert "not a results folder (it has no run.json, comparison.json or optimize.json)" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


# --------------------------------------------------------------------------- comparison pieces
def test_a_change_from_the_first_structure_is_marked_for_the_party():
    unit = MoneyUnit("CNY", 1e6, "m")
    worse = report.compared_cell(0.93, math.nan, 0.95, False, True, "percent", unit)
    assert (worse["text"], worse["change"], worse["class"]) == ("93.0%", "−2.0 pp", "worse")
    cheaper = report.compared_cell(8.0e6, 1e5, 9.5e6, False, False, "money", unit)     # a cost: lower is better
    assert (cheaper["text"], cheaper["change"], cheaper["class"]) == ("8.0 (± 0.10)", "−1.5", "better")
    small = report.compared_cell(6_100.0, 5_300.0, math.nan, True, False, "money", unit)
    assert small["text"] == "0.0061 (± 0.0053)"         # not 0.0 beside its standard error
    assert report.compared_cell(0.0, 0.0, 0.0, False, False, "probability", unit)["change"] == "same"
    assert report.compared_cell(0.5, 0.0, 0.5, True, True, "percent", unit)["change"] == ""


def test_the_terms_of_the_structures_side_by_side():
    scenarios = [load(EXAMPLE), load(SCENARIOS / "ai_cyber_no_cat_xl.toml"), load(OTHER_STRUCTURE), None]
    rows = {row["label"]: [(cell["text"], cell["class"]) for cell in row["cells"]]
            for row in report.structure_terms(scenarios)}
    assert rows["Pool: treaty 2"][0][0].startswith("Cat XL CNY 200m xs CNY 50m, 1 reinst., RoL 12.0%; Munich Re 50%")
    assert rows["Pool: treaty 2"][1] == (MISSING, "changed")          # no cat XL
    assert rows["Pool: treaty 2"][2] == (rows["Pool: treaty 2"][0][0], "")
    assert rows["Share of Lead P&C"] == [("20.0% (lead)", ""), ("20.0% (lead)", ""), ("50.0% (lead)", "changed"),
                                         (MISSING, "changed")]


# --------------------------------------------------------------------------- the scenario as run
@pytest.mark.parametrize("path", [EXAMPLE, OTHER_STRUCTURE], ids=["standalone", "with a base"])
def test_the_saved_scenario_resolves_to_the_recorded_sha256(path):
    scenario = load(path)
    text = text_as_run(scenario)
    assert text is not None
    assert resolved_sha256(tomllib.loads(text)) == scenario.sha256
    assert loads(text).sha256 == scenario.sha256
    assert "base" not in tomllib.loads(text)
    if path == EXAMPLE:
        assert text == path.read_text(encoding="utf-8")        # its comments kept


def test_a_scenario_file_changed_since_it_was_read_is_not_saved_as_the_one_run(tmp_path):
    path = tmp_path / "pool.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    scenario = load(path)
    path.write_text(EXAMPLE.read_text(encoding="utf-8").replace("seed = 2026", "seed = 2027"), encoding="utf-8")
    assert text_as_run(scenario) is None


def test_a_report_without_the_scenario_says_why_it_draws_no_structure(synthetic_folder):
    assert not (synthetic_folder / "scenario.toml").exists()      # built in Python: no file
    assert "The scenario was not saved with these results" in (synthetic_folder / "report.html").read_text(
        encoding="utf-8")


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda path: path.stem)
def test_every_example_structure_draws_without_warnings(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = plot_structure(load(path))
    scenario = load(path)
    texts = " ".join(text.get_text() for axes in figure.axes for text in axes.texts)
    for treaty in scenario.pool.reinsurance:
        for reinsurer, _ in treaty.panel:
            assert reinsurer in texts
    assert len(figure.subfigs) == 2 + sum(1 for member in scenario.pool.members if member.reinsurance)


def test_the_templates_ship_with_the_package():
    """``pip install .`` (not editable) installs only what package-data lists besides the modules."""
    configuration = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = configuration["tool"]["setuptools"]["package-data"]["sim"]
    templates = sorted((REPOSITORY / "sim" / "templates").iterdir())
    assert templates
    for template in templates:
        relative = template.relative_to(REPOSITORY / "sim")
        assert any(relative.match(pattern) for pattern in patterns), relative


def test_a_multi_year_report_has_its_year_section_and_fan_charts(tmp_path):
    from sim.runner import run

    folder = run(SCENARIOS / "ai_cyber_five_years.toml", trials=300, out=tmp_path / "run", progress=False).folder
    html = (folder / "report.html").read_text(encoding="utf-8")
    page = Page(html)
    assert "years-table" in page.ids
    captions = [image["alt"] for image in page.images]
    assert captions[-3:] == ["Solvency ratio by year while in the pool", "Capital at each year end",
                             "Members that have left the pool"]
    summary = pd.read_csv(folder / "summary.csv", keep_default_na=False, na_values=[""])
    horizon = summary[summary["year"].isna()]
    assert check_cells_against_summary(page.cells, horizon, page_unit(html)) >= 10 * len(horizon)
    assert "of paths (in some year)" in html or "simulated paths" in html


# --------------------------------------------------------------------------- in a real browser
@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium, or a loud skip saying why there is none."""
    reason = browser_tools.missing()
    if reason:
        message = f"the report's browser tests did not run: {reason}"
        warnings.warn(message)
        print(f"\nWARNING: {message}", file=sys.__stderr__, flush=True)
        pytest.skip(message)
    driver = browser_tools.chromium(tmp_path_factory.mktemp("chromium-profile"), logging=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    from sim.runner import run

    return run(EXAMPLE, trials=2000, out=tmp_path_factory.mktemp("example") / "run", progress=False).folder


@pytest.fixture(scope="module")
def example_comparison(tmp_path_factory):
    from sim.compare import compare

    return compare([EXAMPLE, OTHER_STRUCTURE], out=tmp_path_factory.mktemp("example") / "compare", trials=1000,
                   progress=False)


def open_page(driver, page: Path) -> dict:
    """Open ``page`` from file:// and return what the checks need, the logs read once."""
    browser_tools.console_errors(driver), browser_tools.requested_urls(driver)    # empty the logs of before
    driver.get(page.resolve().as_uri())
    return {
        "errors": browser_tools.console_errors(driver),
        "urls": browser_tools.requested_urls(driver),
        "images": driver.execute_script(
            "return Array.from(document.images).map(image => [image.alt, image.complete, image.naturalWidth])"),
        "cells": driver.execute_script(
            "return Array.from(document.querySelectorAll('td[data-key]')).map(cell => ({"
            "'data-party': cell.dataset.party, 'data-key': cell.dataset.key, 'data-value': cell.dataset.value,"
            "'data-structure': cell.dataset.structure || '',"
            "text: (cell.querySelector('.figure') || cell).innerText.split('\\n')[0].split(' (±')[0].trim()}))"),
    }


def fetched_from_outside(urls: list[str], page: Path) -> list[str]:
    """The requests that are neither the page itself nor an inline data: URI."""
    own = page.resolve().as_uri()
    # chrome:// pages are the browser's own new tab, loaded before the report: not the report's requests
    return [url for url in urls if not (url == own or url.startswith(("data:", "chrome://", "chrome-untrusted://")))]


def test_the_run_report_in_a_browser(browser, example_run):
    page = example_run / "report.html"
    seen = open_page(browser, page)
    assert seen["errors"] == []
    assert fetched_from_outside(seen["urls"], page) == []
    assert len(seen["images"]) == 5          # the structure, who pays, EP curves, solvency, loss ratios
    for alt, complete, width in seen["images"]:
        assert complete and width > 0, alt
    summary = pd.read_csv(example_run / "summary.csv", keep_default_na=False, na_values=[""])
    unit = page_unit((example_run / "report.html").read_text(encoding="utf-8"))
    assert check_cells_against_summary(seen["cells"], summary, unit) >= 10 * len(summary)
    record = json.loads((example_run / "run.json").read_text(encoding="utf-8"))
    assert any("with 2,000 trials the minimum capital" in note for note in record["notes"])
    html = page.read_text(encoding="utf-8")
    assert "with 2,000 trials the minimum capital" in html
    assert record["sha256"] in html and (example_run / "scenario.toml").is_file()


def test_the_comparison_report_in_a_browser(browser, example_comparison):
    folder = example_comparison.folder
    page = folder / "report.html"
    seen = open_page(browser, page)
    assert seen["errors"] == []
    assert fetched_from_outside(seen["urls"], page) == []
    assert len(seen["images"]) == 4          # two structures, the solvency boxes, the net EP curves
    for alt, complete, width in seen["images"]:
        assert complete and width > 0, alt
    table = pd.read_csv(folder / "comparison.csv", keep_default_na=False, na_values=[""])
    cells = [cell for cell in seen["cells"] if cell["data-structure"]]
    checked = 0
    for cell in cells:
        rows = table[(table["scenario"] == cell["data-structure"]) & (table["party"] == cell["data-party"])]
        if cell["data-key"] not in table.columns:       # worked out by the report (cost of reinsurance)
            continue
        assert len(rows) == 1, cell
        expected = float(rows[cell["data-key"]].iloc[0])
        assert float(cell["data-value"]) == expected, cell
        checked += 1
    assert checked >= 5 * 6 * 2          # five columns of summary.csv, the pool and five members, two structures
    html = page.read_text(encoding="utf-8")
    assert 'class="number better"' in html or 'class="number worse"' in html     # the shares moved risk


def test_the_browser_checks_catch_a_page_that_fetches_or_breaks(browser, tmp_path):
    """The checks above can fail: an image from the network, a broken one, a script error."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
                    '<img src="http://127.0.0.1:9/figure.png" alt="remote"><img src="data:image/png;base64,AAAA" '
                    'alt="broken"><script>undefinedFunction()</script></body></html>', encoding="utf-8")
    seen = open_page(browser, page)
    assert seen["errors"]
    assert fetched_from_outside(seen["urls"], page) == ["http://127.0.0.1:9/figure.png"] * len(
        fetched_from_outside(seen["urls"], page))
    assert fetched_from_outside(seen["urls"], page)
    assert [width for _, _, width in seen["images"]] == [0, 0]


# --------------------------------------------------------------------------- an optimisation's page
OPTIMISE = """
[optimize]
objective = "cost"
candidates = 6
min_solvency_ratio_p01 = 1.0
pricing = { loading = 0.3 }

[[optimize.vary]]
key = "pool.reinsurance[2].retention"
min = 2e6
max = 2e7
"""


@pytest.fixture(scope="module")
def example_optimisation(tmp_path_factory):
    from sim.optimize_search import optimize

    folder = tmp_path_factory.mktemp("optimise")
    path = folder / "search.toml"
    path.write_text(f'base = "{(DATA / "tiny.toml").as_posix()}"\n' + OPTIMISE, encoding="utf-8")
    found = optimize(path, out=folder / "found", trials=1000, progress=False)
    return found, folder / "found"


def test_an_optimisation_has_a_self_contained_report_of_the_best_against_the_written(example_optimisation):
    found, folder = example_optimisation
    html = (folder / "report.html").read_text(encoding="utf-8")
    page = Page(html)
    assert {"verdict", "best", "frontier", "structures", "record"} <= set(page.ids)
    assert page.images and all(image["src"].startswith("data:image/png;base64,") for image in page.images)
    assert page.scripts == 0 and not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:|//)", html)
    table = pd.read_csv(folder / "candidates.csv")
    best = found.best
    assert best is not None and f"candidate {best}" in html
    # the costs printed are candidates.csv's
    assert f"{table.loc[0, 'cost']:,.0f}" in html and f"{table.loc[best, 'cost']:,.0f}" in html
    # poolsim report writes the same page again from the folder
    (folder / "report.html").unlink()
    assert cli.main(["report", str(folder)]) == 0
    again = (folder / "report.html").read_text(encoding="utf-8")
    assert f"{table.loc[best, 'cost']:,.0f}" in again


def test_the_optimisation_report_in_a_browser(browser, example_optimisation):
    _, folder = example_optimisation
    page = folder / "report.html"
    seen = open_page(browser, page)
    assert seen["errors"] == []
    assert seen["images"] and all(complete and width > 0 for _, complete, width in seen["images"])
    assert fetched_from_outside(seen["urls"], page) == []
