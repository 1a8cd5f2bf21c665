"""A GAN from scratch in NumPy: every forward pass, backward pass and update written out.

This module is what PyTorch does for you in every other chapter, done by hand, so
that you can read it. Everything is float64 NumPy; PyTorch appears only to *check*
the hand-written gradients (:func:`to_torch`, :func:`torch_grads`).

The pieces, in the order the chapter explains them:

- :class:`Linear` (``y = x W + b``), :class:`ReLU`, :class:`LeakyReLU`, :class:`Tanh`:
  each has ``forward(x)``, which caches what the backward pass will need, and
  ``backward(dy)``, which turns dL/d(output) into dL/d(input) and, for
  :class:`Linear`, stores dL/dW and dL/db;
- :class:`MLP` and :func:`mlp`: a list of layers; ``backward`` walks it in reverse;
- :func:`softplus`, :func:`sigmoid`, :func:`d_loss`, :func:`g_loss`: the
  non-saturating GAN losses computed from logits, with their gradients w.r.t. the logits;
- :func:`d_gradients`, :func:`g_gradients`: one player's loss and the gradient of
  every one of its parameters (for G: the chain rule runs through D into G);
- :func:`adam_update`, :class:`Adam`, :class:`SGD`: the optimisers;
- :class:`Recorder`: keeps losses and snapshots in a :class:`ganlab.train.RunRecord`,
  so that ``ganlab.viz`` draws a NumPy run like any other;
- self-checks for the chapter's exercises: :func:`check_linear_backward`,
  :func:`check_leaky_relu_backward`, :func:`check_adam_update`.

Shapes: a batch of m samples with n features is an array of shape (m, n); a
layer's weight W has shape (n_in, n_out), as in the maths ``y = x W + b``
(``torch.nn.Linear`` stores the transpose, (n_out, n_in)).
"""

from __future__ import annotations

import math
import textwrap
from typing import Callable, Sequence

import numpy as np

from ._checks import _describe, check_array, check_choice, check_float, check_int, check_seed

__all__ = [
    "Linear", "ReLU", "LeakyReLU", "Tanh", "MLP", "mlp", "ACTIVATIONS",
    "softplus", "sigmoid", "d_loss", "g_loss", "d_gradients", "g_gradients",
    "adam_update", "Adam", "SGD", "Recorder",
    "to_torch", "torch_grads", "relative_error",
    "check_linear_backward", "check_leaky_relu_backward", "check_adam_update",
]


def _array(name: str, value, ndim: int = 2) -> np.ndarray:
    """``value`` as a float64 array with ``ndim`` dimensions, or raise naming ``name``."""
    return check_array(name, value, ndim=ndim)


# ---------------------------------------------------------------------------
# Layers: forward caches, backward uses the cache
# ---------------------------------------------------------------------------

class Linear:
    """A dense layer, y = x W + b, for a batch x of shape (m, n_in).

    Backward, from dy = dL/dy of shape (m, n_out) (each y_kj = sum_i x_ki W_ij + b_j):

        dW = x^T dy        (n_in, n_out): W_ij touches every sample k: sum over k
        db = sum_k dy_k    (n_out,):      the same b is added to every sample
        dx = dy W^T        (m, n_in):     what flows back to the layer below

    Initialisation as ``torch.nn.Linear``: W and b uniform in +-1/sqrt(n_in).
    """

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator):
        n_in = check_int("n_in", n_in, minimum=1)
        n_out = check_int("n_out", n_out, minimum=1)
        bound = 1.0 / math.sqrt(n_in)
        self.W = rng.uniform(-bound, bound, size=(n_in, n_out))
        self.b = rng.uniform(-bound, bound, size=n_out)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.x = None  # the input of the last forward pass

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x  # dW = x^T dy needs it: keep it for the backward pass
        return x @ self.W + self.b

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self.dW = self.x.T @ dy
        self.db = dy.sum(axis=0)
        return dy @ self.W.T

    def params(self) -> list:
        return [self.W, self.b]

    def grads(self) -> list:
        return [self.dW, self.db]

    def __repr__(self) -> str:
        return f"Linear({self.W.shape[0]}, {self.W.shape[1]})"


