"""``robomotion generate``: text to motion files (and, with ``--robot g1``, to a validated G1 motion).

Behaves like Kimodo's ``kimodo_gen``:

* the prompt is split on every "." into timeline segments; ``--duration`` takes one value for
  all segments or one per segment (seconds; frames = int(d * 30));
* ``--input_folder DIR`` reads ``DIR/meta.json`` (``text``/``texts``, ``duration``/``durations``,
  ``num_samples``, ``seed``, ``diffusion_steps``, ``cfg``) and ``DIR/constraints.json``;
  flags given on the command line win over meta values (``--num_samples``, ``--seed``,
  ``--diffusion_steps``, ``--duration``, the CFG flags), ``--constraints`` wins over the
  folder's file; a meta value of the wrong type is an error naming the field;
* outputs: one sample -> files at the stem (``STEM.npz`` Kimodo NPZ, ``STEM_amass.npz`` for
  SMPL-X skeletons, ``STEM.bvh`` with ``--bvh``, ``STEM.csv`` for G1 models); several samples
  -> a folder ``STEM/`` with ``STEM_00.npz``, ``STEM_01.npz`` ... (``amass_00.npz`` ...). A
  format's extension is not appended when the stem already ends with it.
* ``--robot g1`` also retargets each sample to the G1, writes ``<name>_g1.csv`` (MuJoCo qpos)
  and ``<name>_g1_beyondmimic.npz`` and runs the MuJoCo validation, with its report in
  ``<name>_g1_report/``. Exit code 1 if any validation verdict is ``fail``. ``--config FILE`` sets those
  two stages (``{"retarget": {...}, "validation": {...}}``, see :mod:`robomotion.cli.pipeline_config`).
  It retargets the motion as written to ``<name>.npz`` (float32), so ``generate --robot g1`` and
  ``generate`` followed by ``robomotion retarget <name>.npz`` give identical G1 motions (retargeting
  the float64 motion in memory instead can differ by up to ~0.14 rad at a joint near a singular
  pose, from input differences of 1e-7 m).
* a prompt far from everything the model was trained on is warned about on stderr (nearest
  known actions and their similarity); ``--list-actions`` prints what the model covers.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

from robomotion.config import add_config_argument, config_from_args
from robomotion.errors import FormatError, RobomotionError
from robomotion.jsonio import read_json

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="text -> motion (Kimodo NPZ / AMASS / BVH; --robot g1: G1 CSV + BeyondMimic NPZ + validation)",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _list_models_in_help(parser)
    parser.add_argument("prompt", nargs="?", help='text; split on "." into consecutive segments')
    parser.add_argument("--model", default=None, help="generator name (default robomotion-small; see the list below)")
    parser.add_argument("--duration", nargs="+", default=None, help='seconds, one for all or one per segment, e.g. "5 4"')
    parser.add_argument("--num_samples", type=int, default=None, help="samples (default 1)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (same seed, same motions)")
    parser.add_argument(
        "--constraints", default=None, help="Kimodo constraints JSON (examples and axes: see below)"
    )
    parser.add_argument("--input_folder", default=None, help="folder with meta.json [and constraints.json]")
    parser.add_argument("--cfg_type", choices=("nocfg", "regular", "separated"), default=None)
    parser.add_argument("--cfg_weight", type=float, nargs="+", default=None, help="1 weight (regular) or 2 (separated)")
    parser.add_argument("--diffusion_steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--num_transition_frames", type=int, default=5, help="frames shared between segments")
    parser.add_argument("--no-postprocess", dest="postprocess", action="store_false", help="skip foot-skate cleanup")
    parser.add_argument("--no-planner", dest="planner", action="store_false",
                        help="do not turn direction/speed/turn/side words into constraints (robomotion-small's text planner)")
    parser.add_argument("--output", default="output", help="output stem (default 'output')")
    parser.add_argument("--bvh", action="store_true", help="also write BVH")
    parser.add_argument("--robot", choices=("g1",), default=None, help="also retarget, export and validate on this robot")
    parser.add_argument("--no-video", dest="video", action="store_false", help="validation report without video")
    add_config_argument(parser, "PipelineConfig (sections 'retarget' and 'validation', used with --robot)")
    parser.add_argument("--align-floor", action="store_true", help="with --robot: move the robot motion so its feet "
                        "meet z = 0 before export and validation")
    parser.add_argument("--list-actions", action="store_true", help="print the actions the model was trained on and exit")
    parser.set_defaults(func=run)


CONSTRAINTS_HELP = (
    "constraints: a Kimodo JSON array of {type, frame_indices, ...}; frames at 30 fps over the whole clip,\n"
    "  Kimodo axes (y up, +z forward, +x left), metres and radians. Examples (root path, waypoints,\n"
    "  keyframes, end-effectors) with the axis order and units: examples/constraints/ in the repository,\n"
    "  https://github.com/robomotion/robomotion/tree/main/examples/constraints"
)


def _list_models_in_help(parser: argparse.ArgumentParser) -> None:
    """Make ``--help`` end with the model list and the constraints pointer.

    The list comes from the generator registry (plug-ins included), which is only imported when
    help is asked for, so other sub-commands stay fast.
    """
    format_help = parser.format_help

    def format_help_with_models() -> str:
        from robomotion.generators import DEFAULT_MODEL, list_models

        models = ", ".join(f"{name} (default)" if name == DEFAULT_MODEL else name for name in list_models())
        parser.epilog = (
            f"models: {models}.\n  kimodo-* need NVIDIA's kimodo package and checkpoints; plug-ins add more.\n\n"
            f"{CONSTRAINTS_HELP}"
        )
        return format_help()

    parser.format_help = format_help_with_models  # type: ignore[method-assign]


def _parse_durations(values: list[str] | None) -> list[float] | None:
    if values is None:
        return None
    tokens = [t for v in values for t in str(v).split()]
    try:
        return [float(t) for t in tokens]
    except ValueError:
        raise RobomotionError(f"--duration takes seconds, e.g. \"5 4\"; got {values}") from None


def _read_input_folder(folder: Path) -> tuple[dict, Path | None]:
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise FormatError("missing meta.json (expected in --input_folder)", meta_path)
    meta = read_json(meta_path, "meta.json")
    if not isinstance(meta, dict):
        raise FormatError("meta.json must be a JSON object", meta_path)
    constraints = folder / "constraints.json"
    return meta, constraints if constraints.is_file() else None


def _as_list(value: object) -> list:
    return list(value) if isinstance(value, list) else [value]


def _meta_number(meta_path: Path | None, key: str, value: object, kind: type) -> int | float:
    """``value`` of meta.json's ``key`` as an ``int`` or finite ``float``; a FormatError naming the field otherwise."""
    expected = "an integer" if kind is int else "a number"
    valid = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        valid = valid and float(value).is_integer()
    if not valid or not np.isfinite(float(value)) or abs(float(value)) > 2**63:
        raise FormatError(f"expected {expected}, got {value!r}", meta_path, field=key)
    return kind(value)


