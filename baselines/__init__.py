"""Baseline optimizers, written only against hpobench's public API, exactly as a user writes one.

Each module is a single self-contained file with a factory ``make_optimizer(problem, seed)``, so
it runs by path (``hpobench run --optimizer baselines/asha.py``) or by module
(``--optimizer baselines.asha:make_optimizer``):

====================================  ======================================================
``baselines/random_search.py``        random search at full fidelity (Bergstra & Bengio 2012)
``baselines/asha.py``                 ASHA, asynchronous successive halving with resumes (Li et
                                      al. 2020); ``make_hyperband``: its asynchronous Hyperband
                                      variant (brackets drawn as in Hyperband)
``baselines/regularized_evolution.py`` regularized (aging) evolution (Real et al. 2019)
====================================  ======================================================
"""

BASELINES: dict[str, str] = {
    "random_search": "baselines.random_search:make_optimizer",
    "asha": "baselines.asha:make_optimizer",
    "hyperband": "baselines.asha:make_hyperband",
    "regularized_evolution": "baselines.regularized_evolution:make_optimizer",
}
"""Baseline name -> optimizer spec for ``hpobench run --optimizer`` / ``run_suite``."""

__all__ = ["BASELINES"]
