"""The model: token embedding -> GRU layers -> linear logits over the vocabulary.

One step of it is what the runtime runs per event, so it stays small and plain:
the hidden state goes in and comes out, nothing else is carried.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from livejam.model import vocab
from livejam.settings.config import refuse_unknown


@dataclass
class ModelConfig:
    vocab_size: int = vocab.VOCAB_SIZE
    embedding: int = 256
    hidden: int = 512
    layers: int = 2
    dropout: float = 0.1

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        refuse_unknown(cls, d, "model setting")
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)


class PerformanceGRU(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embedding)
        self.gru = nn.GRU(
            cfg.embedding, cfg.hidden, num_layers=cfg.layers, batch_first=True,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden, cfg.vocab_size)

    def initial_state(self, batch: int, device=None) -> torch.Tensor:
        return torch.zeros(self.cfg.layers, batch, self.cfg.hidden, device=device)

    def forward(self, tokens: torch.Tensor, state: torch.Tensor | None = None):
        """tokens [batch, time] int64, state [layers, batch, hidden] ->
        (logits [batch, time, vocab], state_out)."""
        if state is None:
            state = self.initial_state(tokens.shape[0], tokens.device)
        x = self.drop(self.embed(tokens))
        y, state_out = self.gru(x, state)
        return self.head(self.drop(y)), state_out

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
