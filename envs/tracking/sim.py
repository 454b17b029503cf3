"""MuJoCo side of the tracking environment: the G1 scene plus frame sensors, stepped at the control rate.

:class:`TrackingSimulation` compiles the robot's scene (floor, light, cameras) with ``MjSpec``,
keeps only the pelvis IMU's velocimeter of the scene's sensors, adds four frame sensors per tracked
body (``framepos``, ``framequat``, ``framelinvel``, ``frameangvel`` of the body frame origin, world
axes) and two contact sensors on robot-robot contacts (mjlab's self-collision sensor: their count;
the strongest one's force), so MuJoCo's C code computes every robot quantity the rewards need, and
exposes them as **persistent numpy views** into ``data`` (valid after each :meth:`step`, never
copied).

A control step holds one control vector for ``decimation`` physics steps and ends with
``mj_step1``, so positions, velocities, contacts and sensors describe the *new* state (a plain
``mj_step`` leaves them one physics step behind). Sensors are only evaluated in that final
``mj_step1``: MuJoCo's sensor stage is disabled for the intermediate physics steps, whose sensor
values nobody reads, unless the self-collision term needs the contact force of every physics step
(mjlab's term, ``self_collision_force``). Physics is otherwise untouched (same integrator and
timestep); PD targets are unclamped (``ctrllimited`` off, as mjlab) unless ``clamp_targets``.

Units: metres, radians, seconds; quaternions ``(w, x, y, z)``; z-up world.
"""

from __future__ import annotations

import mujoco
import numpy as np

from robomotion.errors import RobomotionError
from robomotion.robots import RobotSpec

__all__ = ["TrackingSimulation"]

_FRAME_SENSORS = (
    ("pos", mujoco.mjtSensor.mjSENS_FRAMEPOS),
    ("quat", mujoco.mjtSensor.mjSENS_FRAMEQUAT),
    ("lin_vel", mujoco.mjtSensor.mjSENS_FRAMELINVEL),
    ("ang_vel", mujoco.mjtSensor.mjSENS_FRAMEANGVEL),
)
#: Name of the contact sensor counting robot-robot contacts.
SELF_CONTACT_SENSOR = "track_self_contacts"
#: Name of the contact sensor reporting the strongest robot-robot contact (found, then force (3)).
SELF_FORCE_SENSOR = "track_self_contact_force"
#: The pelvis IMU's velocimeter in the shipped G1 model (mjlab's ``base_lin_vel`` sensor).
IMU_LIN_VEL_SENSOR = "imu_lin_vel"
_SENSOR_FLAG = int(mujoco.mjtDisableBit.mjDSBL_SENSOR)
_BAD_QACC = int(mujoco.mjtWarning.mjWARN_BADQACC)


def tracking_model(robot: RobotSpec, physics_hz: float, clamp_targets: bool = False) -> mujoco.MjModel:
    """The robot's scene at ``physics_hz`` with frame sensors ``track_<kind>_<body>`` on its tracked bodies,
    self-contact sensors, and PD targets clamped to the actuators' control range only if ``clamp_targets``."""
    spec = mujoco.MjSpec.from_file(str(robot.scene_path))
    spec.option.timestep = 1.0 / physics_hz
    # The scene's own sensors but the IMU velocimeter are never read here; the accelerometer and the
    # subtree angular momentum alone would cost ~3 us per physics step once sensors run every step.
    for sensor in list(spec.sensors):
        if sensor.name != IMU_LIN_VEL_SENSOR:
            spec.delete(sensor)
    if not clamp_targets:
        for actuator in spec.actuators:
            actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE
    for kind, sensor_type in _FRAME_SENSORS:
        for body in robot.tracked_bodies:
            spec.add_sensor(name=f"track_{kind}_{body}", type=sensor_type, objtype=mujoco.mjtObj.mjOBJ_XBODY,
                            objname=body)
    # mjlab's self-collision sensor: contacts between two geoms of the robot's subtree, data "found".
    subtree = mujoco.mjtObj.mjOBJ_XBODY
    spec.add_sensor(name=SELF_CONTACT_SENSOR, type=mujoco.mjtSensor.mjSENS_CONTACT, objtype=subtree,
                    objname=robot.root_body, reftype=subtree, refname=robot.root_body, intprm=[1, 0, 1])
    # The same pairs, reduced to the strongest contact: found (1), then its force (3, contact frame).
    found_force = (1 << int(mujoco.mjtConDataField.mjCONDATA_FOUND)) | (1 << int(mujoco.mjtConDataField.mjCONDATA_FORCE))
    spec.add_sensor(name=SELF_FORCE_SENSOR, type=mujoco.mjtSensor.mjSENS_CONTACT, objtype=subtree,
                    objname=robot.root_body, reftype=subtree, refname=robot.root_body, intprm=[found_force, 2, 1])
    return spec.compile()