class ReLU:
    """h = max(a, 0).  Backward: da = dh * [a > 0] (the gradient passes where a > 0)."""

    def forward(self, a):
        self.positive = a > 0  # all the backward pass needs
        return np.where(self.positive, a, 0.0)

    def backward(self, dh):
        return dh * self.positive

    def params(self):
        return []

    def grads(self):
        return []

    def __repr__(self):
        return "ReLU()"


class LeakyReLU:
    """h = a if a > 0 else slope * a.  Backward: da = dh * (1 if a > 0 else slope).

    Unlike ReLU it lets a little gradient through where a < 0, so no unit is ever
    dead; DCGAN's discriminator uses it with slope 0.2.
    """

    def __init__(self, slope: float = 0.2):
        self.slope = check_float("slope", slope, minimum=0.0, maximum=1.0)

    def forward(self, a):
        self.scale = np.where(a > 0, 1.0, self.slope)  # dh/da, elementwise
        return a * self.scale

    def backward(self, dh):
        return dh * self.scale

    def params(self):
        return []

    def grads(self):
        return []

    def __repr__(self):
        return f"LeakyReLU({self.slope})"


class Tanh:
    """h = tanh(a).  Backward: da = dh * (1 - h^2), from the cached OUTPUT h."""

    def forward(self, a):
        self.h = np.tanh(a)  # tanh' = 1 - tanh^2: the output is all we need
        return self.h

    def backward(self, dh):
        return dh * (1.0 - self.h**2)

    def params(self):
        return []

    def grads(self):
        return []

    def __repr__(self):
        return "Tanh()"


ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh}


class MLP:
    """Layers applied in turn. ``backward`` applies their backward passes in reverse.

    That reverse walk IS backpropagation: each layer turns dL/d(its output) into
    dL/d(its input), which is dL/d(output) of the layer below.
    """

    def __init__(self, layers: list):
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            if not all(hasattr(layer, name) for name in ("forward", "backward", "params", "grads")):
                raise TypeError(f"layers[{i}] must be a layer with forward, backward, params and grads "
                                f"(e.g. Linear, ReLU), got {_describe(layer)}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy  # dL/d(input): for D in G's step, the gradient on the fakes

    def params(self) -> list:
        """The weight arrays, in order: W, b of the first Linear, then the next, ..."""
        return [p for layer in self.layers for p in layer.params()]

    def grads(self) -> list:
        """The gradients of the last backward pass, in the order of :meth:`params`."""
        return [g for layer in self.layers for g in layer.grads()]

    def param_names(self) -> list:
        """Names like ``"layer0.W"``, in the order of :meth:`params`."""
        return [f"layer{i}.{name}" for i, layer in enumerate(self.layers)
                if isinstance(layer, Linear) for name in ("W", "b")]

    def __call__(self, x):
        return self.forward(np.asarray(x, dtype=np.float64))

    def __repr__(self):  # one layer per line, numbered as in param_names()
        lines = [f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers)]
        return "MLP(\n" + "\n".join(lines) + "\n)"