def _flag_or_meta(flag: int | None, meta: dict, meta_path: Path | None, key: str, default: int | None = None) -> int | None:
    """A command-line flag's value when given (flags win), else meta.json's ``key``, else ``default``."""
    if flag is not None:
        return flag
    if key in meta and meta[key] is not None:
        return int(_meta_number(meta_path, key, meta[key], int))
    return default


def _step(text: str) -> None:
    """Announce a step that takes more than a second (shown in pipes and logs too, unlike progress bars)."""
    print(f"{text} ...", flush=True)


def _with_extension(stem: str, extension: str) -> Path:
    return Path(stem if stem.endswith(extension) else stem + extension)


def _output_paths(stem: str, index: int | None, count: int) -> tuple[Path, Path]:
    """(name stem of this sample's files, AMASS path) following kimodo_gen's layout."""
    if count == 1:
        return Path(stem), Path(stem.removesuffix(".npz") + "_amass.npz")
    folder = Path(stem)
    base = folder.name
    return folder / f"{base}_{index:02d}", folder / f"amass_{index:02d}.npz"


def run(args: argparse.Namespace) -> int:
    from robomotion.cli.pipeline_config import PipelineConfig
    from robomotion.formats import load_motion, save_motion
    from robomotion.generators import load_model
    from robomotion.generators.text_encoder import split_prompt
    from robomotion.generators.vocabulary import UnfamiliarPromptWarning
    from robomotion.motion import HumanMotion

    if args.list_actions:
        from robomotion.cli.models import print_actions

        print_actions(load_model(args.model))
        return 0
    pipeline = config_from_args(args, PipelineConfig)
    if args.config is not None and not args.robot:
        print(f"note: {args.config} configures the retarget and validation stages (--robot only)", file=sys.stderr)
    meta: dict = {}
    meta_path = None
    constraints_path = args.constraints
    if args.input_folder:
        meta_path = Path(args.input_folder) / "meta.json"
        meta, folder_constraints = _read_input_folder(Path(args.input_folder))
        constraints_path = constraints_path or folder_constraints
    if args.prompt:
        prompts = split_prompt(args.prompt)
    elif "texts" in meta or "text" in meta:
        key = "texts" if "texts" in meta else "text"
        prompts = _as_list(meta[key])
        if not all(isinstance(p, str) for p in prompts):
            raise FormatError(f"expected a string or a list of strings, got {meta[key]!r}", meta_path, field=key)
    else:
        raise RobomotionError("give a PROMPT or an --input_folder with meta.json")
    if not prompts:
        raise RobomotionError("the prompt is empty")
    durations = _parse_durations(args.duration)
    if durations is None and ("durations" in meta or "duration" in meta):
        key = "durations" if "durations" in meta else "duration"
        durations = [_meta_number(meta_path, key, d, float) for d in _as_list(meta[key])]
    num_samples = _flag_or_meta(args.num_samples, meta, meta_path, "num_samples", default=1)
    seed = _flag_or_meta(args.seed, meta, meta_path, "seed")
    steps = _flag_or_meta(args.diffusion_steps, meta, meta_path, "diffusion_steps")
    cfg_type, cfg_weight = args.cfg_type, args.cfg_weight
    if cfg_type is None and cfg_weight is None and isinstance(meta.get("cfg"), dict):
        cfg = meta["cfg"]
        if cfg.get("enabled", True) is False:
            cfg_type = "nocfg"
        else:
            cfg_type = "separated"
            cfg_weight = [
                _meta_number(meta_path, f"cfg.{key}", cfg.get(key, 2.0), float) for key in ("text_weight", "constraint_weight")
            ]

    _step(f"loading model {args.model or 'robomotion-small'}")
    model = load_model(args.model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnfamiliarPromptWarning)
        sampling = {  # how to sample, as Kimodo's kimodo_gen flags name it
            "cfg_type": cfg_type,
            "cfg_weight": cfg_weight,
            "num_denoising_steps": steps,
            "num_transition_frames": args.num_transition_frames,
            "postprocess": args.postprocess,
            "planner": args.planner,
        }
        motions = model(prompts, duration=durations, num_samples=num_samples, seed=seed,
                        constraints=constraints_path, progress=True, **sampling)
    for warning in caught:
        if issubclass(warning.category, UnfamiliarPromptWarning):
            print(f"robomotion generate: warning: {warning.message}", file=sys.stderr)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    planned = motions[0].metadata.get("planner", {}) if motions else {}
    if planned.get("constraints") or planned.get("skipped"):
        intent = {k: v for k, v in planned["intent"].items() if v not in (None, False, 0, 0.0, [], "")}
        print(f"robomotion generate: text planner: {intent}; constraints {planned['constraints']}"
              + (f"; {planned['skipped']}" if planned.get("skipped") else ""), file=sys.stderr)
    failed = False
    for index, motion in enumerate(motions):
        base, amass_path = _output_paths(args.output, index, len(motions))
        written = [save_motion(motion, _with_extension(str(base), ".npz"), format="kimodo-npz")]
        if isinstance(motion, HumanMotion):
            if motion.skeleton.name == "smplx22":
                written.append(save_motion(motion, amass_path, format="amass-npz"))
            if args.bvh:
                written.append(save_motion(motion, _with_extension(str(base), ".bvh"), format="bvh"))
        else:
            written.append(save_motion(motion, _with_extension(str(base), ".csv"), format="g1-csv"))
            if args.bvh:
                print(f"--bvh: skipped for robot model '{model.name}' (BVH stores human skeletons)")
        for path in written:
            print(f"wrote {path}")
        if args.robot:
            # Retarget the motion as stored in the Kimodo NPZ (float32), exactly what a later
            # `robomotion retarget STEM.npz` reads, so both routes give the same G1 motion.
            stored = load_motion(written[0], format="kimodo-npz") if isinstance(motion, HumanMotion) else motion
            failed |= _robot_outputs(stored, base, args.robot, args.video, pipeline, args.align_floor)
    return 1 if failed else 0


