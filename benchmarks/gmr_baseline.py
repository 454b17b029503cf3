"""A GMR-style retargeter, the yardstick of ``benchmarks/retarget.py`` (not part of the package).

It follows the recipe of GMR (YanjieZe/GMR, ``motion_retarget.py`` with ``ik_configs/smplx_to_g1.json``,
summarised in the project's anchors note, section 2.1), re-implemented here on our G1 MJCF:

* human bodies (by skeleton role) scaled relative to the root: 0.9 for pelvis, spine and legs,
  0.8 for shoulders, elbows and wrists, times (estimated human height / 1.8 m);
* per frame, two mink IK stages on 14 robot frames (pelvis, hip-roll, knee and toe frames,
  torso, shoulder-yaw, elbow and wrist-yaw links) with GMR's weights: stage 1 orientation 10
  everywhere and position 100 on pelvis and toes only; stage 2 positions 10 (pelvis and toes
  100) and orientations 5 (toes 50);
* each stage: ``mink.solve_ik`` with daqp, damping 0.5, ``lm_damping=1`` on the tasks,
  ``ConfigurationLimit`` plus a 3*pi rad/s ``VelocityLimit``, integrate with dt = 0.002 s (the
  MuJoCo default timestep of GMR's G1 model), repeat while the error drops by more than 0.001,
  at most 10 extra iterations; warm start from the previous frame.

Adaptations (documented, unavoidable): GMR's toe links are sites here (``left_toe_link`` at
(0.1, 0, -0.02) m in the ankle-roll frame, as in GMR's G1 model); GMR's rotation offsets are
written for SMPL-X joint frames, so the offsets are recomputed for our convention (human global
rotation = identity in the skeleton's rest pose): each robot frame's orientation when the robot
stands in the same rest posture (T-pose, arms along +-y).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

try:
    import mink
except ImportError as exc:  # the 'bench' extra
    print(f"benchmarks/gmr_baseline.py needs mink and daqp: pip install 'robomotion[bench]' ({exc})", file=sys.stderr)
    sys.exit(2)
import mujoco
import numpy as np

from robomotion.motion import HumanMotion, RobotMotion
from robomotion.robots import get_robot
from robomotion.rotations import quat_multiply, quat_normalize

#: GMR's human scale table by skeleton role (smplx_to_g1.json, before the height ratio).
SCALES = {
    "pelvis": 0.9, "chest": 0.9,
    "left_hip": 0.9, "right_hip": 0.9, "left_knee": 0.9, "right_knee": 0.9, "left_toe": 0.9, "right_toe": 0.9,
    "left_shoulder": 0.8, "right_shoulder": 0.8, "left_elbow": 0.8, "right_elbow": 0.8,
    "left_wrist": 0.8, "right_wrist": 0.8,
}
HUMAN_HEIGHT_ASSUMPTION = 1.8
#: robot frame -> (human role, stage-1 position weight, stage-1 orientation weight,
#:                 stage-2 position weight, stage-2 orientation weight), as in GMR's tables.
TABLE = {
    "pelvis": ("pelvis", 100, 10, 100, 5),
    "left_hip_roll_link": ("left_hip", 0, 10, 10, 5),
    "left_knee_link": ("left_knee", 0, 10, 10, 5),
    "left_toe_link": ("left_toe", 100, 10, 100, 50),
    "right_hip_roll_link": ("right_hip", 0, 10, 10, 5),
    "right_knee_link": ("right_knee", 0, 10, 10, 5),
    "right_toe_link": ("right_toe", 100, 10, 100, 50),
    "torso_link": ("chest", 0, 10, 0, 10),
    "left_shoulder_yaw_link": ("left_shoulder", 0, 10, 10, 5),
    "left_elbow_link": ("left_elbow", 0, 10, 10, 5),
    "left_wrist_yaw_link": ("left_wrist", 0, 10, 10, 5),
    "right_shoulder_yaw_link": ("right_shoulder", 0, 10, 10, 5),
    "right_elbow_link": ("right_elbow", 0, 10, 10, 5),
    "right_wrist_yaw_link": ("right_wrist", 0, 10, 10, 5),
}
TOE_SITES = {"left_toe_link": "left_ankle_roll_link", "right_toe_link": "right_ankle_roll_link"}
TOE_OFFSET = (0.1, 0.0, -0.02)
DT = 0.002
DAMPING = 0.5
MAX_ITERATIONS = 10
VELOCITY_LIMIT = 3 * np.pi


@dataclass(frozen=True, eq=False)
class BaselineResult:
    """The baseline's robot motion and the scaled human targets it tracked (body frames only)."""

    motion: RobotMotion
    keypoint_bodies: tuple[str, ...]
    keypoints: np.ndarray


def _model_with_toe_sites(robot: str) -> tuple[mujoco.MjModel, object]:
    spec = get_robot(robot)
    mj_spec = mujoco.MjSpec.from_file(str(spec.mjcf_path))
    for site, body in TOE_SITES.items():
        mj_spec.body(body).add_site(name=site, pos=list(TOE_OFFSET))
    return mj_spec.compile(), spec


