"""The numba cache: keyed by the files that hold kernels, and how the CLI knows it is cold."""
import os
import subprocess
import sys
from pathlib import Path

import re

import numba
import numpy as np
import pytest

from sim.kernels import jit


def test_cache_folder_is_named_after_the_package_sources():
    assert f"numba-{jit._source_fingerprint()}" in numba.config.CACHE_DIR


KERNEL_DECORATOR = re.compile(r"^@(inlined_jit|parallel_jit|jit)\b", re.MULTILINE)


def test_the_cache_key_covers_every_file_that_defines_a_kernel():
    # A kernel in a file outside the key would keep running stale, cached callees after an edit.
    package = Path(jit.__file__).parent.parent
    defining = {path for path in package.rglob("*.py") if KERNEL_DECORATOR.search(path.read_text())}
    assert defining and defining <= set(jit.kernel_files()), sorted(map(str, defining - set(jit.kernel_files())))
    # ...and nothing else: an edit to the command line or the tables recompiles nothing
    assert {path.name for path in jit.kernel_files()} >= {"rng.py", "sampling.py", "trial.py", "passes.py",
                                                          "pool_kernel.py", "treaties.py"}
    assert not {"cli.py", "results.py", "metrics.py", "scenario.py", "engine.py", "pool.py", "programmes.py"} & {
        path.name for path in jit.kernel_files() if path.parent == package}


def test_cache_is_warm_only_once_kernels_are_cached(tmp_path, monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "numba-cache"))
    assert not jit.cache_is_warm()
    folder = jit.kernel_cache_folder()
    assert folder.parent == tmp_path / "numba-cache"
    # another copy of the package (a second checkout) caching its kernels does not make ours warm
    (tmp_path / "numba-cache" / "sim_another_copy").mkdir(parents=True)
    (tmp_path / "numba-cache" / "sim_another_copy" / "engine._fill-1.py311.nbi").write_bytes(b"index")
    assert not jit.cache_is_warm()
    folder.mkdir(parents=True)
    assert not jit.cache_is_warm()
    (folder / "engine._fill-1.py311.nbi").write_bytes(b"index")
    assert jit.cache_is_warm()


def test_the_kernel_cache_folder_is_where_numba_caches_this_package(tmp_path):
    # run a cached kernel of the package in a fresh cache: its index lands in kernel_cache_folder()
    code = ("import numpy as np, sim.kernels.rng as rng, sim.kernels.jit as jit; "
            "rng.uniform(np.ones(4, dtype=np.uint64)); print(jit.kernel_cache_folder())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}, cwd=Path(__file__).parent.parent)
    folder = Path(result.stdout.split()[-1])
    assert folder.parent.parent == tmp_path and any(folder.glob("rng.*.nbi")), list(tmp_path.rglob("*"))


@numba.njit
def _through_an_unowned_view(array, matrix):
    view = jit.unowned(array)
    view[1] = 7.5                       # writes reach the array
    rows = jit.unowned(matrix)
    return (view.shape == array.shape, view.strides == array.strides, view[0], rows[1, 0], rows.sum(),
            rows.strides == matrix.strides)


def test_unowned_view_reads_and_writes_the_same_memory():
    """sim.kernels.jit.unowned: a view without a reference count (for the engine's per-trial calls)."""
    array = np.array([2.0, 3.0, 4.0])
    matrix = np.arange(6.0).reshape(3, 2)
    same_shape, same_strides, first, element, total, same_matrix_strides = _through_an_unowned_view(array, matrix)
    assert same_shape and same_strides and same_matrix_strides
    assert first == 2.0 and array[1] == 7.5
    assert element == 2.0 and total == 15.0
    with pytest.raises(numba.TypingError):       # arrays only
        numba.njit(lambda x: jit.unowned(x))(3.0)
