"""Benchmark rules of the reset-based VOT editions: one record per edition, the single source.

The run loop (:func:`toolkit.protocols.run_vot`), the result files (:mod:`toolkit.results`) and the
metrics of both scoring conventions (:mod:`toolkit.evaluation.ar`, :mod:`.eao`,
:mod:`.vot_official`, the report) read their rules here: how many frames are skipped after a
failure, the burn-in, the result codes, the EAO interval. Adding an edition is one entry in
:data:`RULES`, e.g. for a VOT2020-style stack with another interval::

    RULES["VOT2020"] = replace(VOT_RULES, name="VOT2020", eao_interval=(115, 755),
                               official_eao_interval=(115, 755))

Datasets without an entry (any VOT-style folder) run under :data:`VOT_RULES` and are scored once
an EAO interval is given (``tools/eval.py --eao-interval``). One-pass (OPE, GOT-10k) and long-term
runs have no failure rule; long-term trajectories start with :data:`CODE_INIT`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: Result codes of a reset-based trajectory (PySOT's and the VOT toolkit's files): the frame where
#: the tracker was (re-)initialised, the frame where it failed, and a skipped frame (``0`` is the
#: official toolkit's "unknown").
CODE_INIT, CODE_FAILURE, CODE_SKIP = 1, 2, 0
#: The scoring / overlap conventions: PySOT's toolkit and the official VOT toolkit 0.7.4.
CONVENTIONS = ("pysot", "vot")


@dataclass(frozen=True)
class VOTRules:
    """The rules of one reset-based (supervised) VOT edition.

    Attributes:
        name: the edition (a dataset name, e.g. ``'VOT2018'``).
        skip: re-initialise this many frames after a failure: the failure frame writes
            ``code_failure``, the ``skip - 1`` frames in between write ``code_skip``. EAO cuts runs
            at the same restarts.
        burnin: frames not scored for accuracy from each (re-)initialisation on, the
            initialisation frame included.
        failure_overlap: at run time a frame fails when its overlap with the ground truth is
            ``<=`` this value.
        convention: the overlap convention of the failure rule at run time: ``'pysot'`` (PySOT's
            ``tools/test.py``: the VOT C library's rasterised overlap with the image bounds,
            :func:`toolkit.evaluation.region.vot_overlap`) or ``'vot'`` (the official toolkit's).
        code_init, code_failure, code_skip: the codes written to the trajectory.
        eao_interval: PySOT's EAO interval ``(low, high)`` (1-based inclusive sequence lengths),
            ``None`` where PySOT has none.
        official_eao_interval: the official toolkit stack's interval, ``None`` where it has none.
        repetitions: runs of the baseline experiment; PySOT's evaluation uses every run only when
            there are exactly this many, else the first.
        sensitivity: the official AR robustness ``exp(-sensitivity * failures / length)``.
    """

    name: str = "VOT"
    skip: int = 5
    burnin: int = 10
    failure_overlap: float = 0.0
    convention: str = "pysot"
    code_init: int = CODE_INIT
    code_failure: int = CODE_FAILURE
    code_skip: int = CODE_SKIP
    eao_interval: tuple[int, int] | None = None
    official_eao_interval: tuple[int, int] | None = None
    repetitions: int = 15
    sensitivity: float = 30.0

    def __post_init__(self) -> None:
        if self.convention not in CONVENTIONS:
            known = ", ".join(CONVENTIONS)
            raise ValueError(f"VOTRules {self.name}: unknown convention {self.convention!r}; known: {known}")
        if self.skip < 1 or self.burnin < 0:
            raise ValueError(
                f"VOTRules {self.name}: skip must be >= 1 and burnin >= 0, got {self.skip}, {self.burnin}"
            )

    def interval(self, convention: str = "pysot") -> tuple[int, int] | None:
        """The EAO interval in a scoring convention: the official stack's for ``'vot'`` when it has
        one, else PySOT's; ``None`` when neither is known."""
        if convention == "vot" and self.official_eao_interval is not None:
            return self.official_eao_interval
        return self.eao_interval


#: The rules every reset-based run follows unless its edition says otherwise (PySOT's
#: ``tools/test.py``: skip 5, burn-in 10, failure at overlap <= 0).
VOT_RULES = VOTRules()

#: The known editions, by dataset name (the order lists them in messages).
RULES: dict[str, VOTRules] = {
    "VOT2015": replace(VOT_RULES, name="VOT2015", official_eao_interval=(108, 371)),
    "VOT2016": replace(VOT_RULES, name="VOT2016", eao_interval=(108, 371), official_eao_interval=(108, 371)),
    "VOT2017": replace(VOT_RULES, name="VOT2017", eao_interval=(100, 356), official_eao_interval=(100, 356)),
    "VOT2018": replace(VOT_RULES, name="VOT2018", eao_interval=(100, 356), official_eao_interval=(100, 356)),
    "VOT2019": replace(VOT_RULES, name="VOT2019", eao_interval=(46, 291), official_eao_interval=(46, 291)),
    # the project's synthetic VOT-style benchmark (several videos >= 360 frames): VOT2018's interval
    "SYNTH-VOT": replace(VOT_RULES, name="SYNTH-VOT", eao_interval=(100, 356)),
}


def rules_for(dataset_name: str) -> VOTRules:
    """The rules of a dataset: its edition's entry in :data:`RULES`, else :data:`VOT_RULES` (with
    the dataset's name and no EAO interval)."""
    rules = RULES.get(dataset_name)
    return rules if rules is not None else replace(VOT_RULES, name=dataset_name)


def eao_interval(dataset_name: str, convention: str = "pysot") -> tuple[int, int]:
    """The EAO interval of a dataset in a scoring convention (:meth:`VOTRules.interval`); a dataset
    without one raises ``KeyError`` listing the datasets that have one."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown scoring convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    interval = rules_for(dataset_name).interval(convention)
    if interval is None:
        known = [n for n, r in RULES.items() if r.interval(convention) is not None]
        raise KeyError(f"no EAO interval for dataset {dataset_name!r}; known: {', '.join(known)}")
    return interval


def official_eao_intervals() -> dict[str, tuple[int, int]]:
    """``{edition: interval}`` of the official toolkit's stacks, from :data:`RULES`."""
    return {n: r.official_eao_interval for n, r in RULES.items() if r.official_eao_interval is not None}


def pysot_eao_intervals() -> dict[str, tuple[int, int]]:
    """``{dataset: interval}`` of PySOT's EAO intervals, from :data:`RULES`."""
    return {n: r.eao_interval for n, r in RULES.items() if r.eao_interval is not None}
