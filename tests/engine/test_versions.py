"""Version counters, as PyTorch's: in-place writes bump a tensor's version (shared with
its views), and backward through an op that saved the tensor before the write raises,
naming the op, instead of returning a wrong gradient."""

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm import Tensor, no_grad, nn
from tinygrad_fm.nn import functional as F
from tinygrad_fm.optim import SGD, Adam

MODIFIED = "modified by an inplace operation"


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def torch_module():
    return pytest.importorskip("torch")


def test_the_issue_example_raises_naming_the_op_as_pytorch_does():
    x = leaf([1.0, 2.0])
    a = x * 1
    b = a * a
    with no_grad():
        a += 1
    with pytest.raises(RuntimeError, match=MODIFIED + r".*output 0 of Mul, is at version 1; "
                                                      r"expected version 0.*saved by Mul"):
        b.sum().backward()

    torch = torch_module()
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    at = xt * 1
    bt = at * at
    with torch.no_grad():
        at += 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        bt.sum().backward()
    assert a._version == at._version == 1


def test_changing_a_weight_before_backward_raises():
    w, x = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (w * x).sum()  # x's gradient needs w
    with no_grad():
        w -= 1
    with pytest.raises(RuntimeError, match=MODIFIED + r".*a leaf tensor, is at version 1"):
        y.backward()
    # As in PyTorch, an op saves only what its gradients need: with a constant x, Mul
    # keeps x (for w's gradient) but not w, so changing w is not an error.
    w2 = leaf([1.0, 2.0])
    y2 = (w2 * Tensor([3.0, 4.0], dtype="float64")).sum()
    with no_grad():
        w2 -= 1
    y2.backward()
    np.testing.assert_array_equal(w2.grad.data, [3, 4])

    torch = torch_module()
    wt, xt = (torch.tensor([1.0, 2.0], requires_grad=True) for _ in range(2))
    yt = (wt * xt).sum()
    with torch.no_grad():
        wt -= 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        yt.backward()
    wt = torch.tensor([1.0, 2.0], requires_grad=True)
    yt = (wt * torch.tensor([3.0, 4.0])).sum()
    with torch.no_grad():
        wt -= 1
    yt.backward()


def test_changing_a_linear_input_in_place_raises_naming_linear():
    layer = nn.Linear(3, 2)
    x = Tensor(np.ones((4, 3), np.float32))
    y = layer(x)
    x.mul_(0)
    with pytest.raises(RuntimeError, match=MODIFIED + r".*saved by Linear"):
        y.sum().backward()


@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh"])
def test_fill_on_an_output_that_its_op_saved_raises(op):
    x = leaf([0.5, -1.0])
    y = getattr(x, op)()
    z = y * 2  # Mul saves nothing that changes: y is saved by the op that made it
    with no_grad():
        y.fill_(1.0)
    name = {"exp": "Exp", "sigmoid": "Sigmoid", "tanh": "Tanh"}[op]
    with pytest.raises(RuntimeError, match=MODIFIED + rf".*output 0 of {name}.*saved by "
                                                      rf"{name} for its backward, as its output"):
        z.sum().backward()


def test_ops_that_save_nothing_are_never_flagged():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    s = x + y          # Add saves nothing
    t = (s * s).sum()  # Mul saves s (version 0)
    with no_grad():
        x += 10        # x is a leaf in the graph, but no op saved it
    t2 = s.sum()
    t2.backward()
    np.testing.assert_array_equal(x.grad.data, [1, 1])
    with no_grad():
        s += 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        t.backward()


def test_every_in_place_write_bumps_the_version():
    t = Tensor([1.0, 2.0, 3.0])
    writes = [lambda: t.add_(1), lambda: t.sub_(1), lambda: t.mul_(2), lambda: t.div_(2),
              lambda: t.fill_(0.5), lambda: t.copy_(Tensor([1.0, 1.0, 1.0])),
              lambda: t.zero_(), lambda: t.__setitem__(0, 4.0), lambda: t.__iadd__(1),
              lambda: t.__isub__(1), lambda: t.__imul__(2), lambda: t.__itruediv__(2)]
    for expected, write in enumerate(writes, start=1):
        write()
        assert t._version == expected