class TrackingSimulation:
    """The simulated robot, with views of the tracked bodies' world state.

    Args:
        robot: the robot (its scene, joints and tracked bodies).
        physics_hz: physics rate (MuJoCo timestep ``1 / physics_hz``).
        decimation: physics steps per control step.
        clamp_targets: clamp PD targets to the joint range (MuJoCo ``ctrllimited``); mjlab does not.
        self_collision_force: ``None``: :attr:`self_collision` is the number of self-contacts after the
            step; a force in N: the number of physics steps of the control step (0 to ``decimation``)
            in which a self-contact pushed with more than that force (mjlab).

    Attributes (views into ``data``, refreshed by :meth:`reset_to` and :meth:`step`):
        body_pos, body_quat, body_lin_vel, body_ang_vel: (B, 3/4) tracked bodies in
            ``robot.tracked_bodies`` order, world frame; body_vel: (2B, 3) the linear then the
            angular velocities in one array.
        anchor_pos: (3,) the anchor body's position (a row of body_pos), world, m.
        anchor_mat, root_mat: (3, 3) anchor and root body orientations (columns = body axes in world).
        joint_pos, joint_vel: (N,) hinge positions (rad) and velocities (rad/s).
        self_contacts: (1,) number of contacts between two robot geoms (a MuJoCo contact sensor).
        self_collision: (1,) the self-collision term's count (see ``self_collision_force``).
        base_lin_vel: (3,) the pelvis IMU's linear velocity in its (pelvis-aligned) frame, m/s.
        root_lin_vel: (3,) root linear velocity, world frame; root_ang_vel: (3,) root angular
            velocity, root frame (MuJoCo free-joint convention).
        ctrl: (N,) the actuators' PD position targets (rad), held by :meth:`step`; write into it.
    """

    def __init__(
        self,
        robot: RobotSpec,
        physics_hz: float,
        decimation: int,
        clamp_targets: bool = False,
        self_collision_force: float | None = None,
    ):
        self.robot = robot
        self.decimation = int(decimation)
        self.model = tracking_model(robot, physics_hz, clamp_targets)
        self.data = mujoco.MjData(self.model)
        model, data = self.model, self.data
        num_joints = robot.num_joints
        hinges = np.arange(1, model.njnt)
        if not (
            model.njnt == num_joints + 1
            and np.array_equal(model.jnt_qposadr[hinges], 7 + np.arange(num_joints))
            and np.array_equal(model.actuator_trnid[:, 0], hinges)
        ):
            raise RobomotionError(
                f"{robot.scene_path}: expected a freejoint, then {num_joints} hinges with one actuator each, in order"
            )
        if np.any(model.body_rootid[1:] != model.body(robot.root_body).id):
            raise RobomotionError(f"{robot.scene_path}: the scene must hold only the robot and static geometry")

        num_bodies = len(robot.tracked_bodies)

        def sensor_rows(kind: str, width: int, rows: int) -> np.ndarray:
            # Sensors were added kind by kind, body by body: each kind's values are contiguous.
            start = model.sensor_adr[model.sensor(f"track_{kind}_{robot.tracked_bodies[0]}").id]
            return data.sensordata[start : start + width * rows].reshape(rows, width)

        self.body_pos = sensor_rows("pos", 3, num_bodies)
        self.body_quat = sensor_rows("quat", 4, num_bodies)
        self.body_vel = sensor_rows("lin_vel", 3, 2 * num_bodies)  # the angular velocities follow
        self.body_lin_vel, self.body_ang_vel = self.body_vel[:num_bodies], self.body_vel[num_bodies:]
        self.anchor_pos = self.body_pos[robot.tracked_bodies.index(robot.anchor_body)]
        self.anchor_mat = data.xmat[model.body(robot.anchor_body).id].reshape(3, 3)
        self.root_mat = data.xmat[model.body(robot.root_body).id].reshape(3, 3)
        self.joint_pos, self.joint_vel = data.qpos[7:], data.qvel[6:]
        self.root_lin_vel, self.root_ang_vel = data.qvel[0:3], data.qvel[3:6]
        self.ctrl = data.ctrl
        start = model.sensor_adr[model.sensor(SELF_CONTACT_SENSOR).id]
        self.self_contacts = data.sensordata[start : start + 1]
        start = model.sensor_adr[model.sensor(SELF_FORCE_SENSOR).id]
        self._self_force = data.sensordata[start : start + 4]
        self._force_threshold_sq = None if self_collision_force is None else float(self_collision_force) ** 2
        self.self_collision = self.self_contacts if self_collision_force is None else np.zeros(1)
        try:
            start = model.sensor_adr[model.sensor(IMU_LIN_VEL_SENSOR).id]
        except KeyError:
            raise RobomotionError(f"{robot.scene_path}: no '{IMU_LIN_VEL_SENSOR}' velocimeter (base_lin_vel)") from None
        self.base_lin_vel = data.sensordata[start : start + 3]
        self._flags_on = int(model.opt.disableflags) & ~_SENSOR_FLAG
        self._flags_off = self._flags_on | _SENSOR_FLAG
        self._bad_qacc = data.warning[_BAD_QACC]

    def set_gains(self, stiffness: np.ndarray, damping: np.ndarray) -> None:
        """Set the position actuators' gains: ``kp`` (N*m/rad) and ``kv`` (N*m*s/rad), (N,) each."""
        self.model.actuator_gainprm[:, 0] = stiffness
        self.model.actuator_biasprm[:, 1] = -np.asarray(stiffness)
        self.model.actuator_biasprm[:, 2] = -np.asarray(damping)

    def reset_to(self, qpos: np.ndarray, qvel: np.ndarray, ctrl: np.ndarray) -> None:
        """Reset the simulation to a state (MuJoCo ``qpos``/``qvel`` layout) and control.

        Ends, like :meth:`step`, with ``mj_step1``: positions, velocities, contacts and sensors of the
        new state are computed (what observations and rewards read, and what the next ``mj_step2``
        continues from); accelerations are not (``mj_forward`` would compute them only for
        ``mj_step2`` to compute them again).
        """
        model, data = self.model, self.data
        mujoco.mj_resetData(model, data)
        data.qpos[:] = qpos
        data.qvel[:] = qvel
        data.ctrl[:] = ctrl
        if self._force_threshold_sq is not None:
            self.self_collision[0] = 0.0
        model.opt.disableflags = self._flags_on
        mujoco.mj_step1(model, data)

    def step(self) -> bool:
        """Hold the control in :attr:`ctrl` (PD position targets, rad) for ``decimation`` physics steps.

        Returns:
            False when MuJoCo hit a numerical instability (bad accelerations) and reset the data.
        """
        model, data, opt = self.model, self.data, self.model.opt
        warnings_before = self._bad_qacc.number
        if self._force_threshold_sq is None:
            opt.disableflags = self._flags_off
            mujoco.mj_step2(model, data)
            if self.decimation > 1:
                mujoco.mj_step(model, data, nstep=self.decimation - 1)
            opt.disableflags = self._flags_on
        else:
            # Sensors on in every physics step: each step's strongest self-contact force is read
            # right after the step that computed it.
            force, threshold_sq = self._self_force, self._force_threshold_sq
            mujoco.mj_step2(model, data)
            hits = 0
            if force[0] and force[1] ** 2 + force[2] ** 2 + force[3] ** 2 > threshold_sq:
                hits += 1
            for _ in range(self.decimation - 1):
                mujoco.mj_step(model, data)
                if force[0] and force[1] ** 2 + force[2] ** 2 + force[3] ** 2 > threshold_sq:
                    hits += 1
            self.self_collision[0] = hits
        mujoco.mj_step1(model, data)
        return self._bad_qacc.number == warnings_before
