"""poolsim: Monte Carlo simulation of technology-insurance co-insurance pools and their reinsurance.

``import sim`` stays fast: the engine (numba) is imported only when ``sim.run``
is first used, so the scenario tools work without it::

    import sim
    scenario = sim.load("scenarios/ai_cyber_pool.toml")    # validated, frozen objects
    results = sim.run("scenarios/ai_cyber_pool.toml", trials=20_000)
"""
__version__ = "0.1.0"

__all__ = ["__version__", "load", "optimize", "run", "validate"]

# public name -> (module, attribute), imported on first use. (Not `compare`: the
# submodule sim.compare would shadow it; use `from sim.compare import compare`.)
_LAZY = {
    "run": ("sim.runner", "run"),
    "load": ("sim.scenario", "load"),
    "validate": ("sim.scenario", "validate"),
    "optimize": ("sim.optimize_search", "optimize"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module_name, attribute = _LAZY[name]
        return getattr(importlib.import_module(module_name), attribute)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