def _robot_outputs(motion, base: Path, robot: str, video: bool, pipeline, align_floor: bool = False) -> bool:
    """Retarget (human motions), export G1 CSV + BeyondMimic NPZ, validate; True if the verdict is fail."""
    from robomotion.envs.validation import validate
    from robomotion.formats import save_motion
    from robomotion.motion import HumanMotion

    if isinstance(motion, HumanMotion):
        _step(f"retargeting {motion.num_frames} frames to the {robot.upper()} (whole-clip IK)")
        from robomotion.retarget import retarget

        robot_motion = retarget(motion, robot=robot, config=pipeline.retarget)
    else:
        robot_motion = motion
    if align_floor:
        from robomotion.cli.convert import align_floor_of

        robot_motion = align_floor_of(robot_motion, base)
    stem = f"{base}_{robot}"
    for path in (
        save_motion(robot_motion, f"{stem}.csv", format="g1-csv"),
        save_motion(robot_motion, f"{stem}_beyondmimic.npz", format="beyondmimic-npz"),
    ):
        print(f"wrote {path}")
    _step(f"validating on the {robot.upper()} in MuJoCo" + (" and rendering the reference video" if video else ""))
    report = validate(robot_motion, pipeline.validation, report_dir=f"{stem}_report", video=video)
    print(report.summary())
    print(f"wrote {stem}_report/")
    print(f"report: {report.files['html']}")
    return report.verdict == "fail"
