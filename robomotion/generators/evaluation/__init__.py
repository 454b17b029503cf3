"""Automatic evaluation of text-to-motion models on a CPU.

* :mod:`.measures`: what a motion does, from its joint positions (speed and direction of
  travel, turning, flight, which limb rises, pelvis drop, hands meeting, floating, tumbling).
* :mod:`.suite`: the prompt suite (action families, tuning and held-out wordings, a rule per
  family, out-of-vocabulary prompts).
* :mod:`.agreement`: runs the suite on a generator and reports match rates per family.
"""

from robomotion.generators.evaluation.agreement import AgreementReport, CaseResult, evaluate_text_agreement, judge
from robomotion.generators.evaluation.measures import GroundingLimits, MotionMeasures, measure_motion
from robomotion.generators.evaluation.suite import FAMILIES, OUT_OF_VOCABULARY, PromptCase, suite_cases

__all__ = [
    "FAMILIES",
    "OUT_OF_VOCABULARY",
    "AgreementReport",
    "CaseResult",
    "GroundingLimits",
    "MotionMeasures",
    "PromptCase",
    "evaluate_text_agreement",
    "judge",
    "measure_motion",
    "suite_cases",
]
