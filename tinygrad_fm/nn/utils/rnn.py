"""``torch.nn.utils.rnn.pad_sequence``: variable-length sequences padded into one batch."""

from __future__ import annotations

from ...tensor import Tensor, cat, stack

__all__ = ["pad_sequence"]

PADDING_SIDES = ("right", "left")


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes (L_i, *) into (T, B, *) (``batch_first``: (B, T, *)),
    T the longest L_i, padding each with ``padding_value`` after its end
    (``padding_side="left"``: before its start). Differentiable in the sequences."""
    if isinstance(sequences, Tensor):
        sequences = list(sequences)  # PyTorch accepts a tensor: its rows are the sequences
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: got no sequences")
    if padding_side not in PADDING_SIDES:
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    for i, seq in enumerate(sequences):
        if not isinstance(seq, Tensor) or seq.ndim == 0:
            raise TypeError(f"pad_sequence: sequence {i} must be a Tensor of shape (L, *), "
                            f"got {getattr(seq, 'shape', type(seq).__name__)}")
    trailing = sequences[0].shape[1:]
    dtype = sequences[0].dtype
    if any(seq.shape[1:] != trailing or seq.dtype != dtype for seq in sequences):
        raise ValueError(f"pad_sequence: every sequence needs the same trailing shape and "
                         f"dtype, got {[(seq.shape, str(seq.dtype)) for seq in sequences]}")
    longest = max(seq.shape[0] for seq in sequences)
    padded = []
    for seq in sequences:
        missing = longest - seq.shape[0]
        if missing:
            filler = Tensor.full((missing,) + trailing, padding_value, dtype=dtype)
            parts = [seq, filler] if padding_side == "right" else [filler, seq]
            seq = cat(parts)
        padded.append(seq)
    return stack(padded, dim=0 if batch_first else 1)
