"""Train a G1 motion-tracking policy with stable-baselines3 PPO on CPU.

::

    pip install "robomotion[rl]"
    python examples/train_ppo.py --motion walk.csv --timesteps 2000000 --num-envs 2 --output runs/walk
    python examples/train_ppo.py --timesteps 512 --output runs/smoke          # smoke test (home pose)
    python examples/train_ppo.py --motion walk.csv --export --output runs/walk   # + runs/walk/policy.onnx
    robomotion play runs/walk/policy.onnx                                       # run the export

Writes to ``--output`` (atomically, refreshed every ``--save-every`` steps and at the end):

* ``policy.zip``: the SB3 PPO model; ``vecnormalize.pkl``: observation normalisation statistics;
* ``run.json``: the motion, the environment settings and the PPO hyper-parameters (what
  ``examples/play_policy.py`` needs to rebuild the same observation contract);
* ``episodes.csv``: one row per finished episode (timesteps, return, length, wall seconds);
* ``returns.png``: episode return and length against training steps;
* with ``--export``, ``policy.onnx``: the deterministic actor with the observation normalisation baked
  in, mjlab's inputs, outputs (the first reference clip embedded) and metadata
  (:func:`robomotion.envs.tracking.export.export_onnx`): ``robomotion play`` and mjlab-style
  deployment runners run it.

Hyper-parameters follow BeyondMimic's PPO where they carry over to a CPU run and SB3 (actor and
critic 512-256-128 ELU, gamma 0.99, lambda 0.95, clip 0.2, entropy 0.005, 5 epochs, observation
normalisation). Three differ. A CPU run has 1 to 16 environments, not 4096, so the rollout is 2048
steps per environment. BeyondMimic's learning rate 1e-3 is adapted to a KL of 0.01 by rsl_rl; SB3 has
no such schedule, and its KL early stopping at 1e-3 cut every update to its first minibatches here,
so the rate is a fixed 3e-4. The initial action std is 0.5, not 1.0: at 1.0 the action-rate penalty of
pure exploration noise (0.1 x 0.02 x 2 x 29 = 0.12 per step) outweighs a perfect step's 0.1, so early
on ending an episode pays.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from robomotion.atomic import atomic_path, write_text

ENV_ID = "robomotion/G1Tracking-v0"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--motion", nargs="*", default=[],
                        help="reference motion file(s); default: the G1 home pose held for 3 s")
    parser.add_argument("--weights", nargs="*", type=float, help="sampling weight per motion file")
    parser.add_argument("--output", type=Path, default=Path("runs/ppo"), help="output folder")
    parser.add_argument("--timesteps", type=int, default=1_000_000, help="total environment steps")
    parser.add_argument("--num-envs", type=int, default=1, help="parallel environments (subprocesses when > 1)")
    parser.add_argument("--n-steps", type=int, default=2048, help="rollout steps per environment per update")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--episode-seconds", type=float, default=10.0)
    parser.add_argument("--reset-noise", action=argparse.BooleanOptionalAction, default=True,
                        help="BeyondMimic's noise on the initial state (--no-reset-noise: start on the reference)")
    parser.add_argument("--net", type=int, nargs="+", default=[512, 256, 128], help="hidden layer sizes")
    parser.add_argument("--init-std", type=float, default=0.5,
                        help="initial action standard deviation (BeyondMimic: 1.0 with 4096 environments)")
    parser.add_argument("--save-every", type=int, default=100_000, help="checkpoint interval, steps")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (be kind to shared machines)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--observation", default="mjlab",
                        choices=("mjlab", "mjlab-no-state-estimation", "robomotion-v0"),
                        help="observation layout (default: mjlab's 160)")
    parser.add_argument("--self-collision-weight", type=float, default=None,
                        help="weight of the self-collision term (default mjlab's -10; -0.1 helps a CPU run on a pose "
                             "with the hands at the hips, see docs/envs.md)")
    parser.add_argument("--export", action="store_true",
                        help="also write OUTPUT/policy.onnx (mjlab's ONNX contract, for robomotion play)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=sys.stderr.isatty(),
                        help="show a progress bar")
    return parser.parse_args(argv)


def plot_curve(rows: list[dict], path: Path) -> None:
    """Episode return and length against training steps (raw and a moving average), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.array([row["timesteps"] for row in rows])
    figure, axes = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
    for axis, key, label in ((axes[0], "return", "episode return"), (axes[1], "length", "episode length (steps)")):
        values = np.array([row[key] for row in rows], dtype=float)
        axis.plot(steps, values, ".", alpha=0.3, markersize=3)
        window = max(1, len(values) // 20)
        if len(values) >= window:
            smooth = np.convolve(values, np.ones(window) / window, mode="valid")
            axis.plot(steps[window - 1 :], smooth, linewidth=2)
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    axes[1].set_xlabel("environment steps")
    axes[0].set_title("G1Tracking-v0 PPO")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110)
    plt.close(figure)


