"""Generation speed and motion quality of ``robomotion-small`` (or another model).

Speed: seconds of motion generated per second of wall time for one sample of ``--duration``
seconds, text encoding included (a fresh prompt every call, so the encoder's cache never
helps), post-processing included, the model already loaded. Measured for the model's default
number of denoising steps and, as the baseline in the same run, for Kimodo's default of 100
DDIM steps; the ratio is default-speed / baseline-speed. The goal is >= 20x real time.

Quality: MBench motion-quality metrics and Kimodo's foot-skate metrics of generated motions
(``--samples`` per prompt, prompts from the training labels) next to the same metrics of the
real training clips (put on the model's skeleton), all at 30 fps (MBench's numbers are
per-frame; ViMoGen evaluates at 20 fps). Needs ``--data`` (the mocap pack) for the real clips.

Text agreement: the prompt suite of :mod:`robomotion.generators.evaluation` (action families
with rules on joint positions, held-out wordings, out-of-vocabulary prompts): match rate per
family, share of clips floating (no body on the floor for > 0.8 s), vocabulary warnings; the
tuning wordings' totals on one line.

Retrieval (with ``--data``): the TMR-style retrieval model shipped in ``models/tmr_small``
(:mod:`robomotion.generators.evaluation.retrieval`, trained on the training split of the mocap
pack) scores the held-out clips' real windows and clips generated for their texts: R-precision
top-1/2/3 (pool of 32), matching score, FID generated vs real (and between two halves of the
real windows, FID's noise floor at this sample size).

Run: ``python benchmarks/generate.py [--data ../shared/data/mocap] [--repeats 5] [--threads 2]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

PROMPTS = (
    "a person walks forward",
    "a person runs",
    "a person jumps",
    "a person kicks high with the right leg",
    "a person directs traffic with the arms",
    "a person dribbles a basketball while moving forward",
    "a person dances",
    "a person walks and turns around",
)


#: Prompts the text planner turns into constraints (a root path, hand keyframes); planned
#: requests run regular guidance, so the cost is the planning, inpainting and exact hitting.
PLANNED_PROMPTS = (
    "a person walks backward",
    "someone walks in a circle to the left",
    "a person sidesteps to the right",
    "a person raises the left hand",
)


def speed(model, duration: float, steps: int | None, repeats: int, prompts=PROMPTS, **options) -> tuple[float, float]:
    """(median, best) seconds of motion per wall second over ``repeats`` calls."""
    import warnings

    ratios = []
    for i in range(repeats):
        prompt = f"{prompts[i % len(prompts)]} {i}"  # a new sentence each call: encoding is timed
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # vocabulary warnings: timed, not printed
            model(prompt, duration=duration, seed=i, num_denoising_steps=steps, progress=False, **options)
        ratios.append(duration / (time.perf_counter() - start))
    return statistics.median(ratios), max(ratios)


def quality_table(generated: list, real: list) -> str:
    from robomotion.metrics import foot_skate_metrics, mbench_metrics, summarize

    def rows(motions):
        return summarize([{**mbench_metrics(m).as_dict(), **foot_skate_metrics(m).as_dict()} for m in motions])

    gen, ref = rows(generated), rows(real)
    keys = [k for k in gen if k != "fps" and not np.isnan(ref[k][0])]
    lines = [f"| metric (30 fps) | generated ({len(generated)}) | real clips ({len(real)}) |", "|---|---|---|"]
    for key in keys:
        lines.append(f"| {key} | {gen[key][0]:.4f} ± {gen[key][1]:.4f} | {ref[key][0]:.4f} ± {ref[key][1]:.4f} |")
    return "\n".join(lines)


def agreement(model, seeds: list[int]) -> None:
    """Print the text-agreement table (held-out wordings) and the tuning wordings' totals."""
    from robomotion.generators.evaluation import evaluate_text_agreement

    start = time.perf_counter()
    held = evaluate_text_agreement(model, split="heldout", seeds=seeds)
    tune = evaluate_text_agreement(model, split="tune", seeds=seeds, out_of_vocabulary=())
    print(f"\ntext agreement, seeds {seeds}, 5 s clips ({time.perf_counter() - start:.0f} s):\n")
    print(held.table())
    (hit, total), (fl, _) = tune.match, tune.floating
    print(f"tuning wordings: match {hit}/{total} ({hit / total:.0%}), float {fl}/{total} ({fl / total:.0%})")


