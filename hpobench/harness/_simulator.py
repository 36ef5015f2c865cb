"""The simulator: runs one optimizer on one task under a protocol, in simulated time only.

Event-driven and deterministic. An event heap keyed by ``(finish time, dispatch sequence)`` holds
the evaluations in flight, so ties finish first-in-first-out. Free workers (lowest index first)
ask the optimizer whenever they are free; see :mod:`hpobench.harness._contract` for the call
order the optimizer sees.

Rules (docs/harness.md explains why):

* **Budget cut.** ``B`` = the protocol's time budget for the task. An evaluation counts, is told
  and is recorded iff it finishes at simulated time ``<= B``. No ``ask`` happens at time ``>= B``
  or once ``max_evaluations`` evaluations have been dispatched. Evaluations that would finish
  after ``B`` are discarded (their number is recorded) and never told; the run then ends at ``B``.
* **Cost.** A new trial pays the table's cumulative runtime up to the fidelity; a resumed trial
  pays ``max(0, cost(f2) - cost(f1))`` on its own seed. Optimizer wall time is measured per call
  and recorded, and added to simulated time only when ``protocol.charge_optimizer_time``.
* **Seeds.** A trial draws its tuning seed from ``(repetition seed, trial id)`` when it starts and
  keeps it when resumed; the optimizer only ever sees tuning-seed values of the objective.
* **Incumbent.** The trial with the best objective among the evaluations at the highest fidelity
  reached so far with a finite objective; a higher fidelity replaces the incumbent at once; on a
  tie the earlier evaluation stays. Each change is scored post hoc: the reported metric averaged
  over the test seeds at full fidelity.
* **Faults.** An exception in ``ask``/``tell``/the factory, a return value that is not a
  ``Suggestion`` or ``None``, an invalid config or fidelity (including NaN), resuming a trial that
  does not exist / is running / already reached that fidelity, a call over the wall-clock limit,
  any other ``BaseException`` but ``KeyboardInterrupt`` (``SystemExit``, ``GeneratorExit``, an
  optimizer's own class) or an :class:`OptimizerFault` raised by a wrapper (the sandbox) ends the
  run with ``RunStatus.FAILED`` and a readable ``stop_reason``; what happened before stays
  recorded.
"""

from __future__ import annotations

import heapq
import inspect
import json
import logging
import math
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpobench._errors import ConfigError, FidelityError, OptimizerError, ProtocolError, TableError
from hpobench.benchmark import Benchmark
from hpobench.harness._contract import Evaluation, OptimizerFactory, Problem, Suggestion
from hpobench.harness._fault import OptimizerFault
from hpobench.harness._oracle import Oracle, make_oracle
from hpobench.harness._protocol import Protocol, get_protocol
from hpobench.harness._provenance import code_sha256, hpobench_version, optimizer_identity
from hpobench.harness._seeding import optimizer_seed, repetition_seed, trial_seed_index
from hpobench.harness._trajectory import (
    RunStatus,
    Trajectory,
    TrajectoryBuilder,
    TrajectoryMeta,
)
from hpobench.harness._watchdog import CallTimeout, Watchdog

__all__ = ["DEFAULT_CALL_TIMEOUT", "check_call_timeout", "check_factory", "run_study"]

logger = logging.getLogger(__name__)

DEFAULT_CALL_TIMEOUT = 60.0
"""Seconds of wall clock one ``ask``, ``tell`` or factory call may take by default."""

_INF = math.inf


