"""``robomotion batch``: manifests, error rows, the local engine, crash retries, resume, Ray parity."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robomotion.batch import BadRow, ManifestRow, parse_steps, read_manifest, read_results, run_batch
from robomotion.batch.engines import LocalEngine
from robomotion.batch.runner import schedule
from robomotion.batch.steps import RowTask, WorkerContext, run_row
from robomotion.errors import RobomotionError

STEPS = ("generate", "retarget", "validate")


@pytest.fixture(scope="module")
def human_files(tmp_path_factory) -> list[Path]:
    """Three short (1 s) human motions from the shipped generator, as Kimodo NPZ files."""
    import robomotion
    from robomotion.formats import save_motion

    folder = tmp_path_factory.mktemp("inputs")
    model = robomotion.load_model("robomotion-small")
    prompts = ("a person walks forward", "a person turns left", "a person steps to the side")
    return [
        save_motion(model(p, duration=1.0, seed=i, progress=False, num_denoising_steps=4)[0], folder / f"clip{i}.npz")
        for i, p in enumerate(prompts)
    ]


@pytest.fixture(scope="module")
def robot_files(human_files) -> list[Path]:
    """The same clips retargeted to the G1, as G1 CSV files."""
    from robomotion.retarget import retarget

    from robomotion.formats import load_motion, save_motion

    return [save_motion(retarget(load_motion(p)), p.with_suffix(".csv"), format="g1-csv") for p in human_files]


def _write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


# ------------------------------------------------------------------------------- manifest


def test_bad_manifest_rows_become_error_rows_with_the_field_named(tmp_path, human_files):
    manifest = _write_jsonl(tmp_path / "m.jsonl", [
        {"id": "ok", "prompt": "a person walks", "seed": 3, "duration": 1.5, "retarget.contacts": "detect"},
        {"id": "file", "motion": str(human_files[0])},
        {"id": "missing", "motion": "no_such_clip.npz"},
        {"id": "unknown-option", "prompt": "a person waves", "retarget.bogus": 1},
        {"id": "unknown-step", "prompt": "a person waves", "options": {"dance": {"x": 1}}},
        {"id": "unknown-column", "prompt": "a person waves", "speed": 2},
        {"id": "prompt-type", "prompt": 5},
        {"id": "both", "prompt": "a person waves", "motion": str(human_files[0])},
        {"id": "seed", "prompt": "a person waves", "seed": "abc"},
        {"id": "duration", "prompt": "a person waves", "duration": -1},
        "this is not json",
        [1, 2],
    ])
    rows = read_manifest(manifest, tmp_path / "out", STEPS)
    assert [type(r) for r in rows[:2]] == [ManifestRow, ManifestRow]
    ok = rows[0].task
    assert (ok.prompt, ok.seed, ok.duration) == ("a person walks", 3, 1.5)
    assert ok.options == {"retarget": {"contacts": "detect"}}
    assert rows[1].task.motion == human_files[0].resolve()
    errors = {r.id: r.error for r in rows[2:]}
    assert all(isinstance(r, BadRow) for r in rows[2:])
    assert "motion file not found" in errors["missing"] and "field 'motion'" in errors["missing"]
    assert "unknown option 'retarget.bogus'" in errors["unknown-option"]
    assert "unknown step 'dance'" in errors["unknown-step"]
    assert "unknown column 'speed'" in errors["unknown-column"]
    assert "field 'prompt'" in errors["prompt-type"] and "int" in errors["prompt-type"]
    assert "either a prompt or a motion" in errors["both"]
    assert "field 'seed'" in errors["seed"] and "field 'duration'" in errors["duration"]
    assert "line 11 is not JSON" in errors["row10"] and "line 12 is not a JSON object" in errors["row11"]
    # a prompt row cannot run without the generate step
    no_generate = read_manifest(manifest, tmp_path / "out", ("retarget", "validate"))
    assert isinstance(no_generate[0], BadRow) and "generate" in no_generate[0].error
    assert isinstance(no_generate[1], ManifestRow)


def test_csv_parquet_and_jsonl_manifests_give_the_same_rows_and_keys(tmp_path, human_files):
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [
        {"id": "a", "prompt": "a person jumps", "seed": 2, "duration": 1.0, "motion": None,
         "generate.diffusion_steps": 6},
        {"id": "b", "prompt": None, "seed": None, "duration": None, "motion": str(human_files[1]),
         "generate.diffusion_steps": None},
    ]
    (tmp_path / "m.csv").write_text(
        "id,prompt,seed,duration,motion,generate.diffusion_steps\n"
        f"a,a person jumps,2,1.0,,6\nb,,,,{human_files[1]},\n"
    )
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "m.parquet")
    _write_jsonl(tmp_path / "m.jsonl", [{k: v for k, v in r.items() if v is not None} for r in records])
    keys = [[r.task.key for r in read_manifest(tmp_path / f"m.{kind}", tmp_path, STEPS)]
            for kind in ("csv", "parquet", "jsonl")]
    assert keys[0] == keys[1] == keys[2] and keys[0][0] != keys[0][1]
    task = read_manifest(tmp_path / "m.csv", tmp_path, STEPS)[0].task
    assert task.options == {"generate": {"diffusion_steps": 6}} and task.seed == 2
    # the key follows the content: another option, another seed or other file bytes give another key
    (tmp_path / "n.csv").write_text(
        "id,prompt,seed,duration,generate.diffusion_steps\na,a person jumps,2,1.0,7\na,a person jumps,3,1.0,6\n"
    )
    other = [r.task.key for r in read_manifest(tmp_path / "n.csv", tmp_path, STEPS)]
    assert keys[0][0] not in other and other[0] != other[1]


def test_unusable_manifest_or_steps_raise_one_line_errors(tmp_path):
    with pytest.raises(RobomotionError, match="--steps"):
        parse_steps("generate,dance")
    assert parse_steps("validate,retarget") == ("retarget", "validate")
    with pytest.raises(RobomotionError, match="no such manifest"):
        read_manifest(tmp_path / "none.csv", tmp_path, STEPS)
    (tmp_path / "m.txt").write_text("x")
    with pytest.raises(RobomotionError, match="unknown manifest type"):
        read_manifest(tmp_path / "m.txt", tmp_path, STEPS)
    (tmp_path / "empty.csv").write_text("id,prompt\n")
    with pytest.raises(RobomotionError, match="no rows"):
        read_manifest(tmp_path / "empty.csv", tmp_path, STEPS)
    with pytest.raises(RobomotionError, match="workers"):
        run_batch(tmp_path / "empty.csv", tmp_path, STEPS, workers=0)


def test_cli_exit_code_2_and_one_line_for_an_unusable_manifest(tmp_path, capsys):
    from robomotion.cli.main import main

    assert main(["batch", str(tmp_path / "none.csv"), "-o", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "none.csv" in error and "no such manifest" in error


# ------------------------------------------------------------------------------- engines


def _crashy(payload: tuple[str, str], context: dict) -> str:
    """Dies (like a segfault) for "always", and for "once" on its first run only; raises for "raise"."""
    kind, marker = payload
    if kind == "always" or (kind == "once" and not os.path.exists(marker)):
        Path(marker).touch()
        os._exit(7)
    if kind == "raise":
        raise ValueError("bad payload")
    context["runs"] = context.get("runs", 0) + 1
    return f"{kind} ok, run {context['runs']} of this worker (pid {os.getpid()})"


def test_local_engine_retries_crashed_workers_a_bounded_number_of_times(tmp_path):
    payloads = {name: (name, str(tmp_path / name)) for name in ("always", "once", "raise", "fine")}
    outcomes = {}
    engine = LocalEngine(2, dict)
    try:
        schedule(engine, payloads, _crashy, 2, lambda key, c, attempts: outcomes.__setitem__(key, (c, attempts)))
    finally:
        engine.close()
    assert set(outcomes) == set(payloads)
    always, attempts = outcomes["always"]
    assert always.crash is not None and "exit code 7" in always.crash and attempts == 3
    once, attempts = outcomes["once"]
    assert once.value.startswith("once ok") and once.crash is None and attempts == 2
    failed, attempts = outcomes["raise"]
    assert "ValueError: bad payload" in failed.error and attempts == 1  # an exception is not retried
    assert outcomes["fine"][0].value.startswith("fine ok")


def test_play_step_runs_the_policy_on_each_robot_motion(tmp_path, robot_files):
    """The play step (robomotion.envs.play) with a policy for every row: its numbers and report in the row."""
    from test_play import _metadata, _tiny_onnx

    policy = _tiny_onnx(tmp_path / "zero.onnx", _metadata())
    manifest = _write_jsonl(tmp_path / "m.jsonl", [
        {"id": "a", "motion": str(robot_files[0])},
        {"id": "b", "motion": str(robot_files[0]), "play.policy": "other.onnx"},
        {"id": "c", "motion": str(robot_files[0]), "play.seconds": 0.5},
    ])
    steps = ("validate", "play")
    without = read_manifest(manifest, tmp_path / "out", steps)
    assert all(isinstance(r, BadRow) and "play.policy" in r.error for r in without)
    rows = read_manifest(manifest, tmp_path / "out", steps, report="json", defaults={"play": {"policy": str(policy)}})
    assert isinstance(rows[1], BadRow) and "policy file not found" in rows[1].error
    first, short = rows[0].task, rows[2].task
    assert first.options == {"play": {"policy": str(policy)}} and short.options["play"]["seconds"] == 0.5
    result = run_row(short, WorkerContext(single_thread=False))
    assert result["status"] == "done", result["error"]
    assert result["steps_done"] == "validate,play" and result["verdict"] in ("pass", "warn", "fail")
    assert isinstance(result["play.survived"], bool) and 0 < result["play.seconds_played"] <= 0.5 + 1e-9
    assert result["play.mean_body_error_m"] >= 0 and result["play.torque_use_max"] >= 0
    report = json.loads((tmp_path / "out" / result["play.report_json"]).read_text())
    assert report["survived"] == result["play.survived"] and report["policy"] == str(policy)
    # the key follows the policy's bytes
    _tiny_onnx(policy, _metadata(action_scale=",".join("0.5" for _ in range(29))))
    again = read_manifest(manifest, tmp_path / "out", steps, report="json", defaults={"play": {"policy": str(policy)}})
    assert again[0].task.key != first.key


# ------------------------------------------------------------------------------- end to end


def test_local_batch_writes_one_table_reports_and_a_summary(tmp_path, human_files):
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "id,prompt,seed,duration,motion,generate.diffusion_steps,retarget.contacts\n"
        "walk,a person walks forward,0,1.0,,4,\n"
        f"clip0,,,,{human_files[0]},,detect\n"
        f"clip1,,,,{human_files[1]},,\n"
        f"clip1-again,,,,{human_files[1]},,\n"
        "missing,,,,gone.npz,,\n"
    )
    out = tmp_path / "out"
    result = run_batch(manifest, out, STEPS, workers=1, progress=False)
    rows = read_results(out)
    assert [r["id"] for r in rows] == ["walk", "clip0", "clip1", "clip1-again", "missing"]
    jsonl = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["verdict"] for r in jsonl] == [r["verdict"] for r in rows]
    good = rows[:4]
    for row in good:
        assert row["status"] == "done", row["error"]
        assert row["verdict"] in ("pass", "warn", "fail") and row["steps"] == "generate,retarget,validate"
        for column in ("robot_file", "report_html", "report_json", "retarget_quality_file"):
            assert (out / row[column]).is_file()
        assert json.loads((out / row["report_json"]).read_text())["verdict"] == row["verdict"]
        assert row["frames"] == 30 and row["validate.torques.peak_fraction_of_limit"] > 0
        assert row["model_loads"] <= 1  # the generator is loaded once per worker, never per row
    assert good[0]["steps_done"] == "generate,retarget,validate" and (out / good[0]["human_file"]).is_file()
    assert good[1]["steps_done"] == "retarget,validate" and good[1]["human_file"] is None
    assert good[2]["key"] == good[3]["key"] and good[2]["report_html"] == good[3]["report_html"]
    assert rows[4]["status"] == "error" and "motion file not found" in rows[4]["error"]
    counts = result.counts()
    assert counts["error"] == 1 and sum(counts.values()) == 5
    summary = (out / "summary.html").read_text()
    assert "data:image/png;base64" in summary and "missing" in summary
    linked = [r["report_html"] for r in good if r["verdict"] != "pass"]
    assert all(f"href='{link}'" in summary for link in linked)
    # resume: every good row is done, so no worker starts and the results stay the same
    again = run_batch(manifest, out, STEPS, workers=1, progress=False, resume=True)
    assert again.engine.startswith("no engine")
    assert [r.get("resumed") for r in again.rows] == [True] * 4 + [None]
    assert [r.get("verdict") for r in again.rows] == [r["verdict"] for r in rows]


def test_a_step_that_raises_is_an_error_row_naming_the_step(tmp_path, human_files):
    task = RowTask(key="k", folder=tmp_path / "rows" / "bad-k", steps=("retarget", "validate"), motion=human_files[0],
                   options={"retarget": {"contacts": "nonsense-mode"}})
    result = run_row(task, WorkerContext(single_thread=False))
    assert result["status"] == "error" and result["error_step"] == "retarget"
    assert result["error"].startswith("retarget: ") and "contacts" in result["error"]
    assert result["steps_done"] == "" and "verdict" not in result


def _done_rows(out: Path) -> int:
    return len(list(out.glob("rows/*/result.json")))


def test_resume_after_killing_a_run_redoes_only_the_unfinished_rows(tmp_path, robot_files):
    manifest = _write_jsonl(tmp_path / "m.jsonl", [
        {"id": f"r{i}", "motion": str(path), "validate.torque_warn": warn}
        for i, (path, warn) in enumerate((p, w) for w in (0.8, 0.9) for p in robot_files)
    ])
    out = tmp_path / "out"
    command = [sys.executable, "-m", "robomotion", "batch", str(manifest), "--steps", "validate",
               "-o", str(out), "--workers", "1", "--no-progress", "--checkpoint", "0"]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while _done_rows(out) < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the run and its worker, mid-row
        process.wait()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("rows/*/result.json")}
    assert 2 <= len(finished) < 6, "the run was not killed part-way"
    # the tables rewritten as rows finish (--checkpoint 0) show the finished rows done, the others pending
    # (with one worker, a row starts only after the previous row's tables were written)
    partial = read_results(out)
    assert len(partial) == 6 and {r["status"] for r in partial} <= {"done", "pending"}
    assert len(finished) - 1 <= sum(r["status"] == "done" for r in partial) <= len(finished)
    result = run_batch(manifest, out, ("validate",), workers=1, progress=False, resume=True)
    resumed = {Path(r["folder"]).name for r in result.rows if r["resumed"]}
    assert resumed == set(finished)
    assert all(r["status"] == "done" and r["verdict"] for r in result.rows)
    assert sum(not r["resumed"] for r in result.rows) == 6 - len(finished)
    # rows finished before the kill were not touched again
    assert {name: (out / "rows" / name / "result.json").stat().st_mtime_ns for name in finished} == finished


# ------------------------------------------------------------------------------- Ray


def _twelve_row_manifest(folder: Path, human_files: list[Path]) -> Path:
    prompts = ["a person walks forward", "a person jumps", "a person waves", "a person turns around",
               "a person kicks", "a person sits down"]
    records = [{"id": f"p{i}", "prompt": p, "seed": i, "duration": 1.0, "generate.diffusion_steps": 4}
               for i, p in enumerate(prompts)]
    records += [{"id": f"f{i}", "motion": str(human_files[i % 3]), "retarget.contacts": ("auto", "detect")[i // 3]}
                for i in range(6)]
    return _write_jsonl(folder / "twelve.jsonl", records)


_VARYING = ("worker", "model_loads", "attempts", "traceback")


def _assert_same_results(local, on_ray, local_dir: Path, ray_dir: Path) -> None:
    """Same rows, statuses, verdicts, numbers and output bytes; only timings and worker names differ."""
    assert on_ray.engine.startswith("Ray") and local.engine.startswith("local")
    assert len(local.rows) == len(on_ray.rows)
    for a, b in zip(local.rows, on_ray.rows):
        assert a["status"] == b["status"], (a["error"], b["error"])
        same = {k: v for k, v in a.items() if not k.startswith("seconds.") and k not in _VARYING}
        assert same == {k: v for k, v in b.items() if not k.startswith("seconds.") and k not in _VARYING}
        for column in ("human_file", "robot_file", "retarget_quality_file"):
            if a.get(column):
                assert (local_dir / a[column]).read_bytes() == (ray_dir / b[column]).read_bytes()


def test_ray_engine_gives_the_local_results(tmp_path, robot_files):
    pytest.importorskip("ray")
    manifest = _write_jsonl(tmp_path / "m.jsonl", [{"motion": str(p)} for p in robot_files] + [{"motion": "gone.csv"}])
    kwargs = {"steps": ("validate",), "workers": 1, "progress": False, "report": "json"}
    local = run_batch(manifest, tmp_path / "local", **kwargs)
    on_ray = run_batch(manifest, tmp_path / "ray", ray="auto", **kwargs)
    _assert_same_results(local, on_ray, tmp_path / "local", tmp_path / "ray")
    assert [r["status"] for r in on_ray.rows] == ["done"] * 3 + ["error"]


@pytest.mark.slow
def test_local_and_ray_engines_give_identical_verdicts_and_outputs(tmp_path, human_files):
    pytest.importorskip("ray")
    manifest = _twelve_row_manifest(tmp_path, human_files)
    local = run_batch(manifest, tmp_path / "local", STEPS, workers=2, progress=False)
    on_ray = run_batch(manifest, tmp_path / "ray", STEPS, ray="auto", workers=2, progress=False)
    assert len(local.rows) == 12 and all(r["status"] == "done" for r in local.rows)
    _assert_same_results(local, on_ray, tmp_path / "local", tmp_path / "ray")
