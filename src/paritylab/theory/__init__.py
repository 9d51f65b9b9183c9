"""Layer 4b: theory calculators the measured results are plotted against."""

from paritylab.theory.linear_bound import (
    CorrelationEstimate,
    certificate_bound,
    estimate_correlation,
    estimate_energy,
    linear_threshold_reference,
    majority_top_coefficient,
    typical_support_bound,
)

__all__ = [
    "CorrelationEstimate",
    "certificate_bound",
    "estimate_correlation",
    "estimate_energy",
    "linear_threshold_reference",
    "majority_top_coefficient",
    "typical_support_bound",
]
