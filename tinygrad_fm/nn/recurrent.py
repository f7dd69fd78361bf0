"""Recurrent layers: RNN, LSTM, GRU and their cells (PyTorch's names, arguments, gate
order, weight names and initialisation, so a PyTorch state dict loads and gives the same
outputs).

Everything is built from Tensor ops and ops with a differentiable backward, so it is
differentiable to any order. Each step projects its input (``W_ih x_t + b_ih``) and the
state, then applies the cell: the LSTM (without ``proj_size``) and GRU cells as one fused
op each (``ops.LSTMCellStep``, ``ops.GRUCellStep``: 7% and 25% faster steps at batch 64,
hidden 128), the others as Tensor ops. (Projecting the
whole sequence in one matmul and slicing it per step was measured 2x slower here: the
gradient of each slice is a dense array of the whole sequence's size, so the slices cost
O(L^2) memory traffic in backward.)

- RNN:  ``h' = act(W_ih x + b_ih + W_hh h + b_hh)`` with act tanh or relu;
- LSTM: gates ``i, f, g, o`` (in that order in the weights),
  ``c' = f * c + i * g``, ``h' = o * tanh(c')`` (then ``h' = W_hr h'`` with ``proj_size``);
- GRU:  gates ``r, z, n``, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,
  ``h' = (1 - z) * n + z * h``.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import ops
from ..tensor import DEFAULT_DTYPE, Tensor, cat, stack, where
from . import functional as F
from . import init
from .module import Module, Parameter
from .utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# --------------------------------------------------------------------------- one time step


def _rnn_step(mode: str, x_proj: Tensor, state, w_hh, b_hh, w_hr):
    """One step of the recurrence from the projected input ``x_proj`` (``W_ih x + b_ih``)
    and the previous state (``h``, or ``(h, c)`` for the LSTM); returns the new state."""
    if mode == "LSTM":
        h, c = state
        gates = x_proj + F.linear(h, w_hh, b_hh)
        size = c.shape[-1]
        if w_hr is None:  # the common case: one fused op (same formulas)
            hc = ops.LSTMCellStep.apply(gates, c)
            return hc[..., :size], hc[..., size:]
        i = gates[..., :size].sigmoid()
        f = gates[..., size:2 * size].sigmoid()
        g = gates[..., 2 * size:3 * size].tanh()
        o = gates[..., 3 * size:].sigmoid()
        c = f * c + i * g
        return F.linear(o * c.tanh(), w_hr), c
    h = state
    if mode == "GRU":
        return ops.GRUCellStep.apply(x_proj, F.linear(h, w_hh, b_hh), h)
    pre = x_proj + F.linear(h, w_hh, b_hh)
    return pre.tanh() if mode == "RNN_TANH" else pre.relu()


def _check_int(value, name: str, layer: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{layer}: {name} should be of type int, got: {type(value).__name__}")
    if value < minimum:
        bound = "greater than zero" if minimum == 1 else f"at least {minimum}"
        raise ValueError(f"{layer}: {name} must be {bound}, got {value}")
    return int(value)


def _as_input(input, layer: str) -> Tensor:
    input = F._as_tensor(input, layer)
    F._check_floating(input, layer)
    return input


# --------------------------------------------------------------------------- layers


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrence shared by RNN, LSTM and GRU.

    Input ``(L, N, input_size)`` (``(N, L, input_size)`` with ``batch_first``) or
    unbatched ``(L, input_size)``; initial state ``(D * num_layers, N, H)`` (or
    ``(D * num_layers, H)`` unbatched), zeros when not given. Returns the last layer's
    outputs for every step, ``(L, N, D * H_out)``, and the final state of every layer
    and direction.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=DEFAULT_DTYPE):
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{name}: unrecognized RNN mode {mode!r}; use one of "
                             f"{tuple(_GATES)}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] "
                             f"representing the probability of an element being zeroed, "
                             f"got {dropout!r}")
        for flag, value in (("bias", bias), ("batch_first", batch_first),
                            ("bidirectional", bidirectional)):
            if not isinstance(value, bool):
                raise TypeError(f"{name}: {flag} should be of type bool, got: "
                                f"{type(value).__name__}")
        self.mode = mode
        self.input_size = _check_int(input_size, "input_size", name, 1)
        self.hidden_size = _check_int(hidden_size, "hidden_size", name, 1)
        self.num_layers = _check_int(num_layers, "num_layers", name, 1)
        self.proj_size = _check_int(proj_size, "proj_size", name, 0)
        if self.proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size argument is only supported for LSTM, not "
                             "RNN or GRU")
        if self.proj_size >= self.hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got "
                             f"proj_size={proj_size} and hidden_size={hidden_size}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent "
                          f"layer, so non-zero dropout expects num_layers greater than 1, "
                          f"but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=3)
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * self.hidden_size
        output_size = self.proj_size or self.hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else output_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {"weight_ih": (gate_size, layer_input),
                          "weight_hh": (gate_size, output_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if self.proj_size:
                    shapes["weight_hr"] = (self.proj_size, self.hidden_size)
                names = []
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix, Parameter(np.empty(shape, dtype=dtype)))
                    names.append(kind + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def flatten_parameters(self) -> None:
        """Accepted for PyTorch compatibility (a cuDNN memory layout); nothing to do."""

    @property
    def all_weights(self) -> list:
        """The parameters of each layer and direction, in PyTorch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_weights(self, layer: int, direction: int):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        get = self._parameters.get
        return (get("weight_ih" + suffix), get("weight_hh" + suffix), get("bias_ih" + suffix),
                get("bias_hh" + suffix), get("weight_hr" + suffix))

    def _check_state(self, state, expected: tuple, what: str, batched: bool) -> Tensor:
        name = type(self).__name__
        state = F._as_tensor(state, name)
        if state.ndim != len(expected):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise ValueError(f"{name}: for {kind} input, {what} should also be "
                             f"{len(expected)}-D but got a {state.ndim}-D tensor of shape "
                             f"{state.shape}")
        if state.shape != expected:
            raise ValueError(f"{name}: expected {what} of shape {expected}, got {state.shape}")
        return state

    def _initial_states(self, hx, batch: int, dtype, batched: bool):
        """One initial state per layer and direction: ``h`` tensors, or ``(h, c)`` pairs
        for the LSTM, each (N, H) (or (H,) unbatched)."""
        directions = 2 if self.bidirectional else 1
        lead = (self.num_layers * directions,)
        batch_shape = (batch,) if batched else ()
        h_size = self.proj_size or self.hidden_size
        name = type(self).__name__
        if self.mode == "LSTM":
            if hx is None:
                h0 = Tensor(np.zeros(lead + batch_shape + (h_size,), dtype=dtype))
                c0 = Tensor(np.zeros(lead + batch_shape + (self.hidden_size,), dtype=dtype))
            else:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got "
                                    f"{type(hx).__name__}")
                h0 = self._check_state(hx[0], lead + batch_shape + (h_size,), "h_0", batched)
                c0 = self._check_state(hx[1], lead + batch_shape + (self.hidden_size,),
                                       "c_0", batched)
            return [(h0[k], c0[k]) for k in range(lead[0])]
        if hx is None:
            h0 = Tensor(np.zeros(lead + batch_shape + (h_size,), dtype=dtype))
        else:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"{name}: hx must be a Tensor h_0 (only the LSTM takes a "
                                "tuple (h_0, c_0))")
            h0 = self._check_state(hx, lead + batch_shape + (h_size,), "hx", batched)
        return [h0[k] for k in range(lead[0])]

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        return self._forward(input, hx, None, self.batch_first)

    def _forward_packed(self, packed: PackedSequence, hx):
        """A packed batch: run the padded batch (in its original order) with each
        sequence's state frozen after its last step (the reverse direction starts at its
        own last step), as PyTorch's packed recurrence; the output is packed the same
        way, ``h_n`` (and ``c_n``) hold each sequence's final state."""
        padded, lengths = pad_packed_sequence(packed)
        if padded.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: the packed input has "
                             f"{padded.shape[-1]} features, but input_size={self.input_size}")
        steps = np.arange(padded.shape[0])[:, None, None]
        running = Tensor(steps < lengths.data[None, :, None])  # (T, B, 1): step t is real
        output, state = self._forward(padded, hx, running, batch_first=False)
        output = pack_padded_sequence(output, lengths, enforce_sorted=False)
        return PackedSequence(output.data, packed.batch_sizes, packed.sorted_indices,
                              packed.unsorted_indices), state

    def _forward(self, input, hx, running, batch_first: bool):
        name = type(self).__name__
        input = _as_input(input, name)
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected input to be 2-D (L, input_size) unbatched or "
                             f"3-D batched, got shape {input.shape}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input of shape {input.shape} has {input.shape[-1]} "
                             f"features (last axis), but input_size={self.input_size}")
        batched = input.ndim == 3
        if not batched:
            x = input.unsqueeze(1)
        else:
            x = input.transpose(0, 1) if batch_first else input
        steps, batch = x.shape[0], x.shape[1]
        if steps == 0:
            raise ValueError(f"{name}: the input sequence is empty (shape {input.shape})")
        states = self._initial_states(hx, batch, input.dtype, batched)
        if not batched:  # run the batched code on a batch of one
            states = [tuple(s.unsqueeze(0) for s in state) if self.mode == "LSTM"
                      else state.unsqueeze(0) for state in states]
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(layer, direction)
                state = states[layer * directions + direction]
                order = range(steps - 1, -1, -1) if direction else range(steps)
                hidden = [None] * steps
                for t in order:
                    new = _rnn_step(self.mode, F.linear(x[t], w_ih, b_ih), state, w_hh,
                                    b_hh, w_hr)
                    if running is not None:  # packed: a finished sequence keeps its state
                        new = (tuple(where(running[t], n, s) for n, s in zip(new, state))
                               if self.mode == "LSTM" else where(running[t], new, state))
                    state = new
                    hidden[t] = state[0] if self.mode == "LSTM" else state
                outputs.append(stack(hidden, 0))
                finals.append(state)
            x = outputs[0] if directions == 1 else cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        if self.mode == "LSTM":
            h_n = stack([h for h, _ in finals], 0)
            c_n = stack([c for _, c in finals], 0)
        else:
            h_n = stack(finals, 0)
        if not batched:
            x = x.squeeze(1)
            h_n = h_n.squeeze(1)
            if self.mode == "LSTM":
                c_n = c_n.squeeze(1)
        elif batch_first:
            x = x.transpose(0, 1)
        return (x, (h_n, c_n)) if self.mode == "LSTM" else (x, h_n)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


