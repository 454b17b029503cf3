"""Write a :class:`~robomotion.envs.validation.ValidationReport` to a folder people can open.

* ``report.json``: verdict, findings (with frame ranges), every check's numbers, config, timings.
* ``report.html``: one self-contained page (plots embedded) with the verdict, the checks that
  decided it, the reasons and the video of the reference it judged.
* ``timeline.png`` (where the problems are), ``torques.png`` (required torque vs effort limit),
  ``support.png`` (zero-moment point vs support, unexplained wrench), and with rollouts on,
  ``tracking.png`` (rollout tracking error and assistance force; information only).
* ``reference.mp4``: the reference with its verdict; with rollouts on, the open-loop PD rollout
  next to it, labelled information only, by :func:`robomotion.visual.render.render_video`
  (MuJoCo offscreen, EGL on CPU).

Every file is written atomically. Plots use matplotlib's object API (no pyplot global state).
"""

from __future__ import annotations

import base64
import html
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import mujoco
import numpy as np
from matplotlib.figure import Figure
from robomotion.envs.validation.checks_rollout import sustained_assistance

from robomotion.atomic import atomic_open, write_text
from robomotion.jsonio import dumps
from robomotion.motion import RobotMotion

if TYPE_CHECKING:
    from robomotion.envs.validation.api import ValidationReport

__all__ = ["write_report", "plot_timeline", "plot_torques", "plot_support", "plot_tracking"]

_COLOURS = {"pass": "#2e7d32", "info": "#757575", "warn": "#ef8f00", "fail": "#c62828"}
_DPI = 100


def _save(figure: Figure, path: Path) -> Path:
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=_DPI, bbox_inches="tight")
    return path


def _decorate(
    axes, title: str, ylabel: str, levels: tuple[float, float] | None = None, xlabel: str = "time (s)"
) -> None:
    """Titles, labels, dashed fail / dotted warn levels (fractions, drawn in %) and a legend."""
    if levels is not None:
        warn, fail = levels
        axes.axhline(100 * fail, color=_COLOURS["fail"], linestyle="--", label="fail level")
        axes.axhline(100 * warn, color=_COLOURS["warn"], linestyle=":", label="warn level")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.legend(fontsize=7, loc="upper right")


def plot_timeline(report: ValidationReport) -> Figure:
    """One row per check: frame ranges of its warnings (orange) and failures (red) over time."""
    fps = report.traces.reference.fps
    duration = report.traces.reference.num_frames / fps
    figure = Figure(figsize=(9, 0.35 * len(report.checks) + 1.0))
    axes = figure.add_subplot()
    for row, check in enumerate(report.checks):
        axes.barh(row, duration, left=0, height=0.6, color="#e8f5e9")
        for finding in sorted(check.findings, key=lambda f: f.severity == "fail"):  # failures drawn on top
            for r in finding.ranges:
                axes.barh(row, (r.end - r.start + 1) / fps, left=r.start / fps, height=0.6,
                          color=_COLOURS[finding.severity])
    axes.set_yticks(range(len(report.checks)), [c.name for c in report.checks])
    axes.invert_yaxis()
    axes.set_xlim(0, duration)
    axes.set_xlabel("time (s)")
    axes.set_title(f"Findings over time (verdict: {report.verdict})")
    return figure


def plot_torques(report: ValidationReport, joints: int = 5) -> Figure:
    """Required |torque| as % of the effort limit over time, for the joints closest to their limits."""
    from robomotion.robots import get_robot

    traces = report.traces
    spec = get_robot(traces.reference.motion.robot)
    ratio = 100.0 * np.abs(traces.wrenches.joint_torque) / spec.effort_limits[None, :]
    worst = np.argsort(ratio.max(axis=0))[::-1][:joints]
    figure = Figure(figsize=(9, 3.5))
    axes = figure.add_subplot()
    for j in worst:
        axes.plot(traces.reference.times, ratio[:, j], label=spec.joint_names[j])
    _decorate(axes, "Joint torques the reference needs (inverse dynamics with contact forces)",
              "|torque| / effort limit (%)", (report.config.torque_warn, report.config.torque_fail))
    return figure


