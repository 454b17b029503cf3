"""Run the text-agreement suite on a generator: per-family match rates, float rate, vocabulary warnings.

>>> from robomotion.generators.evaluation import evaluate_text_agreement
>>> report = evaluate_text_agreement(model, split="heldout", seeds=(0, 1))   # doctest: +SKIP
>>> print(report.table())                                                    # doctest: +SKIP

Each prompt is generated once per seed (one sample per call, so a seed's clip does not depend
on the other prompts), measured (:func:`~robomotion.generators.evaluation.measures.measure_motion`)
and judged by its family's rule (:mod:`~robomotion.generators.evaluation.suite`). A clip
matches when the rule holds and the clip neither floats (no body on the floor for more than
0.8 s) nor tumbles. Out-of-vocabulary prompts are checked for a vocabulary warning in the
output's metadata (``metadata["vocabulary"]["warning"]``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from robomotion.generators.evaluation.measures import GroundingLimits, measure_motion
from robomotion.generators.evaluation.suite import FAMILIES, OUT_OF_VOCABULARY, PromptCase, suite_cases
from robomotion.generators.vocabulary import UnfamiliarPromptWarning

__all__ = ["AgreementReport", "CaseResult", "evaluate_text_agreement", "judge"]


@dataclass(frozen=True)
class CaseResult:
    """One generated clip's verdict."""

    case: PromptCase
    seed: int
    rule_ok: bool
    floats: bool
    tumbles: bool
    reason: str
    warned: bool

    @property
    def matches(self) -> bool:
        return self.rule_ok and not self.floats and not self.tumbles


@dataclass
class AgreementReport:
    """Results of one suite run (see :func:`evaluate_text_agreement`)."""

    split: str
    results: list[CaseResult] = field(default_factory=list)
    oov_warned: dict[str, bool] = field(default_factory=dict)

    def _rate(self, rows: Sequence[CaseResult], key) -> tuple[int, int]:
        return sum(bool(key(r)) for r in rows), len(rows)

    def by_family(self) -> dict[str, tuple[int, int]]:
        """Family -> (matching clips, clips)."""
        out: dict[str, tuple[int, int]] = {}
        for family in dict.fromkeys(r.case.family for r in self.results):
            out[family] = self._rate([r for r in self.results if r.case.family == family], lambda r: r.matches)
        return out

    @property
    def match(self) -> tuple[int, int]:
        return self._rate(self.results, lambda r: r.matches)

    @property
    def floating(self) -> tuple[int, int]:
        return self._rate(self.results, lambda r: r.floats)

    @property
    def tumbling(self) -> tuple[int, int]:
        return self._rate(self.results, lambda r: r.tumbles)

    @property
    def warned(self) -> tuple[int, int]:
        """In-suite prompts (not out of vocabulary) that got a vocabulary warning."""
        return self._rate(self.results, lambda r: r.warned)

    def summary(self) -> dict:
        """Plain numbers (JSON-ready)."""
        return {
            "split": self.split,
            "match": list(self.match),
            "float": list(self.floating),
            "tumble": list(self.tumbling),
            "warned_in_suite": list(self.warned),
            "oov_warned": [sum(self.oov_warned.values()), len(self.oov_warned)],
            "families": {k: list(v) for k, v in self.by_family().items()},
        }

    def table(self) -> str:
        """Markdown table: per family match rate, then the totals."""
        lines = [f"| family ({self.split} wordings) | match | float | example verdict |", "|---|---|---|---|"]
        for family, (hit, total) in self.by_family().items():
            rows = [r for r in self.results if r.case.family == family]
            floats = sum(r.floats for r in rows)
            lines.append(f"| {family} | {hit}/{total} | {floats}/{total} | {rows[0].reason} |")
        hit, total = self.match
        fl, _ = self.floating
        tu, _ = self.tumbling
        lines.append(f"| **all** | **{hit}/{total} ({hit / max(total, 1):.0%})** | **{fl}/{total} ({fl / max(total, 1):.0%})** | tumbling {tu}/{total} |")
        if self.oov_warned:
            warned = sum(self.oov_warned.values())
            lines.append(f"\nout-of-vocabulary prompts warned about: {warned}/{len(self.oov_warned)}; "
                         f"suite prompts warned about: {self.warned[0]}/{self.warned[1]}")
        return "\n".join(lines)


def judge(case: PromptCase, motion, seed: int, limits: GroundingLimits = GroundingLimits()) -> CaseResult:
    """Measure ``motion`` and apply its family's rule."""
    rules = {f.name: f.rule for f in FAMILIES}
    measures = measure_motion(motion, limits)
    ok, reason = rules[case.family](measures, case.side)
    warned = bool(motion.metadata.get("vocabulary", {}).get("warning"))
    return CaseResult(case, seed, ok, measures.floats(limits), measures.tumbles(limits), reason, warned)


def evaluate_text_agreement(
    model,
    split: str = "heldout",
    seeds: Sequence[int] = (0, 1),
    duration: float = 5.0,
    cases: Sequence[PromptCase] | None = None,
    out_of_vocabulary: Sequence[str] = OUT_OF_VOCABULARY,
    progress: bool = True,
    **options,
) -> AgreementReport:
    """Generate every suite prompt of ``split`` for each seed and judge it.

    Args:
        model: a :class:`~robomotion.generators.base.Generator` with a human skeleton.
        split: ``"tune"``, ``"heldout"`` or ``"all"``.
        seeds: one clip per prompt and seed.
        duration: seconds per clip.
        cases: override the suite's prompts.
        out_of_vocabulary: prompts that must be warned about (one short clip each).
        options: passed to the model call (e.g. ``num_denoising_steps``).
    """
    cases = list(cases) if cases is not None else suite_cases(split)
    report = AgreementReport(split=split)
    jobs = [(case, seed) for case in cases for seed in seeds]
    if progress:
        from tqdm import tqdm

        jobs = tqdm(jobs, desc=f"text agreement ({split})", unit="clip", leave=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnfamiliarPromptWarning)  # recorded in the metadata instead
        for case, seed in jobs:
            (motion,) = model(case.text, duration=duration, seed=seed, progress=False, **options)
            report.results.append(judge(case, motion, seed))
        for text in out_of_vocabulary:
            (motion,) = model(text, duration=1.0, seed=0, progress=False, **options)
            report.oov_warned[text] = bool(motion.metadata.get("vocabulary", {}).get("warning"))
    return report
