"""Throughput of ``robomotion/G1Tracking-v0`` against the physics-bound rate of the same model.

The single environment runs ``--steps`` control steps with the chosen policy, auto-resetting on
termination or truncation (resets count in its time), in chunks of ``--chunk`` steps. Right after
each chunk, every step's physics input (state, warm-start, control) is replayed with raw
``mujoco.mj_step(model, data, nstep=decimation)`` on the G1 scene as shipped
(``get_robot("g1").load_model()`` at the same 200 Hz timestep), timing only the physics. The
physics-bound rate is ``1 / (decimation x raw mj_step time)`` over exactly those states, and the
ratio ``env steps/s / physics-bound steps/s`` says what the environment's Python side costs
(1.0 = free). A stricter baseline disables MuJoCo's sensor stage (the environment evaluates sensors
once per control step, not on every physics step).

Interleaving env and physics chunk by chunk makes both see the same machine load; the per-chunk
ratios are summarised by their median and their best decile (the ratio on an idle core). Times are
per-thread CPU time (``time.thread_time``: time spent preempted by other processes does not count)
and wall-clock. Vectorised throughput uses ``gymnasium.make_vec`` (sync and async, wall-clock).

Run: ``python benchmarks/env_step.py [--steps 6000] [--chunk 200] [--num-envs 2] [--policy zero|random]``
"""

from __future__ import annotations

import argparse
import time

import gymnasium
import mujoco
import numpy as np

import robomotion.envs  # noqa: F401  (registers the environment)
from robomotion.envs.tracking import G1TrackingEnv
from robomotion.robots import get_robot


def _actions(policy: str, steps: int, size: int, seed: int) -> np.ndarray:
    if policy == "zero":
        return np.zeros((steps, size), dtype=np.float32)
    return np.random.default_rng(seed).normal(0.0, 0.5, (steps, size)).astype(np.float32)


def _now() -> np.ndarray:
    """(wall-clock, this thread's CPU time) in seconds."""
    return np.array((time.perf_counter(), time.thread_time()))


def run_env(env: G1TrackingEnv, actions: np.ndarray) -> tuple[np.ndarray, list, int]:
    """Step ``env`` through ``actions`` with auto-reset.

    Returns (wall, CPU) seconds spent in ``step`` and ``reset``, each step's physics input
    (qpos, qvel, warm-start before it; the control it applied) and the number of resets.
    """
    data = env.data
    inputs, resets, elapsed = [], 0, np.zeros(2)
    for action in actions:
        before = (data.qpos.copy(), data.qvel.copy(), data.qacc_warmstart.copy())
        start = _now()
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
            resets += 1
        elapsed += _now() - start
        inputs.append((*before, data.ctrl.copy()))
    return elapsed, inputs, resets


def replay_physics(model: mujoco.MjModel, data: mujoco.MjData, inputs: list, decimation: int) -> np.ndarray:
    """(wall, CPU) seconds of raw ``mj_step(nstep=decimation)`` from each recorded input (physics only)."""
    elapsed = np.zeros(2)
    for qpos, qvel, warmstart, ctrl in inputs:
        data.qpos[:] = qpos
        data.qvel[:] = qvel
        data.qacc_warmstart[:] = warmstart
        data.ctrl[:] = ctrl
        start = _now()
        mujoco.mj_step(model, data, nstep=decimation)
        elapsed += _now() - start
    return elapsed


def vector_rate(mode: str, motion, num_envs: int, steps: int, policy: str, seed: int) -> float:
    """Environment steps per second of ``gymnasium.make_vec`` (``num_envs`` x vector steps / s)."""
    envs = gymnasium.make_vec("robomotion/G1Tracking-v0", num_envs=num_envs, vectorization_mode=mode, motion=motion)
    actions = _actions(policy, steps, envs.single_action_space.shape[0], seed)
    envs.reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        envs.step(np.broadcast_to(action, (num_envs, action.size)))
    elapsed = time.perf_counter() - start
    envs.close()
    return num_envs * steps / elapsed


def _physics_model(robot, physics_hz: float, sensors: bool) -> mujoco.MjModel:
    model = robot.load_model()
    model.opt.timestep = 1.0 / physics_hz
    if not sensors:
        model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_SENSOR)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--motion", help="reference motion file (default: the G1 home pose held for 3 s)")
    parser.add_argument("--steps", type=int, default=6000, help="control steps of the single environment")
    parser.add_argument("--chunk", type=int, default=200, help="steps per interleaved env/physics chunk")
    parser.add_argument("--num-envs", type=int, default=2, help="sub-environments of the vectorised runs")
    parser.add_argument("--policy", choices=("zero", "random"), default="zero",
                        help="zero actions (an untrained policy: falls and resets) or N(0, 0.5) actions")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    robot = get_robot("g1")
    motion = args.motion or robot.home_motion()
    env = G1TrackingEnv(motion=motion)
    decimation, physics_hz = env.config.decimation, env.config.physics_hz
    baselines = [_physics_model(robot, physics_hz, sensors) for sensors in (True, False)]
    baseline_data = [mujoco.MjData(model) for model in baselines]
    actions = _actions(args.policy, args.steps, env.action_space.shape[0], args.seed)

    env.reset(seed=args.seed)
    chunks, resets = [], 0  # per chunk: (env, shipped physics, physics without sensors) x (wall, CPU) seconds
    for start in range(0, args.steps, args.chunk):
        env_time, inputs, chunk_resets = run_env(env, actions[start : start + args.chunk])
        resets += chunk_resets
        physics = [replay_physics(m, d, inputs, decimation) for m, d in zip(baselines, baseline_data)]
        chunks.append((env_time, *physics))
    env.close()
    chunks = np.array(chunks)  # (chunks, 3, 2)
    totals = chunks.sum(axis=0)

    print(f"G1Tracking-v0, policy={args.policy}: {args.steps} steps in {len(chunks)} chunks, {resets} resets; "
          f"physics {physics_hz:g} Hz x decimation {decimation}")
    for clock, label in ((1, "CPU time"), (0, "wall-clock")):
        env_rate = args.steps / totals[0, clock]
        mj_step_us = totals[1:, clock] * 1e6 / (args.steps * decimation)
        print(f"  [{label}] single env {env_rate:7.0f} steps/s ({1e6 / env_rate:6.1f} us/step); raw mj_step "
              f"{mj_step_us[0]:.1f} us (shipped), {mj_step_us[1]:.1f} us (sensors off)")
        for column, baseline in ((1, "shipped model"), (2, "sensors off")):
            ratios = chunks[:, column, clock] / chunks[:, 0, clock]
            overall = totals[column, clock] / totals[0, clock]
            print(f"    ratio env / physics-bound, {baseline:13s}: overall {overall:.3f}, "
                  f"chunk median {np.median(ratios):.3f}, best decile {np.percentile(ratios, 90):.3f}")
    physics_bound = args.steps / totals[1, 0]
    for mode in ("sync", "async"):
        rate = vector_rate(mode, motion, args.num_envs, max(args.steps // (2 * args.num_envs), 1), args.policy,
                           args.seed)
        print(f"  make_vec {mode:5s} x{args.num_envs}: {rate:7.0f} env steps/s (wall-clock; "
              f"{rate / physics_bound:.2f} x one core's physics-bound rate)")


if __name__ == "__main__":
    main()