def mlp(sizes: Sequence[int], activation: str = "tanh", seed=None, slope: float = 0.2) -> MLP:
    """An MLP with layer widths ``sizes`` (e.g. [1, 32, 32, 1]) and ``activation``
    between the Linear layers (none after the last: D outputs a logit, G a sample).

    ``activation``: "relu", "leaky_relu" (with ``slope``) or "tanh"; ``seed``
    fixes the initial weights.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        raise ValueError(f"sizes must list at least 2 layer widths, got {_describe(sizes)}")
    sizes = [check_int(f"sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes)]
    activation = check_choice("activation", activation, ACTIVATIONS)
    rng = np.random.default_rng(check_seed("seed", seed))
    layers: list = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, rng))
        if i < len(sizes) - 2:
            layers.append(LeakyReLU(slope) if activation == "leaky_relu" else ACTIVATIONS[activation]())
    return MLP(layers)


# ---------------------------------------------------------------------------
# The losses, from logits
# ---------------------------------------------------------------------------

def softplus(t):
    """softplus(t) = log(1 + e^t), written so that it never overflows:

        log(1 + e^t) = max(t, 0) + log(1 + e^{-|t|})

    (e^{-|t|} <= 1 always). -log sigmoid(t) = softplus(-t), -log(1 - sigmoid(t)) = softplus(t).
    """
    t = np.asarray(t, dtype=np.float64)
    return np.maximum(t, 0.0) + np.log1p(np.exp(-np.abs(t)))


def sigmoid(t):
    """sigmoid(t) = 1 / (1 + e^{-t}) = softplus'(t), without overflow for any t.

    For t < 0 it uses the equal form e^t / (1 + e^t), so e^{...} never exceeds 1.
    """
    t = np.asarray(t, dtype=np.float64)
    e = np.exp(-np.abs(t))
    return np.where(t >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def d_loss(real_logits: np.ndarray, fake_logits: np.ndarray):
    """D's loss and its gradient w.r.t. both batches of logits.

        L_D = mean_i softplus(-l_real_i) + mean_j softplus(l_fake_j)
            = -mean log D(x_real) - mean log(1 - D(G(z)))

        dL_D/dl_real_i = -sigmoid(-l_real_i) / m_real   (push real logits up)
        dL_D/dl_fake_j = +sigmoid(l_fake_j) / m_fake    (push fake logits down)

    Returns ``(loss, d_real_logits, d_fake_logits)``.
    """
    m_real, m_fake = len(real_logits), len(fake_logits)
    loss = softplus(-real_logits).mean() + softplus(fake_logits).mean()
    return float(loss), -sigmoid(-real_logits) / m_real, sigmoid(fake_logits) / m_fake


def g_loss(fake_logits: np.ndarray):
    """G's non-saturating loss and its gradient w.r.t. the logits of the fakes.

        L_G = mean_j softplus(-l_fake_j) = -mean log D(G(z))
        dL_G/dl_fake_j = -sigmoid(-l_fake_j) / m = -(1 - D(G(z_j))) / m

    Large (about -1/m) while D sees through a fake: that is the point of this loss.
    Returns ``(loss, d_fake_logits)``.
    """
    m = len(fake_logits)
    return float(softplus(-fake_logits).mean()), -sigmoid(-fake_logits) / m


# ---------------------------------------------------------------------------
# One player's gradients
# ---------------------------------------------------------------------------

def _check_batch(name: str, x, net: MLP) -> np.ndarray:
    x = _array(name, x)
    n_in = net.layers[0].W.shape[0]
    if x.shape[1] != n_in or len(x) == 0:
        raise ValueError(f"{name} must have shape (m, {n_in}) with m >= 1, got {x.shape}")
    return x


def _check_net(name: str, net) -> None:
    if not isinstance(net, MLP):
        raise TypeError(f"{name} must be a ganlab.numpy_gan.MLP, got {_describe(net)}")


def d_gradients(G: MLP, D: MLP, x_real, z):
    """D's loss and dL_D/d(every parameter of D), for one real batch and one z batch.

    The real and fake batches go through D *together*, stacked into one batch:
    each Linear layer caches one input, so two separate forward passes would
    overwrite each other's cache. (Stacking is exact here: no layer mixes samples.)
    G only makes the fakes; we never call ``G.backward``: that is NumPy's
    ``x_fake.detach()``.

    Returns ``(loss, grads)``, grads in the order of ``D.params()``.
    """
    _check_net("G", G)
    _check_net("D", D)
    x_real = _check_batch("x_real", x_real, D)
    x_fake = G.forward(_check_batch("z", z, G))
    logits = D.forward(np.concatenate([x_real, x_fake]))
    m = len(x_real)
    loss, d_real, d_fake = d_loss(logits[:m], logits[m:])
    D.backward(np.concatenate([d_real, d_fake]))
    return loss, D.grads()


def g_gradients(G: MLP, D: MLP, z):
    """G's non-saturating loss and dL_G/d(every parameter of G): the chain rule
    runs through D into G.

        dL_G/dl        from :func:`g_loss`             (m, 1)
        dL_G/dx_fake = D.backward(dL_G/dl)            (m, d): through D's layers
        dL_G/dθ_G    = G.backward(dL_G/dx_fake)       through G's layers

    D's backward pass also fills D's weight gradients; we ignore them (D does not
    move in G's step) and the next :func:`d_gradients` overwrites them.
    Returns ``(loss, grads)``, grads in the order of ``G.params()``.
    """
    _check_net("G", G)
    _check_net("D", D)
    x_fake = G.forward(_check_batch("z", z, G))
    loss, d_logits = g_loss(D.forward(x_fake))
    d_x_fake = D.backward(d_logits)  # how each fake should move to fool D more
    G.backward(d_x_fake)
    return loss, G.grads()


# ---------------------------------------------------------------------------
# Optimisers
# ---------------------------------------------------------------------------

def adam_update(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step for one parameter array; returns the new ``(p, m, v)``.

        m = beta1 m + (1 - beta1) g               running mean of the gradient
        v = beta2 v + (1 - beta2) g^2             running mean of its square
        m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t)   (t = 1, 2, ...)
        p = p - lr m_hat / (sqrt(v_hat) + eps)

    m and v start at 0, so early on they are too small by the factors 1 - beta^t:
    the bias correction undoes that. Each weight then moves by about lr, whatever
    the size of its gradient. (As ``torch.optim.Adam``.)
    """
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * g * g
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _check_params(params) -> list:
    params = list(params) if isinstance(params, (list, tuple)) else params
    if not isinstance(params, list) or not params:
        raise ValueError(f"params must be a non-empty list of arrays (net.params()), got {_describe(params)}")
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise TypeError(f"params[{i}] must be a float NumPy array (updated in place), got {_describe(p)}")
    return params


def _check_grads(grads, params) -> None:
    if not isinstance(grads, (list, tuple)) or len(grads) != len(params):
        raise ValueError(f"grads must hold one array per parameter ({len(params)}), "
                         f"got {_describe(grads)}")
    for i, (g, p) in enumerate(zip(grads, params)):
        if np.shape(g) != p.shape:
            raise ValueError(f"grads[{i}] must have the shape of its parameter {p.shape}, "
                             f"got {np.shape(g)}")


class Adam:
    """Adam over a list of parameter arrays (``net.params()``), updated IN PLACE:
    the layers hold these very arrays, so a new array would not reach them."""

    def __init__(self, params: list, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params = _check_params(params)
        self.lr = check_float("lr", lr, minimum=0.0, strict_min=True)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {_describe(betas)}")
        self.beta1 = check_float("betas[0]", betas[0], minimum=0.0, maximum=0.999999)
        self.beta2 = check_float("betas[1]", betas[1], minimum=0.0, maximum=0.999999)
        self.eps = check_float("eps", eps, minimum=0.0)
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, grads: list) -> None:
        _check_grads(grads, self.params)
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            p[...], self.m[i], self.v[i] = adam_update(  # p[...]: in place, see above
                p, g, self.m[i], self.v[i], self.t,
                self.lr, self.beta1, self.beta2, self.eps)


class SGD:
    """Plain gradient descent, p = p - lr g, in place."""

    def __init__(self, params: list, lr: float = 0.01):
        self.params = _check_params(params)
        self.lr = check_float("lr", lr, minimum=0.0, strict_min=True)

    def step(self, grads: list) -> None:
        _check_grads(grads, self.params)
        for p, g in zip(self.params, grads):
            p -= self.lr * g


# ---------------------------------------------------------------------------
# Recording a run, for ganlab.viz
# ---------------------------------------------------------------------------

class Recorder:
    """Keeps a NumPy run in a :class:`ganlab.train.RunRecord`, so that
    ``ganlab.viz.animate_game`` and friends draw it like a PyTorch run.

    ``grid``: the x values (1-D data) where D(x) is recorded; ``z_fixed``: the
    noise batch whose fakes every snapshot shows (the same z, so each fake can be
    followed from one snapshot to the next).
    """

    def __init__(self, grid, z_fixed, data_name: str = ""):
        from .train import RunRecord  # imported here: the rest of the module needs no torch

        self.grid = _array("grid", grid, ndim=1)
        self.z_fixed = _array("z_fixed", z_fixed)
        self.record = RunRecord(config={"objective": "nonsaturating"}, data_name=data_name,
                                grid_x=self.grid.astype(np.float32))

    def log(self, step: int, loss_d: float, loss_g: float, grads_d=(), grads_g=()) -> None:
        """One iteration's losses (and gradient norms, if the gradients are given)."""
        def norm(grads):
            return math.sqrt(sum(float((g**2).sum()) for g in grads)) if len(grads) else math.nan

        step = check_int("step", step, minimum=0)
        h = self.record.history
        for key, value in (("step", step), ("loss_d", float(loss_d)), ("loss_g", float(loss_g)),
                           ("d_real", math.nan), ("d_fake", math.nan),
                           ("grad_norm_d", norm(grads_d)), ("grad_norm_g", norm(grads_g))):
            h[key].append(value)

    def snapshot(self, step: int, G: MLP, D: MLP) -> None:
        """G(z_fixed) and D(x) = sigmoid(logit) on the grid, at this step."""
        step = check_int("step", step, minimum=0)
        _check_net("G", G)
        _check_net("D", D)
        x_fake = G.forward(self.z_fixed)
        d_grid = sigmoid(D.forward(self.grid[:, None]))[:, 0]
        self.record.snapshots.append({"step": step, "x_fake": x_fake.astype(np.float32),
                                      "d_grid": d_grid.astype(np.float32), "g_grid": None,
                                      "grad_fake": None})


# ---------------------------------------------------------------------------
# Checking against PyTorch
# ---------------------------------------------------------------------------

def to_torch(net: MLP):
    """The same network as a float64 ``torch.nn.Sequential``, with the same weights.

    ``torch.nn.Linear`` stores W transposed, (n_out, n_in): we copy W.T.
    """
    import torch

    _check_net("net", net)
    modules = []
    for layer in net.layers:
        if isinstance(layer, Linear):
            lin = torch.nn.Linear(*layer.W.shape).double()
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.W.T.copy()))
                lin.bias.copy_(torch.from_numpy(layer.b.copy()))
            modules.append(lin)
        elif isinstance(layer, LeakyReLU):
            modules.append(torch.nn.LeakyReLU(layer.slope))
        elif isinstance(layer, ReLU):
            modules.append(torch.nn.ReLU())
        elif isinstance(layer, Tanh):
            modules.append(torch.nn.Tanh())
        else:
            raise TypeError(f"to_torch does not know the layer {layer!r}")
    return torch.nn.Sequential(*modules)