def retrieval(model, data: str) -> None:
    """Print held-out R-precision / FID of real and generated clips under the shipped retrieval model."""
    from robomotion.generators.evaluation.retrieval import (
        evaluate_retrieval,
        generated_scores,
        load_retrieval,
        split_datasets,
    )
    from robomotion.resources import model_path

    start = time.perf_counter()
    tmr = load_retrieval(model_path("tmr_small"))
    _, held = split_datasets(data, tmr.config, train=False)
    real = evaluate_retrieval(tmr, held)
    fake = generated_scores(tmr, model, held)
    print(f"\nretrieval on the held-out clips (models/tmr_small, {time.perf_counter() - start:.0f} s):\n")
    print("| motions | pairs | R-precision top-1/2/3 | matching | FID vs real held-out |\n|---|---|---|---|---|")
    print(f"| real held-out windows | {real['pairs']} | {'/'.join(map(str, real['r_precision']))} | {real['matching']} | "
          f"{fake['fid_real_halves']} (half vs half) |")
    print(f"| generated for their texts | {fake['clips']} | {'/'.join(map(str, fake['r_precision']))} | {fake['matching']} | "
          f"{fake['fid']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--samples", type=int, default=3, help="samples per prompt for the quality table")
    parser.add_argument("--data", default=None, help="mocap pack folder (real-clip metrics)")
    parser.add_argument("--agreement-seeds", type=int, nargs="*", default=[0, 1], help="seeds of the text-agreement suite (none: skip it)")
    args = parser.parse_args()

    import torch

    import robomotion

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = robomotion.load_model(args.model)
    model("a person walks", duration=1.0, seed=0, progress=False)  # loads the text encoder
    print(f"model {model.name}: loaded in {time.perf_counter() - start:.1f} s (text encoder included), {args.threads} threads")

    default_steps = getattr(model, "defaults", {}).get("num_denoising_steps")
    median, best = speed(model, args.duration, None, args.repeats)
    base_median, base_best = speed(model, args.duration, 100, max(2, args.repeats // 2))
    print("\n| setting | x real time (median) | x real time (best) |\n|---|---|---|")
    print(f"| default ({default_steps} steps) | {median:.1f} | {best:.1f} |")
    print(f"| baseline: 100 steps (Kimodo default) | {base_median:.1f} | {base_best:.1f} |")
    print(f"speed-up of the default over the baseline: {median / base_median:.2f}x; goal >= 20x real time: "
          f"{'met' if median >= 20 else 'NOT met'} (median)")
    if hasattr(model, "plan"):
        planned, planned_best = speed(model, args.duration, None, args.repeats, PLANNED_PROMPTS)
        unplanned, unplanned_best = speed(model, args.duration, None, args.repeats, PLANNED_PROMPTS, planner=False)
        print(f"\n| text planner (prompts it plans: {len(PLANNED_PROMPTS)}) | x real time (median) | x real time (best) |\n|---|---|---|")
        print(f"| planner on (constraints, regular guidance) | {planned:.1f} | {planned_best:.1f} |")
        print(f"| planner off, same prompts | {unplanned:.1f} | {unplanned_best:.1f} |")
        print(f"planner on / off: {planned / unplanned:.2f}x; goal >= 20x real time with the planner: "
              f"{'met' if planned >= 20 else 'NOT met'} (median)")

    if args.agreement_seeds:
        agreement(model, args.agreement_seeds)

    if args.data:
        retrieval(model, args.data)

    generated = []
    for prompt in PROMPTS:
        generated += model(prompt, duration=5.0, num_samples=args.samples, seed=0, progress=False)
    real = []
    if args.data:
        from robomotion.generators.train import load_training_clips

        real = [clip.motion for clip in load_training_clips(args.data, model.skeleton.name, progress=False)]
    print()
    print(quality_table(generated, real or generated))
    if not real:
        print("(no --data: the right column repeats the generated motions)")


if __name__ == "__main__":
    main()
