"""``robomotion batch``: run a manifest of prompts and motion files through generate/retarget/validate.

Examples::

    robomotion batch prompts.csv --steps generate,retarget,validate --output out/
    robomotion batch clips.jsonl --steps retarget,validate --output out/ --workers 2
    robomotion batch clips.parquet --steps retarget,validate --output out/ --resume --ray auto
    robomotion batch library.csv --steps validate,play --policy tracker.onnx --output out/

Writes ``DIR/results.parquet``, ``DIR/results.jsonl``, ``DIR/summary.html`` and one folder per row
under ``DIR/rows/``. Exit code 0 when every row ran without a FAIL verdict, 1 when any row failed
validation, is an error row or its policy fell (play), 2 for an unusable manifest or bad options.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="run a manifest (CSV / JSON lines / Parquet) of prompts and motion files, locally or on Ray",
        description=(
            "Run every row of a manifest (a prompt with seed and duration, or a motion file, with optional "
            "per-row options) through the given steps on a local process pool or on Ray, resumably, and write "
            "results.parquet, results.jsonl and summary.html. See docs/batch.md."
        ),
    )
    parser.add_argument("manifest", type=Path, help="CSV, JSON lines (.jsonl) or Parquet file, one input per row")
    parser.add_argument("--steps", default="generate,retarget,validate",
                        help="comma-separated steps among generate,retarget,validate,play (default: the first three)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes / Ray actors (default: CPUs of this machine / of the Ray cluster)")
    parser.add_argument("--ray", metavar="ADDRESS", default=None,
                        help="run on Ray: 'auto' joins a running local Ray or starts one, an address joins a cluster")
    parser.add_argument("--resume", action="store_true", help="skip rows already done in the output folder")
    parser.add_argument("--retries", type=int, default=2,
                        help="when a worker dies, run its row again at most this many times (default 2)")
    parser.add_argument("--robot", default="g1", help="robot (default g1)")
    parser.add_argument("--format", dest="robot_format", choices=("g1-csv", "beyondmimic-npz"), default="g1-csv",
                        help="robot motion output format (default g1-csv)")
    parser.add_argument("--report", choices=("html", "json"), default="html",
                        help="validation report per row: html (page and plots, default) or json only (faster)")
    parser.add_argument("--video", action="store_true", help="render each validation report's reference video (slow)")
    parser.add_argument("--policy", type=Path, metavar="ONNX",
                        help="the play step's tracking policy for every row (a play.policy column overrides it)")
    parser.add_argument("--checkpoint", type=float, default=60.0, metavar="SECONDS",
                        help="rewrite the tables and summary at most this often while rows finish (default 60)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from robomotion.batch import run_batch

    result = run_batch(
        args.manifest, args.output, args.steps, ray=args.ray, workers=args.workers, resume=args.resume,
        retries=args.retries, robot=args.robot, robot_format=args.robot_format, video=args.video, report=args.report,
        options={"play": {"policy": str(args.policy.resolve())}} if args.policy else None,
        checkpoint=args.checkpoint,
        progress=not args.no_progress,
    )
    for line in result.lines():
        print(line)
    print(f"wrote {result.files['parquet']}, {result.files['jsonl'].name}, {result.files['html'].name}")
    counts = result.counts()
    return 1 if counts.get("fail") or counts.get("error") or result.falls else 0