def torch_grads(torch_net) -> list:
    """The ``.grad`` of a :func:`to_torch` network as NumPy arrays, in the order
    and layout of ``MLP.params()`` (weights transposed back to (n_in, n_out))."""
    grads = []
    for module in torch_net:
        if hasattr(module, "weight"):
            if module.weight.grad is None:
                raise ValueError("torch_net has no gradients yet: call loss.backward() first")
            # copies: zero_grad() or a later backward() must not change them
            grads += [module.weight.grad.numpy().T.copy(), module.bias.grad.numpy().copy()]
    return grads


def relative_error(a, b) -> float:
    """max |a - b| / max(max |a|, max |b|): 0 for equal arrays, about 1e-16 for
    float64 results that differ only by rounding."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0))
    return 0.0 if scale == 0 else float(np.abs(a - b).max() / scale)


# ---------------------------------------------------------------------------
# Self-checks for the chapter's exercises
# ---------------------------------------------------------------------------

def _say(ok: bool, message: str) -> bool:
    """Print the verdict, wrapped to fit a notebook's output (no sideways scrolling)."""
    print(textwrap.fill(("✔ " if ok else "✘ ") + message, width=78, subsequent_indent="  ",
                        break_long_words=False, break_on_hyphens=False))
    return ok


def _check_callable(name: str, fn) -> None:
    if not callable(fn):
        raise TypeError(f"{name} must be a function, got {_describe(fn)}")


