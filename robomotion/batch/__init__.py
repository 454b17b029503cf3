"""Dataset-scale runs: ``robomotion batch MANIFEST --steps generate,retarget,validate --output DIR``.

An application layer above the stages: it imports generators, retargeting and validation, and
nothing below it imports it. Rows run on a local process pool (default) or on Ray actors
(``ray="auto"`` or a cluster address; ``pip install 'robomotion[ray]'``), with the same results.

::

    from robomotion.batch import run_batch
    result = run_batch("manifest.csv", "out/", steps="generate,retarget,validate", workers=2)
    print(result.counts())          # {'pass': 3, 'warn': 7, 'fail': 1, 'error': 1}

Modules: :mod:`~robomotion.batch.manifest` (reading rows, content keys),
:mod:`~robomotion.batch.steps` (the step table and the worker side of a row),
:mod:`~robomotion.batch.engines` (local pool, Ray), :mod:`~robomotion.batch.runner`
(resume, retries, progress), :mod:`~robomotion.batch.results` (tables and HTML summary).
See ``docs/batch.md``.
"""

from __future__ import annotations

from robomotion.batch.manifest import BadRow, ManifestRow, read_manifest
from robomotion.batch.results import read_results
from robomotion.batch.runner import BatchResult, run_batch
from robomotion.batch.steps import ORDER, STEPS, parse_steps

__all__ = [
    "ORDER",
    "STEPS",
    "BadRow",
    "BatchResult",
    "ManifestRow",
    "parse_steps",
    "read_manifest",
    "read_results",
    "run_batch",
]
