"""A tracking policy exported to ONNX (mjlab / BeyondMimic's deployment format), run with onnxruntime.

The file carries everything a runner needs (``docs/envs.md``, "Policies in ONNX"):

* inputs ``obs`` float32 (1, S) and ``time_step`` float32 (1, 1) (the motion frame index);
* outputs ``actions`` (1, N) and the embedded reference at ``time_step``: ``joint_pos``,
  ``joint_vel`` (1, N), ``body_pos_w`` (1, B, 3), ``body_quat_w`` (1, B, 4) (wxyz),
  ``body_lin_vel_w``, ``body_ang_vel_w`` (1, B, 3), world frame;
* metadata (``custom_metadata_map``, comma-separated): ``joint_names``, ``joint_stiffness``,
  ``joint_damping``, ``default_joint_pos``, ``action_scale``, ``observation_names``,
  ``anchor_body_name``, ``body_names`` (and ``command_names``, ``run_path``).

::

    from robomotion.envs.tracking.policy import Policy
    policy = Policy("B_Fence1.onnx")
    policy.metadata.observation_names, policy.observation          # ('command', ...), 'mjlab'
    actions = policy(observation, time_step=0)                      # (N,) float32
    reference = policy.embedded_motion()                            # {"joint_pos": (T, N), "body_pos_w": ...}

Units: metres, radians, seconds; quaternions (w, x, y, z); z-up world.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from robomotion.errors import BackendUnavailableError, FormatError
from robomotion.robots import RobotSpec

__all__ = ["REFERENCE_OUTPUTS", "Policy", "PolicyMetadata", "observation_names"]

#: The reference outputs of an mjlab export, in order.
REFERENCE_OUTPUTS = ("joint_pos", "joint_vel", "body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w")

_REQUIRED = ("joint_names", "joint_stiffness", "joint_damping", "default_joint_pos", "action_scale",
             "observation_names")


def observation_names(layout: str) -> tuple[str, ...]:
    """The ``observation_names`` metadata of a named observation layout (its segment names)."""
    from robomotion.envs.tracking.observations import policy_layout

    return policy_layout(29, (0,), layout).names


def _layout_of(names: tuple[str, ...], path: Path) -> str:
    """The environment's observation layout whose segments are ``names`` (mjlab's two layouts)."""
    from robomotion.envs.tracking.observations import OBSERVATIONS

    for layout in OBSERVATIONS:
        if layout != "robomotion-v0" and observation_names(layout) == names:
            return layout
    known = set(observation_names("mjlab"))
    unknown = [name for name in names if name not in known]
    detail = f"unknown observation terms {unknown}" if unknown else "these terms in this order"
    raise FormatError(
        f"observation_names {','.join(names)}: {detail}; supported: "
        f"'{','.join(observation_names('mjlab'))}' or '{','.join(observation_names('mjlab-no-state-estimation'))}'",
        path, "observation_names",
    )


@dataclass(frozen=True)
class PolicyMetadata:
    """The ONNX file's metadata, parsed. Arrays are (N,) in ``joint_names`` order.

    Attributes:
        joint_names: the policy's joints, in its action order.
        joint_stiffness, joint_damping: PD gains, N*m/rad and N*m*s/rad.
        default_joint_pos: action offset and reset pose, rad.
        action_scale: PD target per action unit, rad.
        observation_names: the observation terms, in order.
        anchor_body_name: the anchor body (``torso_link``), or ``None`` when absent.
        body_names: the tracked bodies of the embedded reference (may be empty).
        command_names, run_path: informative.
    """

    joint_names: tuple[str, ...]
    joint_stiffness: np.ndarray
    joint_damping: np.ndarray
    default_joint_pos: np.ndarray
    action_scale: np.ndarray
    observation_names: tuple[str, ...]
    anchor_body_name: str | None
    body_names: tuple[str, ...]
    command_names: tuple[str, ...]
    run_path: str

    @classmethod
    def parse(cls, entries: dict[str, str], path: Path) -> PolicyMetadata:
        """From ``custom_metadata_map``; a missing or malformed entry is a :class:`FormatError`."""
        missing = [key for key in _REQUIRED if not entries.get(key)]
        if missing:
            raise FormatError(f"missing ONNX metadata {missing} (an mjlab-style export carries them)", path,
                              missing[0])

        def names(key: str) -> tuple[str, ...]:
            return tuple(part.strip() for part in entries.get(key, "").split(",") if part.strip())

        joint_names = names("joint_names")

        def numbers(key: str) -> np.ndarray:
            try:
                values = np.array([float(part) for part in entries[key].split(",")], dtype=np.float64)
            except ValueError:
                raise FormatError(f"'{entries[key][:60]}' is not a comma-separated list of numbers", path, key) from None
            if values.shape != (len(joint_names),) or not np.all(np.isfinite(values)):
                raise FormatError(f"expected {len(joint_names)} finite numbers (one per joint), got {values.size}",
                                  path, key)
            return values

        return cls(
            joint_names=joint_names,
            joint_stiffness=numbers("joint_stiffness"),
            joint_damping=numbers("joint_damping"),
            default_joint_pos=numbers("default_joint_pos"),
            action_scale=numbers("action_scale"),
            observation_names=names("observation_names"),
            anchor_body_name=entries.get("anchor_body_name") or None,
            body_names=names("body_names"),
            command_names=names("command_names"),
            run_path=entries.get("run_path", ""),
        )

    def check_robot(self, robot: RobotSpec, path: Path) -> None:
        """The policy must drive ``robot``'s joints in ``robot``'s order and track bodies it has."""
        if set(self.joint_names) != set(robot.joint_names):
            unknown = sorted(set(self.joint_names) - set(robot.joint_names))
            missing = sorted(set(robot.joint_names) - set(self.joint_names))
            raise FormatError(f"the policy's joints are not robot '{robot.name}''s (unknown {unknown[:4]}, "
                              f"missing {missing[:4]}): a robot this runner does not have", path, "joint_names")
        if self.joint_names != tuple(robot.joint_names):
            raise FormatError(f"the policy orders the joints differently from robot '{robot.name}''s model",
                              path, "joint_names")
        model_bodies = set(robot.body_names)
        unknown = [name for name in (*self.body_names, self.anchor_body_name or "") if name and name not in model_bodies]
        if unknown:
            raise FormatError(f"bodies {unknown} are not in robot '{robot.name}'", path, "body_names")


class Policy:
    """An ONNX tracking policy on onnxruntime's CPU provider (one observation at a time).

    Args:
        path: the ``.onnx`` file.

    Attributes:
        path, metadata (:class:`PolicyMetadata`), observation (the environment's layout name for
        its observation: ``"mjlab"`` or ``"mjlab-no-state-estimation"``), observation_size,
        num_actions, has_reference (the reference outputs are present).
    """

    def __init__(self, path: str | PathLike):
        self.path = path = Path(path)
        if not path.is_file():
            raise FormatError("no such policy file", path)
        try:
            import onnxruntime
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise BackendUnavailableError(f"running ONNX policies needs onnxruntime: pip install onnxruntime ({exc})")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one small MLP per step: threads cost more than they give
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types for unreadable files
            raise FormatError(f"not a readable ONNX model ({str(exc).splitlines()[0][:160]})", path) from None
        entries = dict(self._session.get_modelmeta().custom_metadata_map)
        self.metadata = PolicyMetadata.parse(entries, path)
        self.observation = _layout_of(self.metadata.observation_names, path)
        inputs = {item.name: item for item in self._session.get_inputs()}
        if "obs" not in inputs:
            raise FormatError(f"expected an input named 'obs', got {sorted(inputs)}", path, "obs")
        size = inputs["obs"].shape[-1] if inputs["obs"].shape else None
        if not isinstance(size, int):
            raise FormatError(f"the 'obs' input needs a fixed size, got shape {inputs['obs'].shape}", path, "obs")
        self.observation_size = size
        self._time_input = "time_step" in inputs
        outputs = [item.name for item in self._session.get_outputs()]
        if "actions" not in outputs:
            raise FormatError(f"expected an output named 'actions', got {outputs}", path, "actions")
        self.has_reference = all(name in outputs for name in REFERENCE_OUTPUTS) and self._time_input
        self.num_actions = len(self.metadata.joint_names)
        self._obs = np.zeros((1, self.observation_size), dtype=np.float32)
        self._time = np.zeros((1, 1), dtype=np.float32)

    def __call__(self, observation: np.ndarray, time_step: int = 0) -> np.ndarray:
        """(N,) float32 actions for one observation (S,) at motion frame ``time_step``."""
        self._obs[0] = observation
        feeds = {"obs": self._obs}
        if self._time_input:
            self._time[0, 0] = time_step
            feeds["time_step"] = self._time
        return self._session.run(["actions"], feeds)[0][0]

    def reference_at(self, time_step: int) -> dict[str, np.ndarray]:
        """The embedded reference outputs at ``time_step`` (arrays without the batch axis)."""
        if not self.has_reference:
            raise FormatError("the policy has no embedded reference outputs (pass a motion file)", self.path,
                              "body_pos_w")
        self._time[0, 0] = time_step
        values = self._session.run(list(REFERENCE_OUTPUTS), {"obs": self._obs, "time_step": self._time})
        return {name: value[0] for name, value in zip(REFERENCE_OUTPUTS, values)}

    def embedded_frames(self) -> int:
        """Number of frames of the embedded reference: the first dimension of the constant table the
        reference outputs are gathered from (mjlab's and this project's exports)."""
        import onnx

        model = onnx.load(str(self.path), load_external_data=False)
        tables = {item.name: list(item.dims) for item in model.graph.initializer}
        for node in model.graph.node:
            if node.op_type == "Constant":
                for attribute in node.attribute:
                    if attribute.name == "value":
                        tables[node.output[0]] = list(attribute.t.dims)
        producers = {output: node for node in model.graph.node for output in node.output}
        name = "joint_pos"
        for _ in range(8):  # follow Identity/Reshape/Squeeze links back to the Gather
            node = producers.get(name)
            if node is None:
                break
            if node.op_type == "Gather" and node.input[0] in tables and tables[node.input[0]]:
                return int(tables[node.input[0]][0])
            name = node.input[0]
        raise FormatError("cannot find the embedded reference's frame table (pass a motion file)", self.path,
                          "joint_pos")

    def embedded_motion(self) -> dict[str, np.ndarray]:
        """The whole embedded reference, queried frame by frame (``time_step`` 0 to T - 1): the
        :data:`REFERENCE_OUTPUTS` stacked over frames, float64: ``joint_pos``, ``joint_vel`` (T, N) in the
        policy's joint order; ``body_pos_w``, ``body_quat_w``, ``body_lin_vel_w``, ``body_ang_vel_w``
        (T, B, 3/4) of ``metadata.body_names``, world frame (m, wxyz, m/s, rad/s)."""
        frames = [self.reference_at(step) for step in range(self.embedded_frames())]
        stacked = {name: np.stack([frame[name] for frame in frames]).astype(np.float64) for name in REFERENCE_OUTPUTS}
        if stacked["body_pos_w"].shape[1] != len(self.metadata.body_names):
            raise FormatError(f"{len(self.metadata.body_names)} body_names but the reference has "
                              f"{stacked['body_pos_w'].shape[1]} bodies", self.path, "body_names")
        return stacked