def _call(fn, args, what: str):
    """Call the student's function; on an error return a message instead of raising."""
    try:
        return fn(*args), None
    except Exception as error:  # the student's code: report, do not crash
        return None, f"{what} raised {type(error).__name__}: {error}"


def _close(a, b) -> bool:
    a = np.asarray(a, dtype=np.float64)
    return a.shape == np.shape(b) and np.allclose(a, b, rtol=1e-9, atol=1e-12)


def check_linear_backward(linear_backward: Callable) -> bool:
    """Self-check: does ``linear_backward(x, W, dy)`` return ``(dx, dW, db)`` for y = x W + b?

    Tried on a batch of 5 samples, 3 inputs and 4 outputs (every shape different,
    so a wrong transpose shows), then on a batch of one.
    """
    _check_callable("linear_backward", linear_backward)
    rng = np.random.default_rng(0)
    for m, n_in, n_out in ((5, 3, 4), (1, 3, 4)):
        x, W, dy = rng.normal(size=(m, n_in)), rng.normal(size=(n_in, n_out)), rng.normal(size=(m, n_out))
        out, error = _call(linear_backward, (x.copy(), W.copy(), dy.copy()), "linear_backward(x, W, dy)")
        if error:
            return _say(False, f"{error}. Hint: check the shapes: x is (m, n_in) = {x.shape}, W is "
                               f"(n_in, n_out) = {W.shape}, dy is (m, n_out) = {dy.shape}; each gradient "
                               "has the shape of what it is the gradient of.")
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            return _say(False, f"linear_backward must return three arrays (dx, dW, db), got {_describe(out)}")
        dx, dW, db = (np.asarray(o, dtype=np.float64) for o in out)
        where = f"(batch of {m}, W of shape {W.shape})"
        # dx = dy W^T
        if not _close(dx, dy @ W.T):
            if dx.shape != x.shape:
                return _say(False, f"dx has shape {dx.shape}, x has {x.shape} {where}. dx must have x's shape: "
                                   "dy is (m, n_out), W is (n_in, n_out), so dx = dy W^T (dy @ W.T).")
            return _say(False, f"dx is wrong {where}. Hint: each x_ki reaches every y_kj through W_ij, "
                               "so dx_ki = sum_j dy_kj W_ij: dx = dy @ W.T.")
        # dW = x^T dy
        if not _close(dW, x.T @ dy):
            if _close(dW, dy.T @ x):
                return _say(False, f"dW has shape {dW.shape}, W has {W.shape}: you computed dy^T x, the "
                                   "transpose. dW must have W's shape: dW = x^T dy (x.T @ dy).")
            if _close(dW, x.T @ dy / m):
                return _say(False, "dW is x^T dy divided by the batch size. Do not average: the 1/m is "
                                   "already in dy (the loss is a mean), so dW = x.T @ dy.")
            if dW.shape != W.shape:
                return _say(False, f"dW has shape {dW.shape}, want W's shape {W.shape}. Hint: dW = x^T dy.")
            return _say(False, f"dW is wrong {where}. Hint: W_ij is used by every sample k, so "
                               "dW_ij = sum_k x_ki dy_kj: dW = x.T @ dy.")
        # db = sum over the batch of dy
        if not _close(db, dy.sum(axis=0)):
            if _close(db, dy):
                return _say(False, f"db has shape {db.shape}: one row per sample. b is shared by the whole "
                                   "batch, so its gradient is the SUM over the batch: db = dy.sum(axis=0).")
            if _close(db, dy.mean(axis=0)):
                return _say(False, "db is the MEAN of dy over the batch; it must be the SUM "
                                   "(the 1/m is already in dy): db = dy.sum(axis=0).")
            if _close(db, dy.sum(axis=1)):
                return _say(False, "db sums over the wrong axis (the outputs): sum over the batch, axis=0.")
            return _say(False, f"db is wrong {where}: want shape {(n_out,)}. Hint: db = dy.sum(axis=0).")
    return _say(True, "right: dx = dy W^T, dW = x^T dy, db = the sum of dy over the batch "
                      "(checked on batches of 5 and of 1).")


