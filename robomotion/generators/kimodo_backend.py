"""NVIDIA Kimodo models through the official ``kimodo`` package, returning robomotion types.

Not bundled: Kimodo needs its own install and checkpoints (and, for the default text encoder,
a GPU-sized LLM). When the package or a checkpoint is missing,
:class:`~robomotion.errors.BackendUnavailableError` says what to install and where the
weights go. What this module does (our side of the contract; the real backend was not run
in robomotion's CI):

* ``kimodo.load_model(modelname, device=...)`` with Kimodo's own model name (any spelling
  Kimodo accepts, e.g. ``Kimodo-SOMA-RP-v1.1``);
* the call ``model(prompts=[...], num_frames=[...], num_denoising_steps=S, multi_prompt=True,
  constraint_lst=..., num_samples=N, cfg_type=..., cfg_weight=..., return_numpy=True,
  num_transition_frames=F, post_processing=...)``; constraints go through Kimodo's own
  ``kimodo.constraints.load_constraints_lst`` from their JSON form;
* outputs (Kimodo axes: y-up, +Z forward) become :class:`HumanMotion` on ``soma77`` /
  ``smplx22`` (axes converted, 4 foot-contact channels), or for G1 models a
  :class:`RobotMotion` via :func:`robomotion.formats.kimodo_g1.robot_from_g1skel`.
* Post-processing is never applied to G1 models (Kimodo's rule); the seed seeds Python,
  numpy and torch like ``kimodo_gen --seed``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from robomotion.errors import BackendUnavailableError
from robomotion.formats.axes import matrices_to_internal, vectors_to_internal
from robomotion.generators.base import GenerationRequest, Generator
from robomotion.generators.constraints import constraints_to_json
from robomotion.motion import HumanMotion, RobotMotion
from robomotion.rotations import matrix_to_quat
from robomotion.skeleton import Skeleton
from robomotion.skeletons import get_skeleton

__all__ = ["KimodoGenerator", "KIMODO_MODELS", "install_help", "load"]

INSTALL_COMMAND = "pip install git+https://github.com/nv-tlabs/kimodo"


@dataclass(frozen=True)
class KimodoModel:
    """One Kimodo checkpoint: HF display name, output skeleton or robot, weights licence."""

    display_name: str
    skeleton: str | None
    robot: str | None
    licence: str


KIMODO_MODELS: dict[str, KimodoModel] = {
    "kimodo-soma-rp": KimodoModel("Kimodo-SOMA-RP-v1.1", "soma77", None, "NVIDIA Open Model License"),
    "kimodo-soma-seed": KimodoModel("Kimodo-SOMA-SEED-v1.1", "soma77", None, "NVIDIA Open Model License"),
    "kimodo-g1-rp": KimodoModel("Kimodo-G1-RP-v1", None, "g1", "NVIDIA Open Model License"),
    "kimodo-g1-seed": KimodoModel("Kimodo-G1-SEED-v1", None, "g1", "NVIDIA Open Model License"),
    "kimodo-smplx-rp": KimodoModel("Kimodo-SMPLX-RP-v1", "smplx22", None, "NVIDIA R&D Model License (gated on Hugging Face)"),
}

#: Kimodo's default denoising steps and guidance (kimodo_gen / the Kimodo constructor).
DEFAULT_STEPS = 100
DEFAULT_CFG = ("separated", (2.0, 2.0))


def install_help(key: str) -> str:
    """What to install and where checkpoints go, for the model ``key``."""
    info = KIMODO_MODELS[key]
    return (
        f"model '{key}' runs on NVIDIA Kimodo, which is not installed with robomotion. Install it with "
        f"`{INSTALL_COMMAND}` (torch with CUDA recommended; its LLM2Vec text encoder needs ~17 GB of GPU memory, "
        f"or set TEXT_ENCODER_DEVICE=cpu). Weights: the Hugging Face repo nvidia/{info.display_name} "
        f"(licence: {info.licence}); Kimodo downloads it on first use, or put it at "
        f"$CHECKPOINT_DIR/{info.display_name}/config.yaml (with model.safetensors and stats/), or pre-fill the "
        f"Hugging Face cache and set LOCAL_CACHE=true."
    )


class KimodoGenerator(Generator):
    """A Kimodo checkpoint behind robomotion's generator API.

    Args:
        key: registry key (``kimodo-soma-rp``, ...).
        modelname: the name handed to ``kimodo.load_model`` (default: the key).
        device: torch device string.
    """

    def __init__(self, key: str, modelname: str | None = None, device: str = "cpu"):
        if key not in KIMODO_MODELS:
            raise BackendUnavailableError(f"'{key}' is not a Kimodo model; known: {sorted(KIMODO_MODELS)}")
        self.name = key
        self.info = KIMODO_MODELS[key]
        self.robot = self.info.robot
        try:
            import kimodo
        except ImportError as exc:
            raise BackendUnavailableError(install_help(key)) from exc
        self._kimodo = kimodo
        try:
            self.model = kimodo.load_model(modelname or key, device=device)
        except (FileNotFoundError, OSError) as exc:
            raise BackendUnavailableError(f"Kimodo could not load its checkpoint ({exc}). " + install_help(key)) from exc
        self.fps = float(getattr(self.model, "fps", 30.0))

    @property
    def skeleton(self) -> Skeleton | None:
        return None if self.info.skeleton is None else get_skeleton(self.info.skeleton)

    def _constraint_objects(self, request: GenerationRequest) -> list:
        if not request.constraints:
            return []
        from kimodo.constraints import load_constraints_lst

        return load_constraints_lst(constraints_to_json(request.constraints), self.model.skeleton)

    def generate(self, request: GenerationRequest) -> list[HumanMotion | RobotMotion]:
        import torch

        if request.seed is not None:
            random.seed(request.seed)
            np.random.seed(request.seed)
            torch.manual_seed(request.seed)
        cfg_type = request.cfg_type or DEFAULT_CFG[0]
        weights = request.cfg_weight or DEFAULT_CFG[1]
        kwargs = {"cfg_type": cfg_type}
        if cfg_type == "regular":
            kwargs["cfg_weight"] = float(weights[0])
        elif cfg_type == "separated":
            kwargs["cfg_weight"] = [float(weights[0]), float(weights[-1])]
        out = self.model(
            prompts=list(request.prompts),
            num_frames=list(request.num_frames),
            num_denoising_steps=request.num_denoising_steps or DEFAULT_STEPS,
            multi_prompt=True,
            constraint_lst=self._constraint_objects(request),
            num_samples=request.num_samples,
            return_numpy=True,
            num_transition_frames=request.num_transition_frames,
            post_processing=request.postprocess and self.robot is None,
            **kwargs,
        )
        local = np.asarray(out["local_rot_mats"], dtype=np.float64)
        root = np.asarray(out["root_positions"], dtype=np.float64)
        contacts = np.asarray(out["foot_contacts"])
        if local.ndim == 4:  # unbatched output
            local, root, contacts = local[None], root[None], contacts[None]
        metadata = {
            "model": self.name,
            "texts": list(request.prompts),
            "durations": [n / self.fps for n in request.num_frames],
            "num_frames": list(request.num_frames),
            "seed": request.seed,
        }
        return [self._convert(local[s], root[s], contacts[s], {**metadata, "sample": s}) for s in range(len(local))]

    def _convert(self, local: np.ndarray, root: np.ndarray, contacts: np.ndarray, metadata: dict) -> HumanMotion | RobotMotion:
        joints = local.shape[1]
        if contacts.shape[-1] == 6:  # SOMA77: [L heel, L toe, L toe-end, R heel, R toe, R toe-end]
            contacts = contacts[:, [0, 1, 3, 4]]
        skeleton = get_skeleton("g1skel34" if self.robot else self.info.skeleton)
        if joints != skeleton.num_joints:
            raise BackendUnavailableError(
                f"Kimodo returned {joints} joints, expected {skeleton.num_joints} for '{skeleton.name}'; "
                "check the kimodo package version"
            )
        motion = HumanMotion(
            skeleton=skeleton,
            fps=self.fps,
            root_translation=vectors_to_internal(root),
            local_rotations=matrix_to_quat(matrices_to_internal(local)),
            foot_contacts=np.asarray(contacts) > 0.5,
            metadata=metadata,
        )
        if self.robot is None:
            return motion
        from robomotion.formats.kimodo_g1 import robot_from_g1skel

        return robot_from_g1skel(motion, robot=self.robot)


def load(name: str, device: str = "cpu") -> KimodoGenerator:
    """Registry factory: ``name`` may be any Kimodo spelling (``Kimodo-G1-RP-v1``, ``kimodo_g1_rp``)."""
    from robomotion.generators import resolve_model_name

    key = resolve_model_name(name)
    return KimodoGenerator(key, modelname=name, device=device)
