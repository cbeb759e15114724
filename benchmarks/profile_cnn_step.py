"""The profiler table of one training step of examples/mnist_cnn.py's model (batch 64 of random MNIST-shaped
samples, Adadelta as the example uses), after two warm-up steps; with ``--torch`` the same step of the same model
under torch.profiler for comparison. Optionally writes the Chrome trace.

Run: python benchmarks/profile_cnn_step.py [--batch 64] [--rows 25] [--sort cpu_time_total] [--trace cnn.json]
                                           [--shapes] [--memory] [--torch]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))


def profile_step(lib, args):
    if lib.__name__ == "minitorch":
        from mnist_cnn import Net
    else:  # the example's model, built from torch (the example file imports minitorch)
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "mnist_cnn.py")
        with open(path) as f:
            src = f.read().split("def train_epoch")[0]
        src = src.replace("import minitorch", "import torch").replace("from minitorch.", "from torch.")
        scope = {"__file__": path, "__name__": "mnist_cnn_torch"}
        exec(compile(src, path, "exec"), scope)
        Net = scope["Net"]
    F = lib.nn.functional
    from_prof = lib.profiler
    lib.manual_seed(0)
    model = Net()
    opt = lib.optim.Adadelta(model.parameters(), lr=1.0)
    x, y = lib.randn(args.batch, 1, 28, 28), lib.randint(0, 10, (args.batch,))

    def step():
        opt.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        opt.step()
    model.train()
    step()
    step()
    with from_prof.profile(activities=[from_prof.ProfilerActivity.CPU], record_shapes=args.shapes,
                           profile_memory=args.memory) as prof:
        with from_prof.record_function("train_step"):
            step()
    print(f"== {lib.__name__} {getattr(lib, '__version__', '')}: one training step of mnist_cnn.Net, batch {args.batch}")
    print(prof.key_averages(group_by_input_shape=args.shapes).table(sort_by=args.sort, row_limit=args.rows))
    if args.trace:
        prof.export_chrome_trace(args.trace)
        print(f"Chrome trace written to {args.trace}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--rows", type=int, default=25)
    p.add_argument("--sort", default="cpu_time_total")
    p.add_argument("--trace", default=None)
    p.add_argument("--shapes", action="store_true")
    p.add_argument("--memory", action="store_true")
    p.add_argument("--torch", action="store_true", help="also profile the same step in PyTorch")
    args = p.parse_args()
    import minitorch
    profile_step(minitorch, args)
    if args.torch:
        import torch
        profile_step(torch, args)


if __name__ == "__main__":
    main()
