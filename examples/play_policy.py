"""Replay a policy trained by ``examples/train_ppo.py`` and write a video of it.

::

    python examples/play_policy.py --run runs/walk                       # runs/walk/play.mp4
    python examples/play_policy.py --run runs/walk --motion other.csv --episodes 3 --output other.mp4

Episodes start at the first frame of the reference with no noise (mjlab's "play" settings) and run
until the clip ends, the time limit, or a failure. The robot is rendered with MuJoCo offscreen
(fast settings); orange spheres mark the reference's tracked bodies. Prints the return, length and
ending of each episode, and the mean of every reward term.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# Offscreen rendering without a display needs EGL, chosen before mujoco is first imported.
if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    os.environ.setdefault("MUJOCO_GL", "egl")

from robomotion.atomic import atomic_path  # noqa: E402


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, required=True, help="output folder of train_ppo.py")
    parser.add_argument("--motion", nargs="*", help="motion file(s) to track instead of the training ones")
    parser.add_argument("--output", type=Path, help="video path (default: RUN/play.mp4)")
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=1000, help="control steps per episode at most")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        from stable_baselines3 import PPO
        from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        print(f"play_policy needs stable-baselines3: pip install 'robomotion[rl]' ({exc})", file=sys.stderr)
        return 2
    import imageio.v2 as imageio
    from robomotion.envs.tracking.config import TrackingConfig
    from robomotion.envs.tracking.env import G1TrackingEnv
    from tqdm import tqdm

    from robomotion.robots import get_robot

    run = json.loads((args.run / "run.json").read_text())
    motion = args.motion or run["motion"] or get_robot("g1").home_motion()
    trained = run["config"]
    contract = {key: trained[key] for key in ("observation", "default_pose", "clamp_targets") if key in trained}
    if "observation" not in trained:  # a run from before mjlab's contract became the default
        contract = {"observation": "robomotion-v0", "default_pose": "home", "clamp_targets": True}
    config = TrackingConfig.evaluation(
        episode_seconds=args.max_steps / trained["control_hz"],
        command_offsets=tuple(trained["command_offsets"]),
        action_scale=trained["action_scale"],
        action_clip=trained["action_clip"],
        clip_end="truncate",
        **contract,
    )
    env = G1TrackingEnv(motion=motion, config=config, render_mode="rgb_array", width=args.width, height=args.height)
    policy = PPO.load(args.run / "policy.zip", device="cpu")
    normalizer = None
    if (args.run / "vecnormalize.pkl").exists():
        normalizer = VecNormalize.load(str(args.run / "vecnormalize.pkl"), DummyVecEnv([lambda: env]))
        normalizer.training = False

    output = args.output or args.run / "play.mp4"
    terms = defaultdict(list)
    with atomic_path(output) as tmp, imageio.get_writer(tmp, fps=env.metadata["render_fps"], codec="libx264",
                                                        quality=7, macro_block_size=16) as video:
        for episode in range(args.episodes):
            observation, info = env.reset(options={"clip": episode % env.library.num_clips, "frame": 0})
            total, steps, ending = 0.0, 0, "time limit"
            video.append_data(env.render())
            for _ in tqdm(range(args.max_steps), desc=f"episode {episode}", leave=False):
                model_input = normalizer.normalize_obs(observation) if normalizer is not None else observation
                action, _ = policy.predict(model_input, deterministic=True)
                observation, reward, terminated, truncated, info = env.step(action)
                video.append_data(env.render())
                total += reward
                steps += 1
                for name, value in info["reward_terms"].items():
                    terms[name].append(value)
                if terminated or truncated:
                    ending = info["termination"] if terminated else "end of clip or time limit"
                    break
            print(f"episode {episode} ({env.library.clip_names[info['clip']]}): return {total:.3f}, "
                  f"{steps} steps ({steps * env.dt:.2f} s), ended by {ending}")
    env.close()
    print("mean reward terms per step: " + ", ".join(f"{k} {np.mean(v):+.4f}" for k, v in terms.items()))
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
