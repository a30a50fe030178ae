"""sim.column_store: whole-run columns written chunk by chunk, read a column or a block of trials at a time."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from sim.column_store import ColumnStore

N_TRIALS = 10_007


def filled(store: ColumnStore, values: dict[str, np.ndarray], chunk: int, threads: int = 1) -> ColumnStore:
    """``store`` with every array of ``values`` written in chunks of ``chunk`` trials, last chunk first."""
    for name, array in values.items():
        store.create(name, array.shape[1], array.dtype)
    starts = list(range(0, N_TRIALS, chunk))[::-1]

    def write(first: int) -> None:
        for name, array in values.items():
            store.write(name, first, array[first:first + chunk])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, starts))
    return store


@pytest.fixture
def values():
    rng = np.random.default_rng(7)
    return {"loss": rng.lognormal(size=(N_TRIALS, 4)), "band": rng.integers(0, 5, (N_TRIALS, 3)).astype(np.int8),
            "one": rng.normal(size=(N_TRIALS, 1))}


@pytest.mark.parametrize("on_disk", [True, False])
@pytest.mark.parametrize("chunk, threads", [(1_000, 1), (333, 2), (N_TRIALS, 1)])
def test_what_is_written_in_any_order_reads_back_to_the_bit(tmp_path, values, on_disk, chunk, threads):
    store = filled(ColumnStore(N_TRIALS, tmp_path / "kept" if on_disk else None), values, chunk, threads)
    for name, array in values.items():
        for column in range(array.shape[1]):
            np.testing.assert_array_equal(store.column(name, column), array[:, column], strict=True)
            np.testing.assert_array_equal(store.column(name, column, slice(17, 4_000)), array[17:4_000, column],
                                          strict=True)
        block = store.rows(name, slice(9_000, None))
        assert block.flags.c_contiguous
        np.testing.assert_array_equal(block, array[9_000:], strict=True)
        last = array.shape[1] - 1
        np.testing.assert_array_equal(store.rows(name, columns=[last, 0]), array[:, [last, 0]], strict=True)
        with pytest.raises(IndexError):
            store.column(name, last + 1)
    store.close()


def test_the_files_hold_a_column_after_another_and_go_with_the_store(tmp_path, values):
    folder = tmp_path / "kept"
    store = filled(ColumnStore(N_TRIALS, folder), values, 4_096)
    on_disk = np.fromfile(folder / "loss.bin", dtype=np.float64).reshape(4, N_TRIALS)
    np.testing.assert_array_equal(on_disk, values["loss"].T)
    store.drop("loss")
    assert "loss" not in store and not (folder / "loss.bin").exists()
    store.close()
    assert not folder.exists()


def test_a_column_cut_short_on_disk_is_an_error_not_zeros(tmp_path, values):
    folder = tmp_path / "kept"
    store = filled(ColumnStore(N_TRIALS, folder), values, N_TRIALS)
    with open(folder / "loss.bin", "r+b") as file:
        file.truncate(8 * N_TRIALS * 3 + 100)
    with pytest.raises(OSError, match="ends early"):
        store.column("loss", 3)
    store.close()


@pytest.mark.parametrize("on_disk", [True, False])
def test_rows_outside_the_run_or_read_with_a_step_are_refused(tmp_path, on_disk):
    """On disk an off-by-one chunk would overwrite the next column's first trials: it must be an error."""
    store = ColumnStore(N_TRIALS, tmp_path / "kept" if on_disk else None)
    store.create("loss", 2)
    with pytest.raises(IndexError, match="outside"):
        store.write("loss", N_TRIALS - 5, np.ones((6, 2)))
    with pytest.raises(IndexError, match="outside"):
        store.write("loss", -1, np.ones((1, 2)))
    store.write("loss", N_TRIALS - 5, np.ones((5, 2)))
    with pytest.raises(ValueError, match="runs of trials"):
        store.column("loss", 0, slice(0, 100, 2))
    store.close()
