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
and wall-clock. Every measurement runs ``--repeats`` times (the machine may be shared) and medians
are reported. Vectorised throughput uses ``gymnasium.make_vec`` (sync and async, wall-clock). Each
environment first takes warm-up steps, so loading (or, on a first run, compiling) the numba step
kernels stays out of the timed region.

Run: ``python benchmarks/env_step.py [--steps 6000] [--chunk 200] [--repeats 3] [--num-envs 2]
[--policy zero|random] [--mdp mjlab|robomotion-v0]`` (``--num-envs 0`` skips the vectorised runs)
"""

from __future__ import annotations

import argparse
import time

import gymnasium
import mujoco
import numpy as np
import robomotion.envs  # noqa: F401  (registers the environment)
from robomotion.envs.tracking.config import TrackingConfig
from robomotion.envs.tracking.env import G1TrackingEnv

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


def warm_up(env, steps: int = 50) -> None:
    """Step (zero actions, auto-reset) before timing: loads the compiled step kernels (numba's on-disk
    cache; compiles them on a first run) and warms the caches. Works on single and vector envs."""
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    env.reset(seed=0)
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(action)
        if np.all(terminated | truncated):
            env.reset()


def vector_rate(mode: str, motion, num_envs: int, steps: int, policy: str, seed: int, config: TrackingConfig) -> float:
    """Environment steps per second of ``gymnasium.make_vec`` (``num_envs`` x vector steps / s)."""
    envs = gymnasium.make_vec("robomotion/G1Tracking-v0", num_envs=num_envs, vectorization_mode=mode, motion=motion,
                              config=config)
    actions = _actions(policy, steps, envs.single_action_space.shape[0], seed)
    warm_up(envs)
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


def measure_single(env: G1TrackingEnv, baselines: list, actions: np.ndarray, chunk: int, seed: int):
    """One interleaved run: the environment through ``actions`` in chunks, each chunk's physics replayed
    on every baseline ``(model, data)`` right after it.

    Returns (chunks, 1 + baselines, 2) seconds, (wall-clock, CPU) of the environment then of each
    baseline's replay, and the number of resets.
    """
    env.reset(seed=seed)
    chunks, resets = [], 0
    for start in range(0, len(actions), chunk):
        env_time, inputs, chunk_resets = run_env(env, actions[start : start + chunk])
        resets += chunk_resets
        physics = [replay_physics(model, data, inputs, env.config.decimation) for model, data in baselines]
        chunks.append((env_time, *physics))
    return np.array(chunks), resets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--motion", help="reference motion file (default: the G1 home pose held for 3 s)")
    parser.add_argument("--steps", type=int, default=6000, help="control steps of each single-environment run")
    parser.add_argument("--chunk", type=int, default=200, help="steps per interleaved env/physics chunk")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measurement (medians are reported)")
    parser.add_argument("--num-envs", type=int, default=2, help="sub-environments of the vectorised runs")
    parser.add_argument("--policy", choices=("zero", "random"), default="zero",
                        help="zero actions (an untrained policy: falls and resets) or N(0, 0.5) actions")
    parser.add_argument("--mdp", choices=("mjlab", "robomotion-v0"), default="mjlab",
                        help="mjlab's contract (default; self-collision forces read on every physics step) or "
                             "this project's first MDP (TrackingConfig.robomotion_v0())")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    robot = get_robot("g1")
    motion = args.motion or robot.home_motion()
    config = TrackingConfig() if args.mdp == "mjlab" else TrackingConfig.robomotion_v0()
    env = G1TrackingEnv(motion=motion, config=config)
    decimation, physics_hz = env.config.decimation, env.config.physics_hz
    baselines = [(model, mujoco.MjData(model)) for model in
                 (_physics_model(robot, physics_hz, sensors) for sensors in (True, False))]
    actions = _actions(args.policy, args.steps, env.action_space.shape[0], args.seed)
    warm_up(env)

    print(f"G1Tracking-v0 ({args.mdp}), policy={args.policy}: {args.repeats} runs of {args.steps} steps in chunks of {args.chunk}; "
          f"physics {physics_hz:g} Hz x decimation {decimation}; times are CPU time unless marked wall-clock")
    runs = []  # per run: (chunks, 3, 2) seconds
    for repeat in range(args.repeats):
        chunks, resets = measure_single(env, baselines, actions, args.chunk, args.seed)
        runs.append(chunks)
        totals = chunks.sum(axis=0)
        print(f"  run {repeat + 1}: single env {args.steps / totals[0, 1]:5.0f} steps/s, raw mj_step "
              f"{totals[1, 1] * 1e6 / (args.steps * decimation):5.1f} us, ratio env / physics-bound "
              f"{totals[1, 1] / totals[0, 1]:.3f} (sensors off {totals[2, 1] / totals[0, 1]:.3f}), {resets} resets")
    env.close()

    runs = np.array(runs)  # (runs, chunks, 3, 2)
    totals = runs.sum(axis=1)  # (runs, 3, 2)
    env_rate = np.median(args.steps / totals[:, 0, :], axis=0)  # (wall, CPU)
    mj_step_us = np.median(totals[:, 1:, :] * 1e6 / (args.steps * decimation), axis=0)  # (baseline, clock)
    print(f"  median single env: {env_rate[1]:5.0f} steps/s ({1e6 / env_rate[1]:.1f} us/step; wall-clock "
          f"{env_rate[0]:.0f} steps/s); raw mj_step {mj_step_us[0, 1]:.1f} us (shipped), "
          f"{mj_step_us[1, 1]:.1f} us (sensors off)")
    for column, baseline in ((1, "shipped model"), (2, "sensors off")):
        chunk_ratios = (runs[:, :, column, 1] / runs[:, :, 0, 1]).ravel()
        print(f"  ratio env / physics-bound, {baseline:13s}: median of runs "
              f"{np.median(totals[:, column, 1] / totals[:, 0, 1]):.3f} (wall-clock "
              f"{np.median(totals[:, column, 0] / totals[:, 0, 0]):.3f}), chunk median {np.median(chunk_ratios):.3f}, "
              f"best decile {np.percentile(chunk_ratios, 90):.3f}")
    physics_bound = 1e6 / (decimation * mj_step_us[0, 0])  # wall-clock, shipped model
    for mode in ("sync", "async") if args.num_envs > 0 else ():
        steps = max(args.steps // (2 * args.num_envs), 1)
        rates = [vector_rate(mode, motion, args.num_envs, steps, args.policy, args.seed, config)
                 for _ in range(args.repeats)]
        print(f"  make_vec {mode:5s} x{args.num_envs}: {np.median(rates):5.0f} env steps/s (wall-clock, median of "
              f"{', '.join(f'{rate:.0f}' for rate in rates)}; {np.median(rates) / physics_bound:.2f} x one core's "
              f"physics-bound rate)")


if __name__ == "__main__":
    main()
