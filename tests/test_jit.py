"""The numba cache: keyed by the package's sources, and how the CLI knows it is cold."""
import numba

from sim import jit


def test_cache_folder_is_named_after_the_package_sources():
    assert f"numba-{jit._source_fingerprint()}" in numba.config.CACHE_DIR


def test_cache_is_warm_only_once_kernels_are_cached(tmp_path, monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "numba-cache"))
    assert not jit.cache_is_warm()
    (tmp_path / "numba-cache" / "sim").mkdir(parents=True)
    assert not jit.cache_is_warm()
    (tmp_path / "numba-cache" / "sim" / "engine._fill-1.py311.nbi").write_bytes(b"index")
    assert jit.cache_is_warm()
