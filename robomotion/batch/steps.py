"""The steps a batch row can run, by name, and the worker side of a row.

A row starts from a prompt (``generate`` makes the human motion) or from a motion file, then
each requested step that applies runs in :data:`ORDER`: ``generate`` (prompt rows),
``retarget`` (human motions), ``validate`` (robot motions), ``play`` (an ONNX tracking policy
tracks the robot motion, :func:`robomotion.envs.play`). Each step is a :class:`Step` in
:data:`STEPS`; a new step plugs in by adding an entry there (a function
``run(state, options, context)`` and its option names).

Everything here runs in a worker process (local pool or Ray actor). :class:`WorkerContext`
holds what a worker keeps between rows: generator models and policies, loaded once per worker.
Any exception in a step becomes an error row (never raised to the scheduler).
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from robomotion.atomic import write_text
from robomotion.errors import FormatError, RobomotionError

__all__ = [
    "ORDER",
    "STEPS",
    "RowState",
    "RowTask",
    "Step",
    "WorkerContext",
    "check_options",
    "parse_steps",
    "run_row",
]

#: Robot motion output formats a batch can write, with their file suffix.
ROBOT_FORMATS = {"g1-csv": ".csv", "beyondmimic-npz": ".npz"}

#: Options of the play step: the ONNX policy (required; ``--policy`` gives a default), ``seconds``
#: to play at most, ``video`` (true: write ``play/play.mp4``).
PLAY_OPTIONS = ("policy", "seconds", "video")

#: Generator call options a row may set (``generate.<name>``), mapped to the model's keyword names.
GENERATE_OPTIONS = {
    "diffusion_steps": "num_denoising_steps",
    "cfg_type": "cfg_type",
    "cfg_weight": "cfg_weight",
    "postprocess": "postprocess",
    "num_transition_frames": "num_transition_frames",
    "constraints": "constraints",
}


@dataclass(frozen=True)
class RowTask:
    """Everything a worker needs for one row (picklable; paths are absolute).

    Attributes:
        key: content hash of the row's input and options (names its output folder).
        folder: the row's output folder.
        steps: requested steps, in :data:`ORDER`.
        prompt / seed / duration / model: a prompt row's generator inputs (seconds for duration).
        motion: a file row's input motion.
        options: per-step options, ``{"retarget": {"contacts": "detect"}, ...}``.
        robot: robot name; robot_format: a key of :data:`ROBOT_FORMATS`.
        report: ``"html"``: the full validation report (page, plots; ``video`` adds the rollout
            video); ``"json"``: only ``report.json`` (much faster for large datasets).
    """

    key: str
    folder: Path
    steps: tuple[str, ...]
    prompt: str | None = None
    seed: int = 0
    duration: float | None = None
    model: str | None = None
    motion: Path | None = None
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    robot: str = "g1"
    robot_format: str = "g1-csv"
    video: bool = False
    report: str = "html"


@dataclass
class RowState:
    """What the steps of one row hand to each other, and the flat result they build."""

    task: RowTask
    human: Any = None  # HumanMotion
    robot: Any = None  # RobotMotion
    result: dict[str, Any] = field(default_factory=dict)

    def relative(self, path: Path) -> str:
        """``path`` relative to the batch output folder (the parent of ``rows/``), as text."""
        return str(Path(path).relative_to(self.task.folder.parent.parent))


class WorkerContext:
    """Per-worker state: generator models and policies loaded once and reused for every row of this worker."""

    def __init__(self, single_thread: bool = True) -> None:
        self.single_thread = single_thread  # one core per worker; also makes results independent of the engine
        if single_thread:
            from threadpoolctl import threadpool_limits

            self._blas = threadpool_limits(1)
        self._models: dict[str | None, Any] = {}
        self._policies: dict[str, Any] = {}
        self.model_loads = 0
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def policy(self, path: str | Path) -> Any:
        """The ONNX tracking policy at ``path`` (a :class:`robomotion.envs.Policy`), loaded on first use."""
        if str(path) not in self._policies:
            from robomotion.envs.tracking.policy import Policy

            self._policies[str(path)] = Policy(path)
        return self._policies[str(path)]

    def model(self, name: str | None) -> Any:
        """The generator ``name`` (``None``: the default), loaded on first use."""
        if name not in self._models:
            from robomotion.generators import load_model

            if self.single_thread:
                import torch

                torch.set_num_threads(1)
            self._models[name] = load_model(name)
            self.model_loads += 1
        return self._models[name]


# ---------------------------------------------------------------------------------------------
# steps


def _save_robot(state: RowState) -> None:
    from robomotion.formats import save_motion

    task = state.task
    path = save_motion(state.robot, task.folder / f"{task.robot}{ROBOT_FORMATS[task.robot_format]}",
                       format=task.robot_format)
    state.result["robot_file"] = state.relative(path)
    state.result["frames"] = int(state.robot.num_frames)
    state.result["fps"] = float(state.robot.fps)


def _generate(state: RowState, options: dict, context: WorkerContext) -> None:
    from robomotion.formats import save_motion
    from robomotion.motion import HumanMotion

    task = state.task
    model = context.model(task.model)
    kwargs = {GENERATE_OPTIONS[name]: value for name, value in options.items()}
    motion = model(task.prompt, duration=task.duration, seed=task.seed, num_samples=1, progress=False, **kwargs)[0]
    path = save_motion(motion, task.folder / "human.npz", format="kimodo-npz")
    state.result["human_file"] = state.relative(path)
    if isinstance(motion, HumanMotion):
        state.human = motion
    else:  # a model that generates robot motions directly
        state.robot = motion
        _save_robot(state)


def _retarget(state: RowState, options: dict, context: WorkerContext) -> None:
    from robomotion.retarget import retarget_with_report

    outcome = retarget_with_report(state.human, robot=state.task.robot, **options)
    state.robot = outcome.motion
    _save_robot(state)
    quality_path = outcome.quality.save_json(state.task.folder / "retarget_quality.json")
    state.result["retarget_quality_file"] = state.relative(quality_path)
    for name, value in outcome.quality.to_dict().items():
        if name not in ("frames", "fps"):
            state.result[f"retarget.{name}"] = value


def _validate(state: RowState, options: dict, context: WorkerContext) -> None:
    from robomotion.envs.validation import ValidationConfig, validate

    if state.robot is None:
        raise FormatError("is a human motion; validation needs a robot motion (add retarget to --steps)",
                          state.task.motion)
    task = state.task
    config = ValidationConfig.from_dict(options)
    folder = task.folder / "report"
    if task.report == "html":
        report = validate(state.robot, config, report_dir=folder, video=task.video, progress=False)
        state.result["report_html"] = state.relative(report.files["html"])
    else:
        report = validate(state.robot, config, progress=False)
        report.files["json"] = write_text(folder / "report.json",
                                          json.dumps(report.to_dict(), indent=2, default=_json_value) + "\n")
    result = state.result
    result["verdict"] = report.verdict
    result["failures"] = len(report.failures)
    result["warnings"] = len(report.warnings)
    result["worst_finding"] = report.findings[0].message if report.findings else None
    result["report_json"] = state.relative(report.files["json"])
    for check in report.checks:
        result[f"validate.{check.name}.status"] = check.status
        for name, value in check.metrics.items():
            if isinstance(value, str | int | float | bool) or value is None:
                result[f"validate.{check.name}.{name}"] = value


def _json_value(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)


def _play(state: RowState, options: dict, context: WorkerContext) -> None:
    from robomotion.envs.tracking.play import play

    if state.robot is None:
        raise FormatError("is a human motion; the play step needs a robot motion (add retarget to --steps)",
                          state.task.motion)
    folder = state.task.folder / "play"
    result = play(
        context.policy(options["policy"]), motion=state.robot, seconds=options.get("seconds"),
        video=folder / "play.mp4" if options.get("video") else None, report=folder, progress=False,
    )
    state.result.update({
        "play.survived": result.survived,
        "play.fell_at_s": result.fell_at,
        "play.termination": result.termination,
        "play.seconds_played": result.seconds,
        "play.mean_body_error_m": result.mean_body_error,
        "play.max_body_error_m": result.max_body_error,
        "play.saturated_fraction": result.saturated_fraction,
        "play.torque_use_max": max(result.torque_use_max.values()),
        "play.report_json": state.relative(folder / "report.json"),
        "play.video": state.relative(Path(result.video)) if result.video else None,
    })


def _retarget_options() -> set[str]:
    from robomotion.retarget import RetargetConfig

    return {f.name for f in fields(RetargetConfig)}


def _validate_options() -> set[str]:
    from robomotion.envs.validation import ValidationConfig

    return {f.name for f in fields(ValidationConfig)}


@dataclass(frozen=True)
class Step:
    """One step of the table.

    Attributes:
        name: the name used in ``--steps`` and in ``<step>.<option>`` manifest columns.
        run: ``run(state, options, context)``: does the work, writes files in the row folder and
            adds its numbers to ``state.result``.
        options: the option names a row may set for this step (a callable, evaluated lazily).
        applies: whether the step has work in this row (``generate`` only for prompt rows,
            ``retarget`` only for human motions); a step that does not apply is skipped.
    """

    name: str
    run: Callable[[RowState, dict, WorkerContext], None]
    options: Callable[[], set[str]]
    applies: Callable[[RowState], bool] = lambda state: True


#: The step table, in the order the steps run.
STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step("generate", _generate, lambda: set(GENERATE_OPTIONS), lambda state: state.task.prompt is not None),
        Step("retarget", _retarget, _retarget_options, lambda state: state.human is not None),
        Step("validate", _validate, _validate_options),
        Step("play", _play, lambda: set(PLAY_OPTIONS)),
    )
}
ORDER = tuple(STEPS)


def parse_steps(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``"generate,retarget,validate"`` -> the names in :data:`ORDER`; unknown names raise."""
    names = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    unknown = [name for name in names if name not in STEPS]
    if unknown or not names:
        raise RobomotionError(f"--steps takes a comma-separated subset of {','.join(ORDER)}; got '{text}'")
    return tuple(name for name in ORDER if name in names)


