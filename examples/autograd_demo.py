"""Fit a small two-layer network to noisy sin(x) with minitorch tensors and autograd (no nn package needed).

Run: python examples/autograd_demo.py [--steps 500] [--lr 0.05]
"""
import argparse
import time

import minitorch as torch


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--hidden", type=int, default=64)
    args = p.parse_args()

    torch.manual_seed(0)
    x = torch.linspace(-3.0, 3.0, 256).unsqueeze(1)
    y = torch.sin(x) + 0.05 * torch.randn(256, 1)

    w1 = (torch.randn(1, args.hidden) * 1.0).requires_grad_()
    b1 = torch.zeros(args.hidden, requires_grad=True)
    w2 = (torch.randn(args.hidden, 1) / args.hidden ** 0.5).requires_grad_()
    b2 = torch.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]

    t0 = time.perf_counter()
    first = None
    for step in range(args.steps):
        pred = torch.tanh(x @ w1 + b1) @ w2 + b2
        loss = ((pred - y) ** 2).mean()
        for p_ in params:
            p_.grad = None
        loss.backward()
        with torch.no_grad():
            for p_ in params:
                p_ -= args.lr * p_.grad
        if first is None:
            first = loss.item()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {loss.item():.5f}")
    elapsed = time.perf_counter() - t0
    print(f"loss {first:.4f} -> {loss.item():.4f} in {args.steps} steps ({elapsed:.2f} s)")
    if not loss.item() < first:
        raise SystemExit("training did not reduce the loss")


if __name__ == "__main__":
    main()