def write_episodes(rows: list[dict], path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["timesteps", "return", "length", "wall_seconds"])
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        import torch
        from stable_baselines3 import PPO
        from stable_baselines3.common.callbacks import BaseCallback
        from stable_baselines3.common.env_util import make_vec_env
        from stable_baselines3.common.vec_env import SubprocVecEnv, VecNormalize
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        print(f"train_ppo needs stable-baselines3: pip install 'robomotion[rl]' ({exc})", file=sys.stderr)
        return 2

    import robomotion.envs  # noqa: F401  (registers the environment)
    from robomotion.envs.tracking.config import TrackingConfig
    from robomotion.envs.tracking.terms import RewardConfig

    torch.set_num_threads(args.threads)
    output: Path = args.output
    output.mkdir(parents=True, exist_ok=True)
    if args.motion:
        motion = [str(Path(path).resolve()) for path in args.motion]
    else:
        from robomotion.robots import get_robot

        motion = get_robot("g1").home_motion()
    config = TrackingConfig(episode_seconds=args.episode_seconds, observation=args.observation)
    if args.self_collision_weight is not None:
        config = config.replace(reward=RewardConfig(self_collision_weight=args.self_collision_weight))
    if not args.reset_noise:
        config = config.replace(reset_noise=None)
    env_kwargs = {"motion": motion, "weights": args.weights, "config": config}
    venv = make_vec_env(
        ENV_ID,
        n_envs=args.num_envs,
        seed=args.seed,
        env_kwargs=env_kwargs,
        vec_env_cls=SubprocVecEnv if args.num_envs > 1 else None,
    )
    venv = VecNormalize(venv, norm_obs=True, norm_reward=False, gamma=0.99)

    n_steps = max(8, min(args.n_steps, args.timesteps // args.num_envs))
    hyper = {
        "learning_rate": args.learning_rate,
        "n_steps": n_steps,
        "batch_size": min(args.batch_size, n_steps * args.num_envs),
        "n_epochs": 5,
        "gamma": 0.99,
        "gae_lambda": 0.95,
        "clip_range": 0.2,
        "ent_coef": 0.005,
        "max_grad_norm": 1.0,
    }
    policy_kwargs = {"net_arch": {"pi": args.net, "vf": args.net}, "activation_fn": torch.nn.ELU,
                     "log_std_init": float(np.log(args.init_std))}
    model = PPO("MlpPolicy", venv, policy_kwargs=policy_kwargs, seed=args.seed, device="cpu", verbose=0, **hyper)

    run_info = {
        "env_id": ENV_ID,
        "motion": motion if isinstance(motion, list) else None,
        "weights": args.weights,
        "config": asdict(config),
        "ppo": hyper,
        "net": args.net,
        "init_std": args.init_std,
        "num_envs": args.num_envs,
        "seed": args.seed,
    }
    write_text(output / "run.json", json.dumps(run_info, indent=2))
    rows: list[dict] = []
    started = time.perf_counter()

    def checkpoint() -> None:
        with atomic_path(output / "policy.zip") as tmp:
            model.save(tmp)
        with atomic_path(output / "vecnormalize.pkl") as tmp:
            venv.save(tmp)
        write_episodes(rows, output / "episodes.csv")
        if rows:
            plot_curve(rows, output / "returns.png")

    class EpisodeLog(BaseCallback):
        """Collects finished episodes (SB3's Monitor adds ``info["episode"]``); checkpoints every ``save_every``."""

        def __init__(self) -> None:
            super().__init__()
            self._next_save = args.save_every

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                episode = info.get("episode")
                if episode is not None:
                    rows.append({
                        "timesteps": self.num_timesteps,
                        "return": round(float(episode["r"]), 6),
                        "length": int(episode["l"]),
                        "wall_seconds": round(time.perf_counter() - started, 3),
                    })
            if self.num_timesteps >= self._next_save:
                self._next_save += args.save_every
                checkpoint()
            return True

    model.learn(total_timesteps=args.timesteps, callback=EpisodeLog(), progress_bar=args.progress)
    checkpoint()
    exported = None
    if args.export:
        from robomotion.envs.tracking.env import G1TrackingEnv
        from robomotion.envs.tracking.export import export_onnx

        exported = export_onnx(model, G1TrackingEnv(motion=motion, weights=args.weights, config=config),
                               output / "policy.onnx", normalizer=venv, run_path=str(output.resolve()))
    venv.close()
    elapsed = time.perf_counter() - started
    last = rows[-20:]
    summary = (
        f"trained {model.num_timesteps} steps in {elapsed:.1f} s ({model.num_timesteps / elapsed:.0f} steps/s), "
        f"{len(rows)} episodes"
    )
    if last:
        summary += (f"; last {len(last)} episodes: return {np.mean([r['return'] for r in last]):.3f}, "
                    f"length {np.mean([r['length'] for r in last]):.1f}")
    print(summary)
    print(f"wrote {output / 'policy.zip'}, {output / 'episodes.csv'}, {output / 'returns.png'}"
          + (f", {exported}" if exported else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
