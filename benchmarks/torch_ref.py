"""The PyTorch reference model: what a researcher would write for a two-layer ReLU net."""

from __future__ import annotations

import torch


class TorchNet(torch.nn.Module):
    """g(x) = u^T relu(W x + b): nn.Linear hidden layer with bias, bias-free output."""

    def __init__(self, n: int, width: int):
        super().__init__()
        self.hidden = torch.nn.Linear(n, width)
        self.out = torch.nn.Linear(width, 1, bias=False)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x))).squeeze(-1)
