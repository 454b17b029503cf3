"""The batch's result table (``results.parquet``, ``results.jsonl``) and its HTML summary.

One row per manifest row: ``row`` (0-based manifest position), ``id``, ``key`` (content hash),
``kind`` (``prompt``/``motion``), ``input``, ``status`` (``done``, ``error``; ``pending`` in the
tables rewritten while the batch runs; ``not run`` when the batch was interrupted), ``error`` and
``error_step``, output paths relative to the output folder (``human_file``, ``robot_file``,
``retarget_quality_file``, ``report_html``, ``report_json``), ``verdict``, ``failures``,
``warnings``, ``worst_finding``, the numbers of every check (``retarget.<metric>``,
``validate.<check>.<metric>``, ``validate.<check>.status``), timings in seconds (``seconds.<step>``,
``seconds.total``), ``attempts``, ``resumed``, ``worker`` and ``model_loads`` (generator loads of
that worker so far).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robomotion.atomic import atomic_path, write_text

if TYPE_CHECKING:
    from robomotion.batch.runner import BatchResult

__all__ = ["DISTRIBUTIONS", "read_results", "summary_html", "write_results"]

#: Metrics whose distributions the summary plots: (column, label with units).
DISTRIBUTIONS = (
    ("validate.torques.peak_fraction_of_limit", "peak torque / effort limit"),
    ("validate.unassisted_rollout.survived_fraction", "fraction of the clip survived without help"),
    ("validate.assisted_rollout.mean_assist_fraction", "mean assistance force / body weight"),
    ("validate.assisted_rollout.mean_body_error_m", "assisted tracking error (m)"),
    ("validate.foot_sliding.slide_distance_m", "foot sliding distance (m)"),
    ("validate.zmp.outside_fraction", "fraction of frames with the ZMP outside support"),
    ("retarget.keypoint_error_mean_cm", "retarget keypoint error (cm)"),
    ("retarget.max_joint_speed_ratio", "peak joint speed / motor limit"),
    ("play.mean_body_error_m", "policy tracking error (m)"),
    ("seconds.total", "wall time per row (s)"),
)

_COLOURS = {"pass": "#2e7d32", "warn": "#ef8f00", "fail": "#c62828", "error": "#6a1b9a", "done": "#1565c0",
            "pending": "#bdbdbd", "not run": "#9e9e9e"}
_SEVERITY = {"error": 0, "fail": 1, "warn": 2, "done": 3, "pass": 4, "pending": 5, "not run": 6}


def _uniform_columns(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row with every column; a column mixing ints and floats becomes float, mixing text and numbers text."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    kinds: dict[str, set[type]] = {c: {type(r[c]) for r in rows if r.get(c) is not None} for c in columns}
    out = []
    for row in rows:
        fixed = {}
        for column in columns:
            value = row.get(column)
            kind = kinds[column]
            if value is not None and len(kind) > 1:
                if kind <= {int, float, bool}:
                    value = float(value)
                else:
                    value = json.dumps(value) if not isinstance(value, str) else value
            fixed[column] = value
        out.append(fixed)
    return out


def write_results(result: BatchResult, output: Path) -> dict[str, Path]:
    """Write ``results.parquet``, ``results.jsonl`` and ``summary.html`` into ``output`` (atomically)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _uniform_columns(result.rows)
    files = {"jsonl": write_text(output / "results.jsonl", "".join(json.dumps(r, default=str) + "\n" for r in rows))}
    with atomic_path(output / "results.parquet") as tmp:
        pq.write_table(pa.Table.from_pylist(rows), tmp)
    files["parquet"] = output / "results.parquet"
    files["html"] = write_text(output / "summary.html", summary_html(result))
    return files


def read_results(output: str | Path) -> list[dict[str, Any]]:
    """The rows of ``output/results.parquet`` as dicts (manifest order)."""
    import pyarrow.parquet as pq

    return pq.read_table(Path(output) / "results.parquet").to_pylist()


def _outcome(row: dict[str, Any]) -> str:
    return "error" if row["status"] == "error" else row.get("verdict") or row["status"]


