"""Where rows run: a local process pool (default) or Ray actors (``--ray``).

Both engines have the same small interface, used by :mod:`robomotion.batch.runner`:

* ``capacity``: how many tasks may be in flight at once (one per worker);
* ``submit(task_id, function, payload)``: run ``function(payload, context)`` on an idle worker,
  where ``context`` is the worker's own object made once by ``context_factory()`` (e.g. with
  the generator model loaded once per worker);
* ``wait()``: block until at least one task ends and return their :class:`Completion`\\ s;
* ``close()``.

A task either returns a value, raises (``error``: the function failed, no retry) or loses its
worker (``crash``: the process died, e.g. a segfault or the out-of-memory killer); the runner
retries crashed tasks a bounded number of times. Workers that die are replaced.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from robomotion.errors import BackendUnavailableError, RobomotionError

__all__ = ["Completion", "LocalEngine", "RayEngine", "make_engine"]


@dataclass(frozen=True)
class Completion:
    """The end of one task: ``value`` on success, else ``error`` (it raised) or ``crash`` (worker died)."""

    task_id: Any
    value: Any = None
    error: str | None = None
    crash: str | None = None


def _call(function: Callable, payload: Any, context: Any) -> tuple[Any, str | None]:
    try:
        return function(payload, context), None
    except Exception as exc:  # noqa: BLE001 - reported to the runner as this task's error
        return None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}"


def _worker_main(connection: multiprocessing.connection.Connection, context_factory: Callable[[], Any]) -> None:
    """Loop of a local worker process: make the context once, then run tasks until told to stop.

    Ctrl-C is left to the parent, which stops the workers and still writes the results so far.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    context = context_factory()
    while True:
        message = connection.recv()
        if message is None:
            return
        task_id, function, payload = message
        value, error = _call(function, payload, context)
        connection.send((task_id, value, error))


class _LocalWorker:
    def __init__(self, context: multiprocessing.context.SpawnContext, context_factory: Callable[[], Any]):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, context_factory), daemon=True)
        self.process.start()
        child.close()
        self.task_id: Any = None

    @property
    def busy(self) -> bool:
        return self.task_id is not None


class LocalEngine:
    """``workers`` spawned processes on this machine, each with one task at a time.

    Each worker is a plain :mod:`multiprocessing` process connected by a pipe, so the engine
    knows which task a dying process was running (a :class:`concurrent.futures.ProcessPoolExecutor`
    would break as a whole and lose that).
    """

    def __init__(self, workers: int, context_factory: Callable[[], Any]):
        if workers < 1:
            raise RobomotionError(f"--workers must be at least 1, got {workers}")
        self._mp = multiprocessing.get_context("spawn")
        self._factory = context_factory
        self._workers: list[_LocalWorker | None] = [None] * workers
        self.description = f"local process pool, {workers} worker{'s' if workers > 1 else ''}"

    @property
    def capacity(self) -> int:
        return len(self._workers)

    def submit(self, task_id: Any, function: Callable, payload: Any) -> None:
        for slot, worker in enumerate(self._workers):
            if worker is None or (not worker.busy and not worker.process.is_alive()):
                worker = self._workers[slot] = _LocalWorker(self._mp, self._factory)
            if not worker.busy:
                worker.task_id = task_id
                worker.connection.send((task_id, function, payload))
                return
        raise RuntimeError("no idle worker: submit at most `capacity` tasks before wait()")

    def wait(self) -> list[Completion]:
        busy = [w for w in self._workers if w is not None and w.busy]
        if not busy:
            return []
        ready = set(multiprocessing.connection.wait([w.connection for w in busy] + [w.process.sentinel for w in busy]))
        done = []
        for slot, worker in enumerate(self._workers):
            if worker is None or not worker.busy:
                continue
            if worker.connection in ready or worker.process.sentinel in ready:
                try:
                    if worker.connection.poll():
                        task_id, value, error = worker.connection.recv()
                        worker.task_id = None
                        done.append(Completion(task_id, value, error))
                        continue
                except (EOFError, OSError):
                    pass
                worker.process.join(timeout=5)
                crash = f"worker process died (exit code {worker.process.exitcode})"
                done.append(Completion(worker.task_id, crash=crash))
                worker.connection.close()
                self._workers[slot] = None
        return done

    def close(self) -> None:
        for worker in self._workers:
            if worker is None:
                continue
            try:
                if worker.process.is_alive() and not worker.busy:
                    worker.connection.send(None)
                    worker.process.join(timeout=10)
            except (OSError, BrokenPipeError):
                pass
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
        self._workers = [None] * len(self._workers)


