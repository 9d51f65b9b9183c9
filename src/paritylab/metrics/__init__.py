"""Layer 4a, metrics: classification metrics per mixture part and hidden-progress measures."""

from paritylab.metrics.classification import classification_metrics
from paritylab.metrics.progress import (
    fourier_coefficient,
    progress_probe,
    support_mass,
    support_mass_chance,
    weight_change_inf,
)

__all__ = [
    "classification_metrics",
    "fourier_coefficient",
    "progress_probe",
    "support_mass",
    "support_mass_chance",
    "weight_change_inf",
]
