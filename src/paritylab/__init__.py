"""paritylab: learning parities with neural networks, runnable and measurable."""

__version__ = "0.1.0"