class _Fault(Exception):
    """Internal: the optimizer broke the contract; ends the run."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def check_call_timeout(call_timeout: Any) -> float | None:
    """The one check of a per-call wall-clock limit: ``None`` (no limit) or a finite number of
    seconds ``> 0``; returns it as a float (``ProtocolError`` otherwise)."""
    if call_timeout is None:
        return None
    if (
        isinstance(call_timeout, bool)
        or not isinstance(call_timeout, (int, float))
        or not math.isfinite(call_timeout)
        or not call_timeout > 0
    ):
        raise ProtocolError(
            f"call_timeout must be None (no limit) or a finite number of seconds `> 0`, but got "
            f"{call_timeout!r}."
        )
    return float(call_timeout)


def check_factory(factory: Any, *, name: str = "the optimizer factory") -> None:
    """Raise ``OptimizerError`` unless ``factory`` is callable as ``factory(problem, seed)``."""
    if not callable(factory):
        raise OptimizerError(
            f"{name} must be a callable factory(problem, seed) -> Optimizer, but got "
            f"{type(factory).__name__}: {factory!r}."
        )
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return  # builtins and some C callables have no signature; calling will tell
    try:
        sig.bind(object(), 0)
    except TypeError:
        raise OptimizerError(
            f"{name} must accept two positional arguments (problem, seed), but its signature is "
            f"{getattr(factory, '__qualname__', repr(factory))}{sig}."
        ) from None


def info_json(info: Any) -> str:
    """``Suggestion.info`` as the trajectory stores it: sorted compact JSON, ``""`` for None."""
    if info is None:
        return ""
    ok = isinstance(info, Mapping) and all(
        isinstance(k, str)
        and isinstance(v, (int, float, str))
        and not isinstance(v, bool)
        and (not isinstance(v, float) or math.isfinite(v))
        for k, v in info.items()
    )
    if not ok:
        raise _Fault(
            "invalid_suggestion",
            "Suggestion.info must be None or a mapping str -> int | float (finite) | str, but got "
            f"{info!r:.200}.",
        )
    return json.dumps(dict(info), sort_keys=True, separators=(",", ":"))


def _short_exc(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    where = f" (at {tb[-1].filename}:{tb[-1].lineno} in {tb[-1].name})" if tb else ""
    return f"{type(e).__name__}: {e}{where}"


def _prepare(benchmark: str | Benchmark) -> Benchmark:
    if isinstance(benchmark, Benchmark):
        return benchmark
    if isinstance(benchmark, str):
        from hpobench.registry import make

        return make(benchmark)
    raise ProtocolError(
        f"benchmark must be a registered id (e.g. 'fcnet/protein-v1') or a Benchmark, but got "
        f"{type(benchmark).__name__}."
    )


def run_study(
    benchmark: str | Benchmark,
    optimizer: OptimizerFactory,
    protocol: str | Protocol,
    repetition: int,
    *,
    call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
    optimizer_name: str | None = None,
    optimizer_version: str | None = None,
) -> Trajectory:
    """Run ``optimizer`` on one task for one repetition of ``protocol``; return its trajectory.

    Args:
        benchmark: a registered id or a :class:`~hpobench.benchmark.Benchmark`.
        optimizer: ``factory(problem, seed) -> Optimizer`` (see :class:`Optimizer`).
        protocol: a :class:`Protocol` or the name of one (``list_protocols()``).
        repetition: ``>= 0``; with the protocol and task it fixes every seed of the run.
        call_timeout: wall-clock seconds allowed per factory/``ask``/``tell`` call (``None``: no
            limit). Exceeding it ends the run as ``FAILED``. Not part of the protocol: it guards
            against hangs and does not change results of a well-behaved optimizer.
        optimizer_name, optimizer_version: recorded in the metadata (defaults: derived from the
            factory's module and name, and the module's ``__version__``).

    Same inputs give the same trajectory bit for bit, except wall times (see
    :meth:`Trajectory.digest`). Faults of the optimizer never raise: they end the run with a
    recorded reason. Invalid *inputs* (unknown protocol, bad factory signature, bad arguments)
    raise ``ProtocolError`` / ``OptimizerError`` at once.
    """
    proto = get_protocol(protocol)
    if (
        isinstance(repetition, bool)
        or not isinstance(repetition, (int, np.integer))
        or repetition < 0
    ):
        raise ProtocolError(f"`repetition >= 0` (an integer) must hold, but got {repetition!r}.")
    limit = check_call_timeout(call_timeout)
    check_factory(optimizer)
    return run_checked(
        benchmark,
        optimizer,
        proto,
        int(repetition),
        limit=limit,
        optimizer_name=optimizer_name,
        optimizer_version=optimizer_version,
    )


def run_checked(
    benchmark: str | Benchmark,
    optimizer: OptimizerFactory,
    protocol: Protocol,
    repetition: int,
    *,
    limit: float | None,
    optimizer_name: str | None,
    optimizer_version: str | None,
) -> Trajectory:
    """:func:`run_study` for callers that validated its arguments once already (``run_suite``
    checks the factory, timeout and repetitions before it makes jobs); not public."""
    bench = _prepare(benchmark)
    protocol.check_task(bench.id, bench.backend)
    oracle = make_oracle(
        bench, objective=protocol.objective, reported_metric=protocol.reported_metric
    )
    name, version, source_sha = optimizer_identity(optimizer)
    study = _Study(
        oracle=oracle,
        protocol=protocol,
        repetition=repetition,
        factory=optimizer,
        limit=_INF if limit is None else limit,
        optimizer_name=optimizer_name if optimizer_name is not None else name,
        optimizer_version=optimizer_version if optimizer_version is not None else version,
        optimizer_source_sha256=source_sha,
    )
    return study.run()


class _Study:
    def __init__(
        self,
        *,
        oracle: Oracle,
        protocol: Protocol,
        repetition: int,
        factory: OptimizerFactory,
        limit: float,
        optimizer_name: str,
        optimizer_version: str,
        optimizer_source_sha256: str,
    ) -> None:
        bench = oracle.bench
        self.oracle = oracle
        self.protocol = protocol
        self.repetition = repetition
        self.factory = factory
        self.limit = limit
        self.optimizer_name = optimizer_name
        self.optimizer_version = optimizer_version
        self.optimizer_source_sha256 = optimizer_source_sha256
        d = len(bench.space)
        self.reference_runtime = oracle.reference_runtime()
        self.n_full = protocol.n_full(d)
        self.time_budget = protocol.time_budget(d, self.reference_runtime)
        self.max_evaluations = protocol.max_evaluations(d)
        self.rep_seed = repetition_seed(protocol.name, protocol.seed, bench.id, repetition)
        self.opt_seed = optimizer_seed(self.rep_seed)
        self.problem = Problem(
            space=bench.space,
            fidelity=bench.fidelity,
            objective=oracle.objective,
            direction=oracle.direction,
            n_workers=protocol.n_workers,
            time_budget=self.time_budget,
            max_evaluations=self.max_evaluations,
            allow_resume=protocol.allow_resume,
        )

    # The whole event loop lives in one method with local variables: it is the hot path.
    def run(self) -> Trajectory:
        wall0 = time.perf_counter()
        oracle = self.oracle
        problem = self.problem
        fidelity = problem.fidelity
        fvals = fidelity.values
        fpos = {v: i for i, v in enumerate(fvals)}
        top = len(fvals) - 1
        B = self.time_budget
        cap = self.max_evaluations
        charge = self.protocol.charge_optimizer_time
        sign = 1.0 if problem.minimize else -1.0
        rep_seed = self.rep_seed
        n_tune = len(oracle.tuning_seeds)
        query_curve = oracle.bench.query_curve  # the Benchmark interface, nothing else
        objective = oracle.objective
        tuning_seeds = oracle.tuning_seeds
        test_score = oracle.test_score
        limit = self.limit
        pc = time.perf_counter
        heappush, heappop = heapq.heappush, heapq.heappop

        # per-trial state
        t_row: list[int] = []
        t_seed: list[int] = []
        t_fidx: list[int] = []  # fidelity index reached (-1 while the first evaluation runs)
        t_cum: list[float] = []  # cumulative table cost at the reached fidelity
        t_running: list[bool] = []
        t_config: list[dict[str, Any]] = []  # as suggested (a private copy)

        heap: list[tuple[Any, ...]] = []
        free = list(range(problem.n_workers))  # a heap of free worker ids
        log = TrajectoryBuilder(
            space=problem.space, fidelity_values=fvals, tuning_seeds=oracle.tuning_seeds
        )
        record = log.add
        now = 0.0
        seq = 0
        n_dispatched = 0
        opt_wall = 0.0
        n_ask = n_tell = 0
        inc_trial, inc_row, inc_fidx, inc_value, inc_test = -1, -1, -1, _INF, math.nan
        inc_key = _INF  # sign * inc_value
        status: RunStatus | None = None
        reason = ""
        fault = ""

        wd = Watchdog(limit)
        with wd:
            armed = math.isfinite(limit)
            try:
                # -- the factory ---------------------------------------------------------
                t0 = pc()
                if armed:
                    wd.deadline = t0 + limit
                try:
                    opt = self.factory(problem, self.opt_seed)
                except Exception as e:
                    raise _Fault("exception", f"the factory raised {_short_exc(e)}") from e
                finally:
                    if armed:
                        wd.disarm()
                    opt_wall += pc() - t0
                ask = getattr(opt, "ask", None)
                tell = getattr(opt, "tell", None)
                if not callable(ask) or not callable(tell):
                    raise _Fault(
                        "contract",
                        f"the factory must return an object with ask() and tell(suggestion, "
                        f"evaluation) methods, but returned {type(opt).__name__}.",
                    )

                while True:
                    # -- dispatch: every free worker asks until one gets None ----------------
                    while free and n_dispatched < cap and now < B:
                        t0 = pc()
                        if armed:
                            wd.deadline = t0 + limit
                        try:
                            s = ask()
                        except Exception as e:
                            raise _Fault("exception", f"ask() raised {_short_exc(e)}") from e
                        finally:
                            if armed:
                                wd.disarm()
                            ask_wall = pc() - t0
                            opt_wall += ask_wall
                            n_ask += 1
                        if charge:
                            now += ask_wall
                        if s is None:
                            break
                        if not isinstance(s, Suggestion):
                            raise _Fault(
                                "contract",
                                f"ask() must return a Suggestion or None, but returned "
                                f"{type(s).__name__}: {s!r:.200}.",
                            )
                        f = s.fidelity
                        if f is None:
                            fidx = top
                        else:
                            fi = fpos.get(f) if type(f) in (int, float) else None
                            if fi is None:
                                try:
                                    if isinstance(f, bool):
                                        raise FidelityError(
                                            f"fidelity must be a number, but got {f!r}."
                                        )
                                    fi = fidelity.index(f)
                                except FidelityError as e:
                                    raise _Fault(
                                        "invalid_suggestion",
                                        f"ask() suggested an invalid fidelity: {e}",
                                    ) from None
                            fidx = fi
                        if s.info is not None:
                            info_json(s.info)  # fault now, not when the result arrives
                        config = s.config
                        res = s.resume
                        if res is None:
                            tid = len(t_row)
                            sidx = trial_seed_index(rep_seed, tid, n_tune)
                        else:
                            tid = self._check_resume(res, fidx, t_fidx, t_running)
                            sidx = t_seed[tid]
                        try:
                            row, value, cum, curve = query_curve(
                                config,
                                fidelity=fvals[fidx],
                                seed=tuning_seeds[sidx],
                                metric=objective,
                            )
                            if res is None:
                                cfg = dict(config)
                        except ConfigError as e:
                            raise _Fault(
                                "invalid_suggestion", f"ask() suggested an invalid config: {e}"
                            ) from None
                        except Exception as e:  # a config object that is not a proper mapping
                            raise _Fault(
                                "invalid_suggestion",
                                f"ask() suggested an invalid config {config!r:.200}: {_short_exc(e)}",
                            ) from None
                        if res is None:
                            t_row.append(row)
                            t_seed.append(sidx)
                            t_fidx.append(-1)
                            t_cum.append(0.0)
                            t_running.append(True)
                            t_config.append(cfg)
                            prev = -1
                            prev_cum = 0.0
                        else:
                            self._check_same_config(tid, row, config, t_row, t_config)
                            prev = t_fidx[tid]
                            prev_cum = t_cum[tid]
                            t_running[tid] = True
                        cost = cum - prev_cum
                        if not cost >= 0.0:
                            if cost != cost or cum != cum:
                                raise TableError(
                                    f"{oracle.bench.id}: runtime must be a number, but config_id {row}, seed "
                                    f"{oracle.tuning_seeds[sidx]}, fidelity {fvals[fidx]} has {cum!r}."
                                )
                            cost = 0.0
                        w = heappop(free)
                        heappush(heap, (now + cost, seq, w, tid, fidx, s, cost, now, prev, value, cum, curve, ask_wall))  # fmt: skip
                        seq += 1
                        n_dispatched += 1

                    # -- the next completion ------------------------------------------------
                    if not heap:
                        if n_dispatched >= cap:
                            status = RunStatus.COMPLETED
                            reason = f"evaluation cap of {cap} reached"
                        elif now >= B:
                            status = RunStatus.COMPLETED
                            reason = f"time budget of {B:.6g} s reached"
                        else:
                            status = RunStatus.OPTIMIZER_STOPPED
                            reason = "ask() returned None with no evaluation in flight"
                        break
                    if heap[0][0] > B:
                        status = RunStatus.COMPLETED
                        reason = f"time budget of {B:.6g} s reached"
                        now = B
                        break
                    fin, _, w, tid, fidx, s, cost, start, prev, value, cum, curve, ask_wall = heappop(heap)  # fmt: skip
                    if fin > now:
                        now = fin
                    t_running[tid] = False
                    t_fidx[tid] = fidx
                    t_cum[tid] = cum
                    row = t_row[tid]
                    if value == value and (
                        fidx > inc_fidx or (fidx == inc_fidx and sign * value < inc_key)
                    ):
                        inc_trial, inc_row, inc_fidx, inc_value = tid, row, fidx, value
                        inc_key = sign * value
                        inc_test = test_score(row, t_config[tid])
                    record(
                        time=now, start_time=start, trial_id=tid, worker=w, fidelity_index=fidx,
                        resumed_from_index=prev, config_id=row, seed_index=t_seed[tid],
                        value=value, cost=cost, incumbent_trial=inc_trial,
                        incumbent_config_id=inc_row, incumbent_fidelity_index=inc_fidx,
                        incumbent_value=inc_value, incumbent_test_score=inc_test,
                        ask_wall_s=ask_wall, info=info_json(s.info),
                    )  # fmt: skip
                    heappush(free, w)
                    # Sealed: a fresh config and an owned read-only curve, nothing of the table.
                    ev = Evaluation(tid, dict(t_config[tid]), fvals[fidx], value, cost, curve, now)
                    t0 = pc()
                    if armed:
                        wd.deadline = t0 + limit
                    try:
                        tell(s, ev)
                    except Exception as e:
                        raise _Fault("exception", f"tell() raised {_short_exc(e)}") from e
                    finally:
                        if armed:
                            wd.disarm()
                        tw = pc() - t0
                        opt_wall += tw
                        n_tell += 1
                        log.set_tell_wall(tw)
                    if charge:
                        now += tw
            except _Fault as e:
                status, reason, fault = RunStatus.FAILED, e.message, e.kind
                wd.clear()
            except CallTimeout:
                wd.clear()
                status, fault = RunStatus.FAILED, "timeout"
                reason = (
                    f"an optimizer call ran over the wall-clock limit of {limit:.6g} s per call"
                )
            except OptimizerFault as e:  # seen by a wrapper, e.g. the sandbox: already explained
                wd.clear()
                status, reason, fault = RunStatus.FAILED, e.message, e.kind
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # SystemExit, GeneratorExit, an optimizer's own class
                wd.clear()
                status, reason, fault = (
                    RunStatus.FAILED,
                    f"the optimizer raised {_short_exc(e)}",
                    "exception",
                )
        assert status is not None
        if status is RunStatus.FAILED:
            logger.warning("%s rep %d: run failed: %s", oracle.bench.id, self.repetition, reason)
        n_discarded = len(heap)
        timing = {
            "wall_s": time.perf_counter() - wall0,
            "optimizer_wall_s": opt_wall,
            "n_ask_calls": n_ask,
            "n_tell_calls": n_tell,
            "watchdog": wd.mode,
        }
        incumbent = (
            None
            if inc_trial < 0
            else _Incumbent(inc_trial, inc_row, float(fvals[inc_fidx]), inc_value, inc_test)
        )
        return self._trajectory(
            log=log,
            t_config=t_config,
            incumbent=incumbent,
            status=status,
            reason=reason,
            fault=fault,
            end_time=now,
            n_trials=len(t_row),
            n_discarded=n_discarded,
            timing=timing,
        )

    def _check_resume(self, res: Any, fidx: int, t_fidx: list[int], t_running: list[bool]) -> int:
        """The trial id a resume names, or a fault (allowed, existing, finished, goes further)."""
        fvals = self.problem.fidelity.values
        if not self.problem.allow_resume:
            raise _Fault(
                "invalid_suggestion",
                f"ask() suggested resume={res!r}, but protocol {self.protocol.name!r} does not allow "
                "resuming trials (problem.allow_resume is False); suggest resume=None.",
            )
        if (
            isinstance(res, bool)
            or not isinstance(res, (int, np.integer))
            or not 0 <= res < len(t_fidx)
        ):
            raise _Fault(
                "invalid_suggestion",
                f"ask() suggested resume={res!r}, but resume must name an existing trial id "
                f"(0..{len(t_fidx) - 1}) or be None.",
            )
        tid = int(res)
        if t_running[tid]:
            raise _Fault(
                "invalid_suggestion",
                f"ask() suggested resuming trial {tid}, but it is still running; resume a trial only "
                "after tell() returned its evaluation.",
            )
        if fidx <= t_fidx[tid]:
            raise _Fault(
                "invalid_suggestion",
                f"ask() suggested resuming trial {tid} at fidelity {fvals[fidx]!r}, but a resume must go "
                f"beyond the fidelity it reached, {fvals[t_fidx[tid]]!r}.",
            )
        return tid

    @staticmethod
    def _check_same_config(
        tid: int,
        row: int,
        config: Mapping[str, Any],
        t_row: list[int],
        t_config: list[dict[str, Any]],
    ) -> None:
        """A resume must repeat its trial's configuration (the same answering row; without rows,
        an equal configuration)."""
        if row != t_row[tid] or (row < 0 and dict(config) != dict(t_config[tid])):
            raise _Fault(
                "invalid_suggestion",
                f"ask() suggested resuming trial {tid} with config {dict(config)}, but a resume must repeat "
                f"the trial's config {dict(t_config[tid])}.",
            )

    def _trajectory(
        self,
        *,
        log: TrajectoryBuilder,
        t_config: list[dict[str, Any]],
        incumbent: _Incumbent | None,
        status: RunStatus,
        reason: str,
        fault: str,
        end_time: float,
        n_trials: int,
        n_discarded: int,
        timing: Mapping[str, Any],
    ) -> Trajectory:
        oracle = self.oracle
        bench = oracle.bench
        space = bench.space
        inc = incumbent
        meta = TrajectoryMeta(
            protocol=self.protocol,
            benchmark_id=bench.id,
            backend_kind=oracle.backend.kind,
            backend_sha256=oracle.backend.sha256,
            objective=oracle.objective,
            direction=oracle.direction,
            reported_metric=oracle.reported_metric,
            fidelity_name=bench.fidelity.name,
            fidelity_values=tuple(bench.fidelity.values),
            space=space.to_dict(),
            repetition=self.repetition,
            repetition_seed=self.rep_seed,
            optimizer_seed=self.opt_seed,
            tuning_seeds=tuple(oracle.tuning_seeds),
            test_seeds=tuple(oracle.test_seeds),
            reference_runtime=self.reference_runtime,
            n_full=self.n_full,
            time_budget=self.time_budget,
            max_evaluations=self.max_evaluations,
            optimizer_name=self.optimizer_name,
            optimizer_version=self.optimizer_version,
            optimizer_source_sha256=self.optimizer_source_sha256,
            hpobench_version=hpobench_version(),
            code_sha256=code_sha256(),
            status=status,
            stop_reason=reason,
            fault=fault,
            end_time=float(end_time),
            n_evaluations=len(log),
            n_trials=n_trials,
            n_discarded=n_discarded,
            incumbent_trial=None if inc is None else inc.trial,
            incumbent_config_id=None if inc is None else inc.config_id,
            incumbent_fidelity=None if inc is None else inc.fidelity,
            incumbent_value=None if inc is None else float(inc.value),
            incumbent_test_score=None if inc is None else float(inc.test_score),
            incumbent_config=None if inc is None else space.validate(t_config[inc.trial]),
        )
        return Trajectory(meta=meta, table=log.table(t_config), timing=timing)


@dataclass(frozen=True)
class _Incumbent:
    trial: int
    config_id: int
    fidelity: float
    value: float
    test_score: float
