"""Does ``validate``'s FAIL mean "a tracking policy cannot learn this"? The confusion table.

Runs :func:`robomotion.envs.validate` on the labelled corpus of
:mod:`robomotion.envs.validation.corpus` (known-trackable real clips and known-impossible
corruptions of them) and prints, for the train and the held-out split separately:

* overall: trackable clips not failed / impossible clips failed (the goal: >= 95 % each);
* per check: how many trackable clips it fails (false alarms) and how many impossible clips it
  fails (detections); per corruption kind: detected, and detected by the check that names it;
* the clips it gets wrong, with their reasons.

The closed-loop referee (``--referee``, on by default when the policy is there): the real mjlab
policy trained on g1-moves ``B_Fence1`` (``data/g1_moves/policies/B_Fence1/B_Fence1.onnx``) is run by
:func:`robomotion.envs.tracking.play.play` on the middle 6 s of its own clip and on each corruption of
that crop. A clip counts as *tracked* when the policy does not fall (mjlab's terminations) and its
per-step mean body-position error stays within ``TRACKED_ERROR_M`` (a teleport moves the reference sideways,
which no termination checks); the verdict of ``validate`` is printed next to it.

Usage::

    python benchmarks/trackability.py                       # whole corpus (~3-4 min on one core)
    python benchmarks/trackability.py --quick               # 2 base clips per source
    python benchmarks/trackability.py --json out/trackability.json

Needs the project's ``shared`` folder (``--shared``, default ``$ROBOMOTION_SHARED_DIR`` or ``../shared``); retargeted mocap clips
are cached under ``.cache/trackability`` (``--cache``). Speed: each clip's validation wall time is
summed and compared with the clips' duration (baseline: real time).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Largest per-step mean tracked-body error (m) up to which a policy that did not fall counts as
#: tracking the clip (B_Fence1's policy tracks its whole clip with 7.4 cm at most, 4.3 cm on average).
TRACKED_ERROR_M = 0.12


def _rows(results: list[dict], split: str) -> list[str]:
    part = [r for r in results if r["split"] == split]
    good = [r for r in part if r["label"] == "trackable"]
    bad = [r for r in part if r["label"] == "impossible"]
    lines = [f"== {split}: {len(good)} known-trackable, {len(bad)} known-impossible"]
    not_failed = sum(r["verdict"] != "fail" for r in good)
    failed = sum(r["verdict"] == "fail" for r in bad)
    verdicts = Counter(r["verdict"] for r in good)
    lines.append(
        f"   trackable not FAIL: {not_failed}/{len(good)} = {100 * not_failed / max(1, len(good)):.1f} %"
        f"   (pass {verdicts['pass']}, warn {verdicts['warn']}, fail {verdicts['fail']})"
    )
    lines.append(f"   impossible FAIL:    {failed}/{len(bad)} = {100 * failed / max(1, len(bad)):.1f} %")
    checks = sorted({c for r in part for c in r["failed_checks"]})
    lines.append(f"   {'check':22s} {'fails trackable':>16s} {'fails impossible':>17s}")
    for check in checks:
        false_alarms = sum(check in r["failed_checks"] for r in good)
        detections = sum(check in r["failed_checks"] for r in bad)
        lines.append(f"   {check:22s} {false_alarms:>9d}/{len(good):<6d} {detections:>9d}/{len(bad):<7d}")
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in bad:
        by_kind[r["kind"]].append(r)
    lines.append(f"   {'corruption':12s} {'FAIL':>8s} {'named by':>26s}")
    for kind, rows in sorted(by_kind.items()):
        named = sum(r["expected_check"] in r["failed_checks"] for r in rows)
        detected = sum(r["verdict"] == "fail" for r in rows)
        lines.append(f"   {kind:12s} {detected:>3d}/{len(rows):<4d} {rows[0]['expected_check']:>18s} {named}/{len(rows)}")
    for r in good:
        if r["verdict"] == "fail":
            lines.append(f"   FALSE ALARM {r['name']}: {'; '.join(r['reasons'])}")
    for r in bad:
        if r["verdict"] != "fail":
            lines.append(f"   MISSED {r['name']} ({r['verdict']})")
    return lines


def referee(shared: Path) -> list[str]:
    """The B_Fence1 policy on its clip's middle 6 s and on each corruption of it, next to the verdicts."""
    from robomotion.envs.tracking.play import play
    from robomotion.envs.tracking.policy import Policy

    from robomotion.envs.validation.api import validate
    from robomotion.envs.validation.corpus import CROP_S, _crop, g1_moves_clips
    from robomotion.envs.validation.corruptions import CORRUPTIONS, NotApplicable, corrupt

    path = shared / "data" / "g1_moves" / "policies" / "B_Fence1" / "B_Fence1.onnx"
    policy = Policy(path)
    clip = next(c for c in g1_moves_clips(shared) if c.name == "B_Fence1")
    crop = _crop(clip.motion, CROP_S)
    lines = [f"== referee: the mjlab policy {path.name} (tracked = no fall and body error <= "
             f"{TRACKED_ERROR_M * 100:g} cm in every step)",
             f"   {'clip':22s} {'policy':>8s} {'fell at':>8s} {'mean/max error':>15s} {'tracked':>8s} {'validate':>9s}"]
    agree = total = 0
    for kind in ("real", *CORRUPTIONS):
        try:
            motion = crop if kind == "real" else corrupt(crop, kind)
        except NotApplicable:
            lines.append(f"   {'B_Fence1+' + kind:22s} (not applicable: too calm to speed up beyond the motors)")
            continue
        result = play(policy, motion, progress=False)
        tracked = result.survived and result.max_body_error <= TRACKED_ERROR_M
        verdict = validate(motion, progress=False).verdict
        agree += tracked == (verdict != "fail")
        total += 1
        fell = f"{result.fell_at:.2f}" if result.fell_at is not None else "-"
        lines.append(f"   {'B_Fence1' + ('' if kind == 'real' else '+' + kind):22s} "
                     f"{'up' if result.survived else 'fell':>8s} {fell:>8s} "
                     f"{result.mean_body_error * 100:6.1f}/{result.max_body_error * 100:5.1f} cm "
                     f"{'yes' if tracked else 'no':>8s} {verdict:>9s}")
    lines.append(f"   validate agrees with the policy (FAIL <=> not tracked) on {agree}/{total} clips")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path,
                        default=Path(os.environ.get("ROBOMOTION_SHARED_DIR", ROOT.parent / "shared")))
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "trackability")
    parser.add_argument("--quick", action="store_true", help="2 base clips per source")
    parser.add_argument("--json", type=Path, help="write every clip's result here")
    parser.add_argument("--no-referee", dest="referee", action="store_false",
                        help="skip running the B_Fence1 policy (needs onnxruntime and the ONNX)")
    args = parser.parse_args(argv)
    if not (args.shared / "data").is_dir():
        print(f"needs the shared data folder (not found: {args.shared})", file=sys.stderr)
        return 2

    from robomotion.envs.validation.api import validate
    from robomotion.envs.validation.corpus import impossible_clips, trackable_clips
    from robomotion.envs.validation.corruptions import EXPECTED_CHECK
    from tqdm.auto import tqdm

    from robomotion.retarget import retarget

    trackable = trackable_clips(args.shared, args.cache, retarget)
    if args.quick:
        by_source: dict[str, list] = defaultdict(list)
        for clip in trackable:
            if len(by_source[clip.source]) < 2 and clip.motion.duration >= 2.5:
                by_source[clip.source].append(clip)
        trackable = [c for clips in by_source.values() for c in clips]
    corpus = [*trackable, *impossible_clips(trackable)]
    results, wall, seconds = [], 0.0, 0.0
    for clip in tqdm(corpus, desc="validate", unit="clip"):
        start = time.perf_counter()
        report = validate(clip.motion, progress=False)
        wall += time.perf_counter() - start
        seconds += clip.motion.duration
        results.append({
            "name": clip.name, "base": clip.base, "source": clip.source, "category": clip.category,
            "label": clip.label, "kind": clip.kind, "split": clip.split, "verdict": report.verdict,
            "duration_s": clip.motion.duration,
            "failed_checks": sorted({f.check for f in report.failures}),
            "expected_check": EXPECTED_CHECK.get(clip.kind),
            "reasons": [f"{f.check}: {f.message}" for f in report.failures],
            "floor_offset_m": report.check("floor_offset").metrics["floor_offset_m"],
        })
    for split in ("train", "held_out"):
        print("\n".join(_rows(results, split)))
    if args.referee and (args.shared / "data" / "g1_moves" / "policies" / "B_Fence1" / "B_Fence1.onnx").is_file():
        print("\n".join(referee(args.shared)))
    print(f"speed: {len(results)} clips, {seconds:.0f} s of motion validated in {wall:.0f} s wall "
          f"= {seconds / max(wall, 1e-9):.1f}x real time (baseline: real time, 1x)")
    if args.json:
        from robomotion.atomic import write_text

        args.json.parent.mkdir(parents=True, exist_ok=True)
        write_text(args.json, json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