def check_leaky_relu_backward(leaky_relu_backward: Callable) -> bool:
    """Self-check: does ``leaky_relu_backward(a, dh, slope)`` return dL/da for
    h = leaky_relu(a) = a if a > 0 else slope * a?"""
    _check_callable("leaky_relu_backward", leaky_relu_backward)
    rng = np.random.default_rng(1)
    a = rng.normal(size=(6, 4))
    a[0, 0] = 3.0
    a[0, 1] = -3.0  # at least one of each sign
    dh = rng.normal(size=(6, 4))
    slope = 0.2
    got, error = _call(leaky_relu_backward, (a.copy(), dh.copy(), slope), "leaky_relu_backward(a, dh, 0.2)")
    if error:
        return _say(False, error)
    local = np.where(a > 0, 1.0, slope)
    right = dh * local
    if _close(got, right):
        # a second slope, to catch a hard-coded 0.2
        got2, error = _call(leaky_relu_backward, (a.copy(), dh.copy(), 0.01), "leaky_relu_backward(a, dh, 0.01)")
        if error:
            return _say(False, error)
        if not _close(got2, dh * np.where(a > 0, 1.0, 0.01)):
            return _say(False, "right for slope 0.2 but not for slope 0.01: use the slope argument.")
        return _say(True, "right: da = dh where a > 0, slope * dh where a < 0.")
    got = np.asarray(got, dtype=np.float64)
    if got.shape != a.shape:
        return _say(False, f"the result has shape {got.shape}, want a's shape {a.shape}: the activation "
                           "acts elementwise, so da has the shape of a.")
    if _close(got, local):
        return _say(False, "you returned the local derivative dh/da only: multiply it by dh (the chain rule).")
    if _close(got, dh * (a > 0)):
        return _say(False, "that is ReLU's backward: where a < 0 a leaky ReLU still passes slope * dh.")
    if _close(got, dh * np.where(a > 0, slope, 1.0)):
        return _say(False, "the slope is on the wrong side: h = a for a > 0 (derivative 1), slope * a for a < 0.")
    if _close(got, dh * np.where(a > 0, a, slope * a)):
        return _say(False, "you multiplied dh by h = leaky_relu(a), not by its derivative (1 or slope).")
    return _say(False, "not right. Hint: dL/da = dL/dh * dh/da, and dh/da is 1 where a > 0, slope elsewhere.")


