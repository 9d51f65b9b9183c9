"""Layer 4a: losses, accuracies and training measures."""

from paritylab.metrics.classification import classification_metrics, correct, hinge

__all__ = ["classification_metrics", "correct", "hinge"]
