"""The model-call API every text-to-motion generator implements.

A generator is called like a Kimodo model::

    motions = model("A person walks forward.", duration=5.0, num_samples=2, seed=0)

and returns one motion per sample: :class:`~robomotion.motion.HumanMotion` on the model's
skeleton (30 fps for all built-in models), or :class:`~robomotion.motion.RobotMotion` for
robot-native models. Argument checking and normalisation happen once here
(:meth:`Generator.make_request`); subclasses implement :meth:`Generator.generate`.

Rules (Kimodo's):

* ``prompts``: one string or a list; a list is a *timeline* of consecutive segments, each
  later segment starting from the previous one's last ``num_transition_frames`` frames.
* ``num_frames`` or ``duration`` (seconds, ``frames = int(duration * fps)``), one value for
  every prompt or one per prompt; default 5 s per prompt.
* ``cfg_type`` ``nocfg`` / ``regular`` / ``separated``; ``cfg_weight`` one float (regular) or
  two (separated: text, constraint). Weights alone infer the type from their count; ``nocfg``
  with weights is an error.
* ``constraints``: typed constraints (:mod:`robomotion.generators.constraints`) or the path
  of a Kimodo constraints JSON; frame indices count over the whole timeline.
* ``seed``: the same seed gives the same motions; samples of one call differ.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from robomotion.errors import FormatError, RobomotionError
from robomotion.generators.constraints import Constraint, load_constraints
from robomotion.generators.sampling import CFG_TYPES
from robomotion.generators.text_encoder import sanitize_prompt
from robomotion.motion import HumanMotion, RobotMotion
from robomotion.skeleton import Skeleton

__all__ = ["GenerationRequest", "Generator", "DEFAULT_DURATION"]

#: Seconds per prompt when neither ``num_frames`` nor ``duration`` is given (kimodo_gen's default).
DEFAULT_DURATION = 5.0


@dataclass(frozen=True)
class GenerationRequest:
    """A validated model call.

    Attributes:
        prompts: sanitised prompts, one per timeline segment.
        num_frames: frames per segment.
        num_samples: independent samples.
        seed: random seed, or None for a fresh random one.
        constraints: typed constraints on the whole timeline.
        cfg_type: ``nocfg`` / ``regular`` / ``separated``, or None for the model default.
        cfg_weight: guidance weights (1 for regular, 2 for separated), or None for defaults.
        num_denoising_steps: sampler steps, or None for the model default.
        postprocess: run foot-skate cleanup and exact constraint hitting.
        num_transition_frames: frames shared between consecutive segments.
        progress: show progress bars.
        planner: let a model with a text planner turn direction/speed/turn/side words into
            constraints (``robomotion-small``: :mod:`robomotion.generators.planner`).
    """

    prompts: tuple[str, ...]
    num_frames: tuple[int, ...]
    num_samples: int = 1
    seed: int | None = None
    constraints: tuple[Constraint, ...] = ()
    cfg_type: str | None = None
    cfg_weight: tuple[float, ...] | None = None
    num_denoising_steps: int | None = None
    postprocess: bool = True
    num_transition_frames: int = 5
    progress: bool = True
    planner: bool = True

    @property
    def total_frames(self) -> int:
        return sum(self.num_frames)


def _as_list(value, name: str) -> list:
    if isinstance(value, (str, bytes)):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return [value]


def _resolve_cfg(cfg_type: str | None, cfg_weight) -> tuple[str | None, tuple[float, ...] | None]:
    weights = None
    if cfg_weight is not None:
        weights = tuple(float(w) for w in _as_list(cfg_weight, "cfg_weight"))
        if len(weights) not in (1, 2):
            raise RobomotionError(f"cfg_weight takes one value (regular) or two (separated), got {len(weights)}")
    if cfg_type is not None and cfg_type not in CFG_TYPES:
        raise RobomotionError(f"cfg_type must be one of {list(CFG_TYPES)}, got {cfg_type!r}")
    if cfg_type == "nocfg" and weights:
        raise RobomotionError("cfg_type 'nocfg' takes no cfg_weight")
    if cfg_type is None and weights:
        cfg_type = "regular" if len(weights) == 1 else "separated"
    if cfg_type == "regular" and weights and len(weights) != 1:
        raise RobomotionError(f"cfg_type 'regular' takes one weight, got {len(weights)}")
    if cfg_type == "separated" and weights and len(weights) != 2:
        raise RobomotionError(f"cfg_type 'separated' takes two weights (text, constraint), got {len(weights)}")
    return cfg_type, weights


def _check_constraint_frames(
    constraints: Sequence[Constraint], total_frames: int, fps: float, source: str | Path | None
) -> None:
    """Refuse constraints on frames past the end of the timeline (they would be silently ignored)."""
    for index, constraint in enumerate(constraints):
        late = constraint.frame_indices[constraint.frame_indices >= total_frames]
        if late.size:
            raise FormatError(
                f"frame {int(late[0])} is past the end of the {total_frames}-frame timeline ({total_frames / fps:g} s "
                f"at {fps:g} fps: frames 0..{total_frames - 1}); give a longer duration or earlier frames",
                source,
                f"[{index}].frame_indices",
            )


class Generator(abc.ABC):
    """Base class of text-to-motion models (see the module docstring for the call rules).

    Subclasses set :attr:`name` and :attr:`fps`, expose :attr:`skeleton` (human models) or
    :attr:`robot` (robot-native models), and implement :meth:`generate`.
    """

    #: Registry name, e.g. ``"robomotion-small"``.
    name: str = ""
    #: Output frame rate (Hz).
    fps: float = 30.0
    #: Robot name for robot-native models (output :class:`RobotMotion`), else None.
    robot: str | None = None

    @property
    def skeleton(self) -> Skeleton | None:
        """The output skeleton of human models (None for robot-native models)."""
        return None

    def __call__(self, prompts: str | Sequence[str], **options) -> list[HumanMotion | RobotMotion]:
        """Generate motions for a prompt or a timeline of prompts, one per sample.

        ``options`` are the keyword arguments of :meth:`make_request` (``num_frames``,
        ``duration``, ``num_samples``, ``seed``, ``constraints``, ``cfg_type``, ``cfg_weight``,
        ``num_denoising_steps``, ``postprocess``, ``num_transition_frames``, ``progress``).
        """
        return self.generate(self.make_request(prompts, **options))

    def make_request(
        self,
        prompts: str | Sequence[str],
        num_frames: int | Sequence[int] | None = None,
        duration: float | Sequence[float] | None = None,
        num_samples: int = 1,
        seed: int | None = None,
        constraints: Sequence[Constraint] | str | Path | None = None,
        cfg_type: str | None = None,
        cfg_weight: float | Sequence[float] | None = None,
        num_denoising_steps: int | None = None,
        postprocess: bool = True,
        num_transition_frames: int = 5,
        progress: bool = True,
        planner: bool = True,
    ) -> GenerationRequest:
        """Check and normalise the call arguments (see the module docstring for the rules).

        Raises:
            RobomotionError: bad arguments; FormatError for a bad constraints file.
        """
        raw = _as_list(prompts, "prompts")
        if not raw or any(not isinstance(p, str) for p in raw):
            raise RobomotionError("prompts must be a string or a non-empty list of strings")
        texts = [sanitize_prompt(p) for p in raw]
        if num_frames is not None and duration is not None:
            raise RobomotionError("give num_frames or duration, not both")
        if num_frames is None:
            seconds = [float(d) for d in _as_list(DEFAULT_DURATION if duration is None else duration, "duration")]
            if any(d <= 0 for d in seconds):
                raise RobomotionError(f"durations must be positive seconds, got {seconds}")
            frames = [int(d * self.fps) for d in seconds]
        else:
            frames = [int(n) for n in _as_list(num_frames, "num_frames")]
        if len(frames) == 1:
            frames = frames * len(texts)
        if len(frames) != len(texts):
            raise RobomotionError(f"{len(frames)} durations/frame counts for {len(texts)} prompts; give one or one per prompt")
        if any(n < 1 for n in frames):
            raise RobomotionError(f"every segment needs at least one frame, got {frames}")
        if int(num_samples) < 1:
            raise RobomotionError(f"num_samples must be >= 1, got {num_samples}")
        if int(num_transition_frames) < 1:
            raise RobomotionError(f"num_transition_frames must be >= 1, got {num_transition_frames}")
        if num_denoising_steps is not None and int(num_denoising_steps) < 1:
            raise RobomotionError(f"num_denoising_steps must be >= 1, got {num_denoising_steps}")
        resolved_type, weights = _resolve_cfg(cfg_type, cfg_weight)
        source = constraints if isinstance(constraints, (str, Path)) else None
        if isinstance(constraints, (str, Path)):
            constraints = load_constraints(constraints, self.skeleton)
        _check_constraint_frames(constraints or (), sum(frames), self.fps, source)
        return GenerationRequest(
            prompts=tuple(texts),
            num_frames=tuple(frames),
            num_samples=int(num_samples),
            seed=None if seed is None else int(seed),
            constraints=tuple(constraints or ()),
            cfg_type=resolved_type,
            cfg_weight=weights,
            num_denoising_steps=None if num_denoising_steps is None else int(num_denoising_steps),
            postprocess=bool(postprocess),
            num_transition_frames=int(num_transition_frames),
            progress=bool(progress),
            planner=bool(planner),
        )

    @abc.abstractmethod
    def generate(self, request: GenerationRequest) -> list[HumanMotion | RobotMotion]:
        """Run a validated request; one motion per sample."""

    def __repr__(self) -> str:
        target = self.robot or (self.skeleton.name if self.skeleton is not None else "?")
        return f"<{type(self).__name__} '{self.name}' -> {target} @ {self.fps:g} fps>"