class RNN(RNNBase):
    """Elman RNN: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (``nonlinearity='relu'``
    for relu). Returns ``(output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=DEFAULT_DTYPE):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; select from "
                             "'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         0, device, dtype)


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o. ``proj_size > 0`` projects each hidden
    state to that size (``weight_hr``). Returns ``(output, (h_n, c_n))``; ``hx`` is
    ``(h_0, c_0)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=DEFAULT_DTYPE):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n with PyTorch's
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``. Returns ``(output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=DEFAULT_DTYPE):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)


# --------------------------------------------------------------------------- cells


class RNNCellBase(Module):
    """One time step: input ``(N, input_size)`` or ``(input_size,)``, state of the same
    rank with ``hidden_size`` features (zeros when not given)."""

    _mode = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=DEFAULT_DTYPE):
        super().__init__()
        name = type(self).__name__
        self.input_size = _check_int(input_size, "input_size", name, 1)
        self.hidden_size = _check_int(hidden_size, "hidden_size", name, 1)
        if not isinstance(bias, bool):
            raise TypeError(f"{name}: bias should be of type bool, got: {type(bias).__name__}")
        self.bias = bias
        gate_size = _GATES[self._mode] * self.hidden_size
        self.weight_ih = Parameter(np.empty((gate_size, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((gate_size, self.hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(gate_size, dtype=dtype))
            self.bias_hh = Parameter(np.empty(gate_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def _check_input(self, input) -> Tensor:
        name = type(self).__name__
        input = _as_input(input, name)
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input to be 1-D or 2-D, got a {input.ndim}-D "
                             f"input of shape {input.shape}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input of shape {input.shape} has {input.shape[-1]} "
                             f"features (last axis), but input_size={self.input_size}")
        return input

    def _check_state(self, state, input: Tensor, what: str) -> Tensor:
        name = type(self).__name__
        expected = input.shape[:-1] + (self.hidden_size,)
        if state is None:
            return Tensor(np.zeros(expected, dtype=input.dtype))
        state = F._as_tensor(state, name)
        if state.shape != expected:
            raise ValueError(f"{name}: {what} of shape {state.shape} does not fit input of "
                             f"shape {input.shape}: expected {expected}")
        return state

    def forward(self, input, hx=None):
        input = self._check_input(input)
        state = self._check_state(hx, input, "hx")
        return _rnn_step(self._mode, F.linear(input, self.weight_ih, self.bias_ih), state,
                         self.weight_hh, self.bias_hh, None)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            text += f", nonlinearity={nonlinearity}"
        return text


class RNNCell(RNNCellBase):
    """``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=DEFAULT_DTYPE):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; select from "
                             "'tanh' or 'relu'")
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)


class LSTMCell(RNNCellBase):
    """One LSTM step; ``hx`` is ``(h, c)`` and the result ``(h', c')``."""

    _mode = "LSTM"

    def forward(self, input, hx=None):
        input = self._check_input(input)
        if hx is None:
            hx = (None, None)
        elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"LSTMCell: hx must be a tuple (h_0, c_0), got "
                            f"{type(hx).__name__}")
        state = (self._check_state(hx[0], input, "h_0"), self._check_state(hx[1], input, "c_0"))
        return _rnn_step("LSTM", F.linear(input, self.weight_ih, self.bias_ih), state,
                         self.weight_hh, self.bias_hh, None)


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n as in :class:`GRU`)."""

    _mode = "GRU"