def check_adam_update(adam: Callable) -> bool:
    """Self-check: does ``adam(p, g, m, v, t, lr, beta1, beta2, eps)`` return the new
    ``(p, m, v)`` of one Adam step (t = 1 for the first step)?

    Runs 3 steps on a small array, with the reference :func:`adam_update`, and
    names the usual mistakes: no bias correction, eps inside the square root,
    g instead of g^2 in v, a sign.
    """
    _check_callable("adam", adam)
    rng = np.random.default_rng(2)
    grads = [rng.normal(size=(3, 2)) for _ in range(3)]
    hyper = dict(lr=0.1, beta1=0.5, beta2=0.9, eps=1e-3)  # large eps: its place shows

    def run(fn):
        p, m, v = np.ones((3, 2)), np.zeros((3, 2)), np.zeros((3, 2))
        for t, g in enumerate(grads, start=1):
            out = fn(p.copy(), g.copy(), m.copy(), v.copy(), t, hyper["lr"], hyper["beta1"],
                     hyper["beta2"], hyper["eps"])
            if not isinstance(out, (tuple, list)) or len(out) != 3:
                raise TypeError(f"adam must return three arrays (p, m, v), got {_describe(out)}")
            p, m, v = (np.asarray(o, dtype=np.float64) for o in out)
        return p, m, v

    def mistake(kind):
        def fn(p, g, m, v, t, lr, b1, b2, eps):
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * (g if kind == "g_not_g2" else g * g)
            m_hat = m if kind == "no_bias" else m / (1 - b1**t)
            v_hat = v if kind == "no_bias" else v / (1 - b2**t)
            v_hat = np.abs(v_hat)  # v of the "g_not_g2" mistake can be negative
            step = m_hat / (np.sqrt(v_hat + eps) if kind == "eps_inside" else np.sqrt(v_hat) + eps)
            return (p + lr * step if kind == "sign" else p - lr * step), m, v
        return fn

    got, error = _call(run, (adam,), "adam(p, g, m, v, t, lr, beta1, beta2, eps)")
    if error:
        return _say(False, error)
    p, m, v = got
    ref = run(adam_update)
    if not _close(m, ref[1]):
        return _say(False, "m is wrong: m = beta1 * m + (1 - beta1) * g (a running mean of the gradient).")
    if not _close(v, ref[2]):
        if _close(v, run(mistake("g_not_g2"))[2]):
            return _say(False, "v must average the SQUARED gradient: v = beta2 * v + (1 - beta2) * g**2.")
        return _say(False, "v is wrong: v = beta2 * v + (1 - beta2) * g**2.")
    if _close(p, ref[0]):
        return _say(True, "right: three Adam steps match torch.optim.Adam's formulas.")
    hints = {
        "no_bias": "no bias correction: divide m by (1 - beta1**t) and v by (1 - beta2**t) before the step.",
        "eps_inside": "eps goes OUTSIDE the square root: sqrt(v_hat) + eps.",
        "sign": "wrong sign: Adam moves AGAINST the gradient, p - lr * m_hat / (sqrt(v_hat) + eps).",
    }
    for kind, hint in hints.items():
        if _close(p, run(mistake(kind))[0]):
            return _say(False, f"m and v are right, p is not: {hint}")
    return _say(False, "m and v are right, p is not. Hint: p - lr * m_hat / (sqrt(v_hat) + eps), "
                       "with m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t).")