def estimate_height(motion: HumanMotion) -> float:
    """Standing height (m) from the rest pose: head joint above the lowest foot joint, plus 0.12 m."""
    rest = motion.skeleton.rest_positions()
    feet = rest[motion.skeleton.indices(["left_ankle", "left_toe", "right_ankle", "right_toe"]), 2]
    return float(rest[motion.skeleton.index("head"), 2] - feet.min() + 0.12)


class GMRBaseline:
    """Per-frame two-stage mink IK, GMR's recipe (see the module docstring)."""

    def __init__(self, robot: str = "g1"):
        self.model, self.spec = _model_with_toe_sites(robot)
        self.configuration = mink.Configuration(self.model)
        self.limits = [
            mink.ConfigurationLimit(self.model),
            mink.VelocityLimit(self.model, {name: VELOCITY_LIMIT for name in self.spec.joint_names}),
        ]
        self.stages = []
        for stage in (0, 1):
            tasks = {}
            for frame, (_, p1, r1, p2, r2) in TABLE.items():
                position, orientation = (p1, r1) if stage == 0 else (p2, r2)
                if position == 0 and orientation == 0:
                    continue
                tasks[frame] = mink.FrameTask(
                    frame, "site" if frame in TOE_SITES else "body", position, orientation, lm_damping=1.0
                )
            self.stages.append(tasks)
        self.rest_offsets = self._rest_offsets()

    def _rest_offsets(self) -> dict[str, np.ndarray]:
        """Orientation (wxyz) of each robot frame with the robot in a T-pose (the skeletons' rest)."""
        data = mujoco.MjData(self.model)
        qpos = self.spec.home_qpos.copy()
        qpos[7:] = 0.0
        for side, sign in (("left", 1.0), ("right", -1.0)):
            roll = self.model.joint(f"{side}_shoulder_roll_joint").qposadr[0]
            elbow = self.model.joint(f"{side}_elbow_joint").qposadr[0]
            qpos[roll] = sign * np.pi / 2
            qpos[elbow] = np.pi / 2  # forearm continues the upper arm
        data.qpos[:] = qpos
        mujoco.mj_kinematics(self.model, data)
        offsets = {}
        for frame in TABLE:
            if frame in TOE_SITES:
                matrix = data.site_xmat[self.model.site(frame).id]
            else:
                matrix = data.xmat[self.model.body(frame).id]
            quat = np.empty(4)
            mujoco.mju_mat2Quat(quat, matrix)
            offsets[frame] = quat
        return offsets

    def targets(self, motion: HumanMotion) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Scaled human targets per robot frame: positions (T, 3) and orientations (T, 4) wxyz."""
        ratio = estimate_height(motion) / HUMAN_HEIGHT_ASSUMPTION
        skeleton = motion.skeleton
        positions, rotations = motion.global_positions, motion.global_rotations
        root = positions[:, skeleton.index("pelvis")]
        scaled_root = SCALES["pelvis"] * ratio * root
        out = {}
        for frame, (role, *_weights) in TABLE.items():
            j = skeleton.index(role)
            if role == "pelvis":
                pos = scaled_root
            else:
                pos = scaled_root + SCALES[role] * ratio * (positions[:, j] - root)
            out[frame] = (pos, quat_normalize(quat_multiply(rotations[:, j], self.rest_offsets[frame])))
        return out

    def _error(self, tasks) -> float:
        return float(np.linalg.norm(np.concatenate([t.compute_error(self.configuration) for t in tasks])))

    def _solve_stage(self, tasks: list) -> None:
        previous = self._error(tasks)
        for iteration in range(MAX_ITERATIONS + 1):
            velocity = mink.solve_ik(self.configuration, tasks, DT, "daqp", DAMPING, limits=self.limits)
            self.configuration.integrate_inplace(velocity, DT)
            current = self._error(tasks)
            if previous - current <= 0.001:
                break
            previous = current

    def retarget(self, motion: HumanMotion) -> BaselineResult:
        targets = self.targets(motion)
        qpos0 = self.spec.home_qpos.copy()
        qpos0[:3] = targets["pelvis"][0][0]
        qpos0[3:7] = targets["pelvis"][1][0]
        self.configuration.update(qpos0)
        rows = np.empty((motion.num_frames, self.model.nq))
        for t in range(motion.num_frames):
            for tasks in self.stages:
                for frame, task in tasks.items():
                    pos, quat = targets[frame]
                    task.set_target(mink.SE3.from_rotation_and_translation(mink.SO3(quat[t]), pos[t]))
                self._solve_stage(list(tasks.values()))
            rows[t] = self.configuration.q
        robot_motion = RobotMotion.from_qpos(
            self.spec.name, motion.fps, rows, self.spec.joint_names, {"retarget": {"method": "gmr-style baseline"}}
        )
        bodies = tuple(f for f in TABLE if f not in TOE_SITES)
        return BaselineResult(robot_motion, bodies, np.stack([targets[b][0] for b in bodies], axis=1))