def _histogram(values: list[float], label: str) -> str:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3.6, 2.4))
    axes = figure.add_subplot()
    axes.hist(values, bins=min(30, max(5, len(values) // 3)), color="#1565c0")
    axes.set_xlabel(label, fontsize=8)
    axes.set_ylabel("rows", fontsize=8)
    axes.tick_params(labelsize=7)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode()
    return f"<img alt='{html.escape(label)}' src='data:image/png;base64,{data}'>"


def _worst(rows: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """Error rows, then fails, then warns; within each, most failures, warnings, assistance first."""

    def score(row: dict[str, Any]) -> tuple:
        assist = row.get("validate.assisted_rollout.mean_assist_fraction")
        return (_SEVERITY.get(_outcome(row), 9), -(row.get("failures") or 0), -(row.get("warnings") or 0),
                -(assist if isinstance(assist, int | float) and not math.isnan(assist) else 0.0), row["row"])

    bad = [r for r in rows if _outcome(r) in ("error", "fail", "warn") or r.get("play.survived") is False]
    return sorted(bad, key=score)[:count]


def summary_html(result: BatchResult, worst: int = 25) -> str:
    """One self-contained HTML page: verdict counts, the worst clips with links, metric histograms."""
    rows = result.rows
    counts = result.counts()
    total = max(1, len(rows))
    bar = "".join(
        f"<div style='width:{100 * n / total:.2f}%;background:{_COLOURS.get(k, '#757575')}' "
        f"title='{k}: {n}'>{k} {n}</div>"
        for k, n in sorted(counts.items(), key=lambda kv: _SEVERITY.get(kv[0], 9))
    )
    listed = []
    for row in _worst(rows, worst):
        outcome = _outcome(row)
        link = (f"<a href='{html.escape(row['report_html'])}'>report</a>" if row.get("report_html") else "")
        reason = row.get("error") if outcome == "error" else row.get("worst_finding") or ""
        if row.get("play.survived") is False:
            reason = f"policy fell at {row['play.fell_at_s']:.2f} s ({row['play.termination']}); {reason}"
        listed.append(
            f"<tr><td class='o' style='color:{_COLOURS.get(outcome, '#000')}'>{outcome}</td><td>{row['row']}</td>"
            f"<td>{html.escape(str(row['id']))}</td><td>{html.escape(str(row.get('input') or ''))[:120]}</td>"
            f"<td>{row.get('failures') or 0}/{row.get('warnings') or 0}</td>"
            f"<td>{html.escape(str(reason or ''))}</td><td>{link}</td></tr>"
        )
    worst_table = "".join(listed) or "<tr><td colspan='7'>no errors, fails or warnings</td></tr>"
    plots = []
    for column, label in DISTRIBUTIONS:
        values = [float(r[column]) for r in rows
                  if isinstance(r.get(column), int | float) and not isinstance(r.get(column), bool)
                  and math.isfinite(float(r[column]))]
        if values:
            plots.append(f"<figure>{_histogram(values, label)}<figcaption><code>{column}</code> "
                         f"(n={len(values)}, median {sorted(values)[len(values) // 2]:.3g})</figcaption></figure>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>robomotion batch: {len(rows)} rows</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #212121; }}
.bar {{ display: flex; height: 2em; border-radius: .4em; overflow: hidden; color: white; font-weight: bold; }}
.bar div {{ display: flex; align-items: center; justify-content: center; white-space: nowrap; overflow: hidden; }}
table {{ border-collapse: collapse; width: 100%; margin: 1em 0; font-size: .85em; }}
td, th {{ border-bottom: 1px solid #e0e0e0; padding: .3em .5em; text-align: left; vertical-align: top; }}
td.o {{ font-weight: bold; text-transform: uppercase; }}
figure {{ display: inline-block; margin: .5em; }} figcaption {{ font-size: .75em; }}
</style></head><body>
<h1>robomotion batch: {len(rows)} rows</h1>
<p>{'<br>'.join(html.escape(line) for line in result.lines() if not line.startswith('ERROR'))}</p>
<div class="bar">{bar}</div>
<p>Full table: <a href="results.parquet">results.parquet</a>, <a href="results.jsonl">results.jsonl</a>.</p>
<h2>Worst clips</h2>
<table><tr><th>outcome</th><th>row</th><th>id</th><th>input</th><th>fails/warns</th><th>main reason</th>
<th></th></tr>{worst_table}</table>
<h2>Distributions</h2>
{''.join(plots) or '<p>No validated rows.</p>'}
</body></html>
"""