def plot_support(report: ValidationReport) -> Figure:
    """Left: top view of contacts, ZMP (green inside / red outside) and CoM. Right: unexplained wrench."""
    traces = report.traces
    wrenches = traces.wrenches
    figure = Figure(figsize=(11, 4))
    top, series = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    floor = traces.sweep.floor
    top.scatter(floor.pos[:, 0], floor.pos[:, 1], s=2, color="#9e9e9e", label="contact points")
    top.plot(traces.sweep.com[:, 0], traces.sweep.com[:, 1], color="#1565c0", linewidth=1, label="centre of mass")
    margin = wrenches.support_margin
    inside = margin <= report.config.zmp_margin_warn
    outside = margin > report.config.zmp_margin_warn
    top.scatter(*wrenches.zmp[inside].T, s=6, color=_COLOURS["pass"], label="ZMP inside")
    top.scatter(*wrenches.zmp[outside].T, s=6, color=_COLOURS["fail"], label="ZMP outside")
    top.set_aspect("equal", adjustable="datalim")
    _decorate(top, "Support seen from above", "y (m)", xlabel="x (m)")
    times = traces.reference.times
    series.plot(times, 100 * wrenches.residual_fraction, color="#6a1b9a", label="unexplained wrench")
    series.fill_between(times, 0, 1, where=~wrenches.supported, transform=series.get_xaxis_transform(),
                        color="#bdbdbd", alpha=0.4, label="no floor contact")
    _decorate(series, "Wrench feasible contact forces cannot supply", "% of body weight",
              (report.config.residual_warn, report.config.residual_fail))
    return figure


def plot_tracking(report: ValidationReport) -> Figure:
    """Top: tracked-body error of both rollouts (fall marked). Bottom: pelvis assistance force."""
    traces = report.traces
    unassisted, assisted = traces.unassisted, traces.assisted
    figure = Figure(figsize=(9, 5))
    error, force = figure.subplots(2, 1, sharex=True)
    alive = unassisted.until_fall()
    error.plot(unassisted.times[alive], 100 * unassisted.body_error[alive], color="#d84315", label="no help")
    error.plot(assisted.times, 100 * assisted.body_error, color="#1565c0", label="pelvis assisted")
    if unassisted.fall_time is not None:
        error.axvline(unassisted.fall_time, color="#d84315", linestyle="--", label="falls (no help)")
    _decorate(error, "MuJoCo rollouts: mean distance of tracked bodies from the reference", "body error (cm)",
              xlabel="")
    instant = np.linalg.norm(assisted.assist_wrench[:, :3], axis=1) / traces.wrenches.body_weight
    sustained = sustained_assistance(assisted, traces.wrenches.body_weight, report.config.assist_window_s)
    force.plot(assisted.times, 100 * instant, color="#90caf9", linewidth=0.8, label="instantaneous")
    label = f"sustained ({report.config.assist_window_s:g} s mean)"
    force.plot(assisted.times, 100 * sustained, color="#1565c0", label=label)
    _decorate(force, "Assistance force of the pelvis spring-damper (levels apply to the clip mean)",
              "% of body weight", (report.config.assist_mean_warn, report.config.assist_mean_fail))
    return figure


def _render_video(report: ValidationReport, path: Path, size: tuple[int, int], progress: bool | None) -> Path:
    """The reference the verdict judges; with rollouts run, the open-loop rollout next to it."""
    from robomotion.visual.render import render_video

    traces = report.traces
    motion = traces.reference.motion
    if traces.unassisted is None:
        return render_video(motion, path, fps=25.0, width=size[0], height=size[1], progress=progress,
                            titles=(f"reference: {report.verdict.upper()}",))
    rollout = RobotMotion.from_qpos(
        motion.robot, report.config.control_hz, traces.unassisted.qpos, motion.joint_names,
        {"source": "MuJoCo rollout without help"},
    )
    return render_video(
        motion, path, fps=25.0, width=size[0], height=size[1], side_by_side=rollout, progress=progress,
        titles=(f"reference: {report.verdict.upper()}", "open-loop PD (info only)"),
    )