class _RayWorker:
    """The Ray actor: one context, one task at a time."""

    def __init__(self, context_factory: Callable[[], Any]):
        self.context = context_factory()

    def run(self, function: Callable, payload: Any) -> tuple[Any, str | None]:
        return _call(function, payload, self.context)


class RayEngine:
    """Ray actors (one CPU each): ``address="auto"`` joins a running local Ray or starts one;
    any other address (``ray://host:10001``, ``host:6379``) joins that cluster.

    Every node must have robomotion installed and see the manifest's files and the output
    folder at the same paths (a shared file system).
    """

    def __init__(
        self, address: str, workers: int | None, context_factory: Callable[[], Any], tasks: int | None = None
    ):
        if workers is not None and workers < 1:
            raise RobomotionError(f"--workers must be at least 1, got {workers}")
        try:
            import ray
        except ImportError:
            raise BackendUnavailableError("--ray needs Ray: pip install 'robomotion[ray]'") from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            if address == "auto":
                try:
                    ray.init(address="auto", **options)
                except ConnectionError:  # no Ray running here: start one for this batch
                    ray.init(num_cpus=workers, **options)
                    self._started = True
            else:
                try:
                    ray.init(address=address, **options)
                except (ConnectionError, ValueError) as exc:
                    raise RobomotionError(f"--ray {address}: cannot join the Ray cluster ({exc})") from None
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        if tasks:
            workers = min(workers, tasks)
        self._actor_class = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_RayWorker)
        self._factory = context_factory
        self._actors: list[Any] = [self._actor_class.remote(context_factory) for _ in range(workers)]
        self._in_flight: dict[Any, tuple[Any, int]] = {}
        self.description = f"Ray ({ray.get_runtime_context().gcs_address}), {workers} actor{'s' if workers > 1 else ''}"

    @property
    def capacity(self) -> int:
        return len(self._actors)

    def submit(self, task_id: Any, function: Callable, payload: Any) -> None:
        busy = {slot for _, slot in self._in_flight.values()}
        slot = next(s for s in range(len(self._actors)) if s not in busy)
        if self._actors[slot] is None:
            self._actors[slot] = self._actor_class.remote(self._factory)
        self._in_flight[self._actors[slot].run.remote(function, payload)] = (task_id, slot)

    def wait(self) -> list[Completion]:
        ray = self._ray
        if not self._in_flight:
            return []
        ready, _ = ray.wait(list(self._in_flight), num_returns=1)
        done = []
        for reference in ready:
            task_id, slot = self._in_flight.pop(reference)
            try:
                value, error = ray.get(reference)
                done.append(Completion(task_id, value, error))
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError,
                    ray.exceptions.ObjectLostError) as exc:
                done.append(Completion(task_id, crash=f"Ray worker died ({type(exc).__name__})"))
                self._actors[slot] = None  # replaced on the next submit
            except ray.exceptions.RayTaskError as exc:
                done.append(Completion(task_id, error=str(exc).splitlines()[0]))
        return done

    def close(self) -> None:
        for actor in self._actors:
            if actor is not None:
                self._ray.kill(actor)
        self._actors = []
        if self._started:
            self._ray.shutdown()


def make_engine(
    ray: str | None, workers: int | None, context_factory: Callable[[], Any], tasks: int | None = None
) -> LocalEngine | RayEngine:
    """The local pool (``ray=None``; ``workers`` default: the CPU count) or Ray at ``ray``
    (default: the cluster's CPUs); never more workers than ``tasks`` when that is given."""
    if ray is None:
        workers = workers or os.cpu_count() or 1
        return LocalEngine(min(workers, tasks) if tasks else workers, context_factory)
    return RayEngine(ray, workers, context_factory, tasks)
