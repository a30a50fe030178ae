"""Plots: PNG files, redrawn from the saved tables, legible with many members."""
import shutil
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim.run_folder import write_run_folder
from sim import plots
from sim.results import Results
from sim.tables import build_results

from synthetic_results import make_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    results = build_results(*make_run(n_trials=3000))
    return write_run_folder(results, tmp_path_factory.mktemp("plots") / "run")


def test_every_plot_is_a_png(written):
    for name in plots.PLOT_FILES:
        assert (written / "plots" / name).read_bytes()[:8] == PNG_MAGIC


def test_plot_results_redraws_from_the_saved_tables(written, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(written, copy)
    shutil.rmtree(copy / "plots")
    paths = plots.plot_results(copy)
    assert sorted(path.name for path in paths) == sorted(plots.PLOT_FILES)
    for path in paths:
        assert path.read_bytes()[:8] == PNG_MAGIC
    assert not [path for path in (copy / "plots").iterdir() if path.name.startswith(".")]


def test_plot_functions_return_titled_figures_with_the_scenario_name(written, tmp_path):
    results = Results.read(written)
    for method in (plots.plot_solvency, plots.plot_loss_ratio, plots.plot_ep_curve, plots.plot_who_pays):
        figure = plots.save(method(results), tmp_path / f"{method.__name__}.png")
        assert isinstance(figure, Figure)
        axes = figure.axes[0]
        assert results.name in axes.get_title()
        assert axes.get_xlabel() and axes.get_ylabel() or axes.get_yticklabels()
        assert (tmp_path / f"{method.__name__}.png").read_bytes()[:8] == PNG_MAGIC
    ep_axes = plots.plot_ep_curve(results).axes[0]
    assert ep_axes.get_xscale() == "log" and "CNY" in ep_axes.get_ylabel()


def test_who_pays_splits_the_gross_loss_exactly(written):
    results = Results.read(written)
    labels, amounts, gross = plots.who_pays(results)
    assert amounts.shape == (3, len(labels))
    np.testing.assert_allclose(amounts.sum(axis=1), gross, rtol=1e-12)
    assert gross[0] <= gross[1] <= gross[2]


def test_trials_near_return_period():
    loss = np.random.default_rng(0).permutation(np.arange(1000.0))
    selected = loss[plots.trials_near_return_period(loss, 10)]
    # exceedance 1/10 ± 10%: ranks 890..909
    assert sorted(selected) == list(np.arange(890.0, 910.0))
    assert len(plots.trials_near_return_period(loss[:50], 250)) == 1


def test_money_scale():
    assert plots.money_scale(2.5e9) == (1e9, "bn")
    assert plots.money_scale(3e7) == (1e6, "m")
    assert plots.money_scale(12.0) == (1.0, "")


def test_twenty_members_plot_without_warnings(tmp_path):
    results = build_results(*make_run(n_trials=500, n_members=20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        folder = write_run_folder(results, tmp_path / "twenty")
    figure = plots.plot_solvency(results)
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert len(labels) == 21 and labels[0] == "Lead P&C"
    assert figure.get_size_inches()[1] >= 0.4 * 21       # a row of height for every member
    assert (folder / "plots" / "solvency.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize("n_trials, years, expected", [
    (1, 1, "1 simulated year"), (2000, 1, "2,000 simulated years"),
    (1, 5, "1 simulated path of 5 years"), (300, 5, "300 simulated paths of 5 years"),
])
def test_titles_count_trials_in_the_singular_for_one(n_trials, years, expected):
    from types import SimpleNamespace

    results = SimpleNamespace(name="tiny pool", n_trials=n_trials, years=years)
    assert plots._title(results, "Solvency").splitlines() == ["tiny pool", "Solvency", expected]


def test_a_member_without_minimum_capital_is_not_said_to_hold_no_risk(tmp_path):
    # premium_rate = 0: the member carries losses, but its C-ROSS minimum capital is 0 and its ratio NaN
    results = build_results(*make_run(n_trials=500))
    follower = results.names_of("member")[1]
    trials = results.trials
    trials.loc[trials["party"] == follower, ["minimum_capital", "solvency_ratio"]] = [0.0, np.nan]
    assert (trials.loc[trials["party"] == follower, "gross_loss"] > 0).any()
    texts = [text.get_text() for text in plots.plot_solvency(results).axes[0].texts]
    assert texts.count("no minimum capital (ratio not defined)") == 1
    assert "no risk held" not in texts


@pytest.mark.parametrize("regime", ["c-ross", "var"])
def test_solvency_plot_uses_the_words_of_its_regime(regime):
    results = build_results(*make_run(n_trials=500, regime=regime))
    assert results.run_info["regime"] == regime
    figure = plots.plot_solvency(results)
    axes = figure.axes[0]
    lines = [line.get_label() for line in axes.get_lines() if not line.get_label().startswith("_")]
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    if regime == "var":
        assert "SCR" in axes.get_xlabel() and "Comprehensive" not in axes.get_xlabel()
        assert not [label for label in lines + legend if "watch list" in label or "120%" in label]
    else:
        assert axes.get_xlabel().startswith("Comprehensive solvency ratio")
        assert "120% regulator's watch list" in lines and "120% regulator's watch list" in legend


CHINESE_NAME = "人工智能责任共保体"


def test_chinese_names_without_a_chinese_font_give_one_note_not_a_warning_per_glyph(tmp_path, capsys):
    if plots.installed_cjk_families():
        pytest.skip("a CJK font is installed: the names are drawn and there is nothing to note")
    results = build_results(*make_run(n_trials=300, name=CHINESE_NAME))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_run_folder(results, tmp_path / "chinese")
    assert not [warning for warning in caught if "missing from font" in str(warning.message)]
    notes = capsys.readouterr().err.splitlines()
    assert len(notes) == 1, notes
    assert notes[0].startswith("poolsim: note: no installed font has Chinese characters")
    assert "fonts-noto-cjk" in notes[0]


def test_latin_names_give_no_font_note(written, tmp_path, capsys):
    plots.plot_results(written)
    assert capsys.readouterr().err == ""


def test_installed_cjk_families_go_ahead_of_dejavu_sans(monkeypatch):
    from matplotlib import font_manager

    fake = font_manager.FontEntry(fname="fake.otf", name="Noto Sans CJK SC")
    monkeypatch.setattr(font_manager.fontManager, "ttflist", font_manager.fontManager.ttflist + [fake])
    assert plots.installed_cjk_families() == ["Noto Sans CJK SC"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # the fake family has no file to draw with
        with plots.legible_text():
            families = list(matplotlib.rcParams["font.sans-serif"])
    assert families[0] == "Noto Sans CJK SC" and families.index("DejaVu Sans") > 0


def test_compare_net_ep_says_which_structures_have_the_same_curve():
    first = build_results(*make_run(n_trials=1000))
    other = build_results(*make_run(n_trials=1000, seed=8))
    figure = plots.plot_compare_net_ep([first, first, other], ["A", "B", "C"])
    lines, labels = figure.axes[0].get_legend_handles_labels()
    assert "B: net AEP (same as A)" in labels and "B: net OEP (same as A)" in labels
    assert "C: net AEP" in labels and "C: net OEP" in labels      # its own curves, said to be no one's
    width = {label: line.get_linewidth() for line, label in zip(lines, labels)}
    # the earlier of two coinciding curves is drawn wider, so it shows around the later one
    assert width["A: net AEP"] > width["B: net AEP (same as A)"]


def test_compare_pricing_draws_each_structure_and_line_that_reprices():
    import types

    def pricing(shares):
        return pd.DataFrame({"line": ["ai"] * 3 + ["robot"] * 3, "year": [1, 2, 3] * 2,
                             "share_within_10pct": shares})

    pooled = types.SimpleNamespace(pricing=pricing([0.2, 0.5, 0.8, 0.1, 0.4, 0.7]))
    alone = types.SimpleNamespace(pricing=pricing([0.2, 0.3, 0.4, 0.1, 0.2, 0.3]))
    unpriced = types.SimpleNamespace(pricing=None)
    figure = plots.plot_compare_pricing([pooled, alone, unpriced], ["pool", "alone", "no pricing"])
    lines = figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["pool: ai", "pool: robot", "alone: ai", "alone: robot"]
    assert list(lines[0].get_ydata()) == [20.0, 50.0, 80.0]        # per cent of paths
    assert list(lines[3].get_ydata()) == [10.0, 20.0, 30.0]