def check_options(options: dict[str, dict[str, Any]]) -> None:
    """Raise :class:`FormatError` for an unknown step or an option a step does not have."""
    for step, values in options.items():
        if step not in STEPS:
            raise FormatError(f"unknown step '{step}' in options; steps are {list(ORDER)}", field="options")
        if not isinstance(values, dict):
            raise FormatError(f"options of step '{step}' must be an object, got {values!r}", field="options")
        known = STEPS[step].options()
        unknown = sorted(set(values) - known)
        if unknown:
            raise FormatError(f"unknown option '{step}.{unknown[0]}'; {step} options are {sorted(known)}",
                              field=f"{step}.{unknown[0]}")


def _one_line(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__


def _load_input(state: RowState) -> None:
    from robomotion.formats import load_motion
    from robomotion.motion import HumanMotion

    motion = load_motion(state.task.motion)
    if isinstance(motion, HumanMotion):
        state.human = motion
    else:
        state.robot = motion


def run_row(task: RowTask, context: WorkerContext) -> dict[str, Any]:
    """Run the requested steps of one row; returns its flat result (``status`` ``done`` or ``error``).

    Writes into ``task.folder``; every file is written atomically. The caller writes the
    row's ``result.json`` last, so a row killed half-way never looks done.
    """
    task.folder.mkdir(parents=True, exist_ok=True)
    state = RowState(task)
    state.result.update(status="done", error=None, error_step=None, worker=context.name)
    done: list[str] = []
    start = time.perf_counter()
    step = "load"
    try:
        if task.motion is not None:
            _load_input(state)
        for step in task.steps:
            if not STEPS[step].applies(state):
                continue
            began = time.perf_counter()
            STEPS[step].run(state, task.options.get(step, {}), context)
            state.result[f"seconds.{step}"] = time.perf_counter() - began
            done.append(step)
    except Exception as exc:  # noqa: BLE001 - a failed row is reported, never fatal for the batch
        state.result.update(status="error", error=f"{step}: {_one_line(exc)}", error_step=step)
        if not isinstance(exc, RobomotionError):
            state.result["traceback"] = traceback.format_exc(limit=-4)
    state.result["steps_done"] = ",".join(done)
    state.result["seconds.total"] = time.perf_counter() - start
    state.result["model_loads"] = context.model_loads
    return state.result