def test_the_same_writes_give_pytorchs_versions():
    torch = torch_module()
    ours, theirs = Tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    for t in (ours, theirs):
        t.add_(1)
        t.mul_(3)
        t[0] = 2.0
        t.zero_()
        t += 1
    assert ours._version == theirs._version


def test_views_share_their_base_counter():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    views = [x.reshape(3, 2), x.T, x[0], x[:, 1:], x.detach(), x.expand(2, 2, 3),
             x.reshape(6)[::2]]
    for view in views:
        before = x._version
        with no_grad():
            if view.data.flags.writeable:
                view.data  # noqa: B018 (a view of x's memory)
                view.mul_(1.0)
            else:  # a broadcast view is read-only: write through the base instead
                x.mul_(1.0)
        assert x._version == before + 1 and view._version == x._version
    copied = x[[0, 1]]  # advanced indexing copies
    before = x._version
    copied.add_(1)
    assert x._version == before and copied._version == 1


def test_a_write_through_a_view_is_detected():
    x = leaf([1.0, 2.0, 3.0])
    h = x * 1
    out = (h * h).sum()
    with no_grad():
        h[1:].add_(5)  # writes into h's memory through a view
    with pytest.raises(RuntimeError, match=MODIFIED):
        out.backward()
    h2 = x * 1
    out2 = (h2 * h2).sum()
    h2.detach().zero_()  # as in PyTorch, detach() shares the counter too
    with pytest.raises(RuntimeError, match=MODIFIED):
        out2.backward()


def test_optimizer_steps_bump_versions_and_training_still_works():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    for optimizer in (SGD(model.parameters(), lr=0.1, momentum=0.9),
                      Adam(model.parameters(), lr=0.01)):
        x = Tensor(np.ones((5, 3), np.float32))
        for _ in range(3):
            optimizer.zero_grad()
            before = [p._version for p in model.parameters()]
            loss = F.cross_entropy(model(x), np.array([0, 1, 0, 1, 1]))
            loss.backward()  # no false alarm after the previous step's writes
            optimizer.step()
            assert all(p._version == v + 1 for p, v in zip(model.parameters(), before))
    # a step between forward and backward is caught
    loss = model(x).sum()
    loss_grads = [p for p in model.parameters()]
    for p in loss_grads:
        p.grad = Tensor(np.zeros_like(p.data))
    optimizer.step()
    with pytest.raises(RuntimeError, match=MODIFIED + r".*saved by Linear"):
        loss.backward()


def test_saved_tensors_of_a_custom_function_are_checked():
    class Square(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = leaf([1.0, 2.0])
    h = x * 1
    y = Square.apply(h).sum()
    with no_grad():
        h.add_(1)
    with pytest.raises(RuntimeError, match=MODIFIED + r".*saved tensor 0 of Square"):
        y.backward()


def test_a_write_after_backward_with_retain_graph_is_caught_on_the_next_backward():
    x = leaf([1.0, 2.0])
    h = x.exp()
    y = (h * 3).sum()
    y.backward(retain_graph=True)
    with no_grad():
        h.mul_(2)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_requires_grad_on_an_integer_tensor_raises_as_the_constructor_does():
    t = Tensor([1, 2, 3])
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        t.requires_grad = True
    assert not t.requires_grad
    with pytest.raises(TypeError, match="only floating-point"):
        Tensor([1, 2], requires_grad=True)
    f = Tensor([1.0])
    f.requires_grad = True
    assert f.requires_grad and f.is_leaf
    with pytest.raises(RuntimeError, match="only allowed on leaf tensors"):
        (f * 2).requires_grad = False
