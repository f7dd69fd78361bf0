"""``torch.nn.utils.rnn``: variable-length sequences padded into one batch
(``pad_sequence``) or packed step by step (``PackedSequence``, ``pack_padded_sequence``,
``pad_packed_sequence``, ``pack_sequence``, ``unpack_sequence``), which the recurrent
layers take."""

from __future__ import annotations

import numpy as np

from ...tensor import Tensor, cat, stack

__all__ = ["pad_sequence", "PackedSequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpack_sequence"]

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


class PackedSequence(tuple):
    """A batch of variable-length sequences packed time step by time step, as PyTorch's:
    ``data`` (sum of lengths, *) holds step 0 of every sequence, then step 1 of those at
    least 2 long, and so on, the sequences sorted by decreasing length; ``batch_sizes``
    (int64, one per step) how many sequences are that long; ``sorted_indices`` the
    sorting (None when the input was sorted) and ``unsorted_indices`` its inverse.
    Recurrent layers take it and return their output packed the same way."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = Tensor(np.argsort(sorted_indices.data, kind="stable"))
        return super().__new__(cls, (data, batch_sizes, sorted_indices, unsorted_indices))

    data = property(lambda self: self[0])
    batch_sizes = property(lambda self: self[1])
    sorted_indices = property(lambda self: self[2])
    unsorted_indices = property(lambda self: self[3])

    def _replace_data(self, data: Tensor) -> "PackedSequence":
        return PackedSequence(data, self.batch_sizes, self.sorted_indices,
                              self.unsorted_indices)

    def to(self, *args, **kwargs) -> "PackedSequence":
        return self._replace_data(self.data.to(*args, **kwargs))

    def float(self) -> "PackedSequence":
        return self._replace_data(self.data.float())

    def double(self) -> "PackedSequence":
        return self._replace_data(self.data.double())

    @property
    def is_cuda(self) -> bool:
        return False

    def __repr__(self) -> str:
        return (f"PackedSequence(data={self.data!r}, batch_sizes={self.batch_sizes!r}, "
                f"sorted_indices={self.sorted_indices!r}, "
                f"unsorted_indices={self.unsorted_indices!r})")


def _lengths_array(lengths) -> np.ndarray:
    lengths = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu":
        raise ValueError(f"pack_padded_sequence: lengths must be a 1-D sequence of integers, "
                         f"got {lengths!r}")
    return lengths.astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (``batch_first``: (B, T, *)) whose sequence b is
    ``lengths[b]`` long. ``enforce_sorted``: the lengths must be decreasing (else they
    are sorted here and the sorting kept in the result). Differentiable in ``input``."""
    lengths = _lengths_array(lengths)
    if not isinstance(input, Tensor):
        input = Tensor(input)
    steps_axis = 1 if batch_first else 0
    batch = input.shape[1 - steps_axis]
    if len(lengths) != batch:
        raise ValueError(f"pack_padded_sequence: {len(lengths)} lengths for a batch of "
                         f"{batch} sequences (input shape {input.shape})")
    if lengths.size and (lengths.min() <= 0 or lengths.max() > input.shape[steps_axis]):
        raise RuntimeError(f"pack_padded_sequence: every length must lie in 1..{input.shape[steps_axis]} "
                           f"(the padded length), got {lengths.tolist()}")
    sorted_indices = None
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in "
                               "decreasing order when `enforce_sorted` is True. You can "
                               "pass `enforce_sorted=False` to pack_padded_sequence and/or "
                               "pack_sequence to sidestep this requirement if you do not "
                               "need ONNX exportability.")
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = Tensor(order)
        input = input.index_select(1 - steps_axis, sorted_indices)
        lengths = lengths[order]
    if batch_first:
        input = input.transpose(0, 1)
    batch_sizes = np.array([(lengths > t).sum() for t in range(int(lengths[0]))], np.int64)
    data = cat([input[t, :int(size)] for t, size in enumerate(batch_sizes)])
    return PackedSequence(data, Tensor(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length=None):
    """``(padded, lengths)``: the inverse of :func:`pack_padded_sequence`, in the original
    batch order, padded with ``padding_value`` to the longest length (or
    ``total_length``); ``lengths`` int64. Differentiable in the packed data."""
    data, batch_sizes = sequence.data, sequence.batch_sizes.data
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: expected total_length to be at least "
                             f"the length of the longest sequence ({steps}), got "
                             f"{total_length}")
    rows, offset = [], 0
    trailing = data.shape[1:]
    for size in batch_sizes:
        size = int(size)
        step = data[offset:offset + size]
        offset += size
        if size < batch:
            step = cat([step, Tensor.full((batch - size,) + trailing, padding_value,
                                          dtype=data.dtype)])
        rows.append(step)
    for _ in range(steps, total_length or steps):
        rows.append(Tensor.full((batch,) + trailing, padding_value, dtype=data.dtype))
    padded = stack(rows, 0)
    lengths = np.array([(batch_sizes > b).sum() for b in range(batch)], np.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices.data]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor(lengths)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) directly (pad, then pack)."""
    lengths = [seq.shape[0] for seq in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences (L_i, *) a :class:`PackedSequence` holds, in batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[b, :int(n)] for b, n in enumerate(lengths.data)]