def _html(report: ValidationReport, images: dict[str, Path], video: Path | None) -> str:
    fps = float(report.motion["fps"])
    colour = _COLOURS[report.verdict]
    rows = "".join(
        f"<tr><td class='{f.severity}'>{f.severity}</td><td>{html.escape(f.check)}</td>"
        f"<td>{html.escape(f.message)}</td>"
        f"<td>{html.escape(', '.join(r.describe(fps) for r in f.ranges[:4]))}</td></tr>"
        for f in report.findings
    ) or "<tr><td class='pass'>pass</td><td colspan='3'>every check passed</td></tr>"
    checks = "".join(
        f"<tr><td class='{c.status}'>{c.status}</td><td>{html.escape(c.title)}<br><code>{c.name}</code></td>"
        f"<td><code>{html.escape(json.dumps(c.metrics, default=str))}</code></td>"
        f"<td>{c.seconds * 1000:.0f} ms</td></tr>"
        for c in report.checks
    )
    figures = "".join(
        f"<figure><img alt='{name}' src='data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}'>"
        f"</figure>"
        for name, path in images.items()
    )
    caption = (
        "<p>The reference: the motion the verdict judges (the timeline below shows where each finding is).</p>"
        if report.traces.unassisted is None else
        "<p>Left: the reference, which the verdict judges. Right, for information only: the robot simulated "
        "in MuJoCo with open-loop PD tracking and no balance controller, which falls on most clips; it never "
        "decides the verdict.</p>"
    )
    player = (
        f"<video src='{video.name}' controls loop muted width='100%'></video>{caption}"
        if video is not None else "<p>No video rendered.</p>"
    )
    decisive = ", ".join(report.decisive) or "none"
    player += "".join(f"<p><em>{html.escape(note)}</em></p>" for note in report.notes)
    metadata = html.escape(json.dumps(report.motion, default=str))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>robomotion validation: {report.verdict}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #212121; }}
.badge {{ display: inline-block; padding: .3em .8em; border-radius: .4em; color: white; background: {colour};
          font-size: 1.6em; font-weight: bold; text-transform: uppercase; }}
table {{ border-collapse: collapse; width: 100%; margin: 1em 0; font-size: .9em; }}
td, th {{ border-bottom: 1px solid #e0e0e0; padding: .35em .5em; text-align: left; vertical-align: top; }}
td.pass {{ color: {_COLOURS['pass']}; }} td.warn {{ color: {_COLOURS['warn']}; }}
td.fail {{ color: {_COLOURS['fail']}; }} td.info {{ color: {_COLOURS['info']}; }}
td.pass, td.warn, td.fail, td.info {{ font-weight: bold; text-transform: uppercase; }}
code {{ font-size: .85em; word-break: break-word; }} img {{ max-width: 100%; }}
</style></head><body>
<h1>Can the {html.escape(str(report.motion['robot']).upper())} track this motion?</h1>
<p><span class="badge">{report.verdict}</span>
&nbsp;{report.motion['frames']} frames at {fps:g} fps ({report.motion['duration_s']:.2f} s),
validated in {report.timings.get('total', 0.0):.2f} s. Decided by: <b>{html.escape(decisive)}</b>.</p>
<p>FAIL: a tracking policy cannot be expected to learn this motion (physically impossible for the robot).
WARN: defects a tracker deviates from but tolerates. INFO: reported, never part of the verdict.</p>
<p><code>{metadata}</code></p>
<h2>Reasons</h2>
<table><tr><th>severity</th><th>check</th><th>finding</th><th>where</th></tr>{rows}</table>
<h2>Video</h2>{player}
<h2>Plots</h2>{figures}
<h2>All checks</h2>
<table><tr><th>status</th><th>check</th><th>numbers</th><th>time</th></tr>{checks}</table>
<p>Thresholds: <code>{html.escape(json.dumps(report.config.to_dict()))}</code></p>
</body></html>
"""


def write_report(
    report: ValidationReport,
    directory: Path,
    video: bool = True,
    video_size: tuple[int, int] = (320, 240),
    progress: bool | None = None,
) -> dict[str, Path]:
    """Write the report files into ``directory`` (created if needed); returns them by kind.

    ``progress`` shows a progress bar while the video renders (``None``: only on a terminal).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    images = {"timeline": _save(plot_timeline(report), directory / "timeline.png")}
    if report.traces.wrenches is not None:
        images["torques"] = _save(plot_torques(report), directory / "torques.png")
        images["support"] = _save(plot_support(report), directory / "support.png")
    if report.traces.assisted is not None:
        images["tracking"] = _save(plot_tracking(report), directory / "tracking.png")
    files: dict[str, Path] = dict(images)
    if video:
        try:
            files["video"] = _render_video(report, directory / "reference.mp4", video_size, progress)
        except (mujoco.FatalError, ImportError, OSError, RuntimeError, AttributeError) as exc:  # no OpenGL
            from robomotion.gl import backend_hint

            note = f"video skipped: offscreen rendering failed ({str(exc).strip()[:200]}); {backend_hint()}"
            report.notes.append(note)
            logging.getLogger("robomotion").warning(note)  # on the console even when called from Python
    files["html"] = write_text(directory / "report.html", _html(report, images, files.get("video")))
    files["json"] = directory / "report.json"
    report.files = files
    write_text(files["json"], dumps(report.to_dict(), indent=2, default=_json_default) + "\n")  # NaN -> null
    return files


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
