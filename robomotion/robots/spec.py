"""``RobotSpec``: everything the pipeline needs to know about a robot, read from its MJCF.

The MJCF is the single source of truth: joint order, limits, PD gains, effort and velocity
limits, armature, the home keyframe and the masses are parsed from the compiled
:class:`mujoco.MjModel`, never typed twice. The only facts that live in Python are the
*semantic* choices that MJCF cannot express (which body is the root, the anchor, the feet...).

Units: metres, radians, seconds, kg, N*m; quaternions (w, x, y, z); z-up world.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from robomotion.errors import FormatError
from robomotion.motion import RobotMotion

__all__ = ["RobotSpec", "BodyRoles", "spec_from_mjcf", "VELOCITY_LIMIT_PREFIX", "HOME_KEYFRAME"]

#: Per-joint velocity limits are stored as ``<custom><numeric name="velocity_limit_<joint>" data="rad/s"/>``.
VELOCITY_LIMIT_PREFIX = "velocity_limit_"
#: Name of the keyframe holding the home (default) pose.
HOME_KEYFRAME = "home"


@dataclass(frozen=True, eq=False)
class BodyRoles:
    """The semantic bodies and sites of a robot, which MJCF has no words for.

    Attributes:
        root_body: the floating-base body (carries the freejoint).
        anchor_body: the body that tracking rewards anchor to (BeyondMimic: ``torso_link``).
        foot_bodies: (left, right) foot links.
        hand_bodies: (left, right) hand links.
        tracked_bodies: bodies used by tracking rewards and observations.
        foot_sites: (left, right) sites on the soles, for IK and contact checks.
        hand_sites: (left, right) palm sites.
    """

    root_body: str
    anchor_body: str
    foot_bodies: tuple[str, str]
    hand_bodies: tuple[str, str]
    tracked_bodies: tuple[str, ...]
    foot_sites: tuple[str, str]
    hand_sites: tuple[str, str]


def _frozen(values) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class RobotSpec(BodyRoles):
    """A floating-base robot as the rest of robomotion sees it (immutable; arrays read-only).

    Inherits the semantic fields of :class:`BodyRoles` (``root_body``, ``anchor_body``,
    ``foot_bodies``, ``hand_bodies``, ``tracked_bodies``, ``foot_sites``, ``hand_sites``).

    Attributes:
        name: registry name, e.g. ``"g1"``.
        mjcf_path: the robot MJCF (no floor, lights or cameras).
        scene_path: MJCF that includes the robot plus floor, light, skybox and cameras.
        joint_names: hinge joint names in MJCF (= qpos) order.
        body_names: robot body names in MJCF order (root first; the world body excluded).
        joint_limits: (N, 2) lower/upper joint positions, rad.
        velocity_limits: (N,) joint speed limits, rad/s.
        effort_limits: (N,) joint torque limits, N*m (the actuators' force range).
        kp: (N,) position-actuator stiffness, N*m/rad.
        kd: (N,) position-actuator damping, N*m*s/rad.
        armature: (N,) reflected rotor inertia, kg*m^2.
        home_root_pos: (3,) root position of the home keyframe, m.
        home_root_quat: (4,) root orientation of the home keyframe (w, x, y, z).
        home_joint_pos: (N,) joint angles of the home keyframe, rad (the default pose).
        total_mass: kg.
    """

    name: str
    mjcf_path: Path
    scene_path: Path
    joint_names: tuple[str, ...]
    body_names: tuple[str, ...]
    joint_limits: np.ndarray
    velocity_limits: np.ndarray
    effort_limits: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    armature: np.ndarray
    home_root_pos: np.ndarray
    home_root_quat: np.ndarray
    home_joint_pos: np.ndarray
    total_mass: float

    # ------------------------------------------------------------------ derived
    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def num_bodies(self) -> int:
        return len(self.body_names)

    @property
    def home_qpos(self) -> np.ndarray:
        """(7 + N,) MuJoCo qpos of the home pose: root xyz, root quat wxyz, joints."""
        return np.concatenate([self.home_root_pos, self.home_root_quat, self.home_joint_pos])

    def joint_indices(self, names: list[str] | tuple[str, ...]) -> np.ndarray:
        """Indices of ``names`` in :attr:`joint_names` (raises on an unknown name)."""
        return _indices(self.joint_names, names, "joint", self.mjcf_path)

    def body_indices(self, names: list[str] | tuple[str, ...]) -> np.ndarray:
        """Indices of ``names`` in :attr:`body_names` (raises on an unknown name)."""
        return _indices(self.body_names, names, "body", self.mjcf_path)

    # ------------------------------------------------------------------ models and motions
    def load_model(self, scene: bool = True):
        """A fresh :class:`mujoco.MjModel`: the scene (floor, light, cameras) or the bare robot."""
        import mujoco

        return mujoco.MjModel.from_xml_path(str(self.scene_path if scene else self.mjcf_path))

    def home_motion(self, seconds: float = 3.0, fps: float = 30.0) -> RobotMotion:
        """The home pose held still for ``seconds`` (at least one frame) at ``fps``."""
        frames = max(1, int(round(seconds * fps)))
        return RobotMotion(
            robot=self.name,
            fps=fps,
            root_pos=np.tile(self.home_root_pos, (frames, 1)),
            root_quat=np.tile(self.home_root_quat, (frames, 1)),
            joint_pos=np.tile(self.home_joint_pos, (frames, 1)),
            joint_names=self.joint_names,
            metadata={"source": f"{self.name} home keyframe"},
        )


def _indices(known: tuple[str, ...], names, kind: str, path: Path) -> np.ndarray:
    lookup = {name: i for i, name in enumerate(known)}
    missing = [n for n in names if n not in lookup]
    if missing:
        raise FormatError(f"unknown {kind} names {missing}; the model has {list(known)}", path, f"{kind}_names")
    return np.array([lookup[n] for n in names], dtype=np.int64)


def spec_from_mjcf(name: str, mjcf_path: Path, scene_path: Path, roles: BodyRoles) -> RobotSpec:
    """Parse a floating-base MJCF into a :class:`RobotSpec`.

    The model must have one freejoint on ``roles.root_body`` followed by hinge joints, one
    force-limited ``<position>`` actuator per hinge, a ``velocity_limit_<joint>`` custom numeric
    per hinge, a ``home`` keyframe and every body and site named in ``roles``. Raises
    :class:`FormatError` naming the file and the missing or wrong field.
    """
    import mujoco

    try:
        model = mujoco.MjModel.from_xml_path(str(mjcf_path))
    except ValueError as error:
        raise FormatError(f"MuJoCo cannot load this MJCF: {error}", mjcf_path, "mjcf") from error

    _check_joints(model, roles, mjcf_path)
    joint_names = tuple(model.joint(j).name for j in range(1, model.njnt))
    body_names = tuple(model.body(b).name for b in range(1, model.nbody))
    _check_roles(model, roles, body_names, mjcf_path)
    act = _position_actuators(model, mjcf_path)
    key = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_KEY, HOME_KEYFRAME)
    if key < 0:
        raise FormatError(f"missing keyframe '{HOME_KEYFRAME}'", mjcf_path, "keyframe")
    home = model.key_qpos[key]

    return RobotSpec(
        name=name,
        mjcf_path=Path(mjcf_path),
        scene_path=Path(scene_path),
        joint_names=joint_names,
        body_names=body_names,
        joint_limits=_frozen(model.jnt_range[1:]),
        velocity_limits=_frozen(_velocity_limits(model, joint_names, mjcf_path)),
        effort_limits=_frozen(model.actuator_forcerange[act, 1]),
        kp=_frozen(model.actuator_gainprm[act, 0]),
        kd=_frozen(-model.actuator_biasprm[act, 2]),
        armature=_frozen(model.dof_armature[model.jnt_dofadr[1:]]),
        home_root_pos=_frozen(home[0:3]),
        home_root_quat=_frozen(home[3:7]),
        home_joint_pos=_frozen(home[model.jnt_qposadr[1:]]),
        total_mass=float(model.body_subtreemass[0]),
        **{f.name: getattr(roles, f.name) for f in fields(roles)},
    )


def _check_joints(model, roles: BodyRoles, path: Path) -> None:
    """A freejoint on the root body, then hinges only."""
    import mujoco

    types = [int(t) for t in model.jnt_type]
    if len(types) < 2 or types[0] != int(mujoco.mjtJoint.mjJNT_FREE):
        raise FormatError("expected a freejoint followed by hinge joints", path, "joint")
    if model.body(int(model.jnt_bodyid[0])).name != roles.root_body:
        raise FormatError(f"the freejoint must be on the root body '{roles.root_body}'", path, "freejoint")
    if any(t != int(mujoco.mjtJoint.mjJNT_HINGE) for t in types[1:]):
        raise FormatError("every joint after the freejoint must be a hinge", path, "joint")


def _check_roles(model, roles: BodyRoles, body_names: tuple[str, ...], path: Path) -> None:
    """Every body and site named in ``roles`` exists."""
    import mujoco

    for role in fields(roles):
        value = getattr(roles, role.name)
        names = [value] if isinstance(value, str) else list(value)
        if role.name.endswith("_sites"):
            unknown = [n for n in names if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, n) < 0]
        else:
            unknown = [n for n in names if n not in body_names]
        if unknown:
            raise FormatError(f"{role.name} names {unknown} that the model does not have", path, role.name)


def _position_actuators(model, path: Path) -> np.ndarray:
    """Index of the force-limited position actuator of each hinge, in joint order."""
    import mujoco

    actuator_of_joint = {}
    for a in range(model.nu):
        if int(model.actuator_trntype[a]) != int(mujoco.mjtTrn.mjTRN_JOINT):
            raise FormatError(f"actuator '{model.actuator(a).name}' does not drive a joint", path, "actuator")
        actuator_of_joint[int(model.actuator_trnid[a, 0])] = a
    hinges = range(1, model.njnt)
    missing = [model.joint(j).name for j in hinges if j not in actuator_of_joint]
    if missing:
        raise FormatError(f"joints without a position actuator: {missing}", path, "actuator")
    act = np.array([actuator_of_joint[j] for j in hinges])
    kp = model.actuator_gainprm[act, 0]
    if not (np.all(kp > 0) and np.allclose(model.actuator_biasprm[act, 1], -kp)):
        raise FormatError("expected position actuators (gain kp, bias -kp*q - kv*qdot)", path, "actuator")
    if not np.all(model.actuator_forcelimited[act]):
        raise FormatError("every actuator needs a forcerange (the joint's effort limit)", path, "forcerange")
    return act


def _velocity_limits(model, joint_names: tuple[str, ...], path: Path) -> list[float]:
    """Per-joint speed limits (rad/s) from the ``velocity_limit_<joint>`` custom numerics."""
    import mujoco

    limits = []
    for joint in joint_names:
        numeric = VELOCITY_LIMIT_PREFIX + joint
        if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_NUMERIC, numeric) < 0:
            raise FormatError(f"missing <custom><numeric name='{numeric}'> (rad/s)", path, numeric)
        limits.append(float(model.numeric(numeric).data[0]))
    return limits
