"""Prove camformer's GPU path in one command, on whatever GPU is at hand.

    python benchmarks/gpu_check.py [--out DIR] [--parts tests throughput paper ddp explainers] [--smoke]

Parts, in this order; each becomes a section of ``DIR/gpu_check.json`` (rewritten after every
part, so a run cut short keeps what it finished), with the card, driver, torch and CUDA versions:

``tests``
    ``pytest -m gpu``: tests/test_gpu.py (a bf16 run, a compiled run, a one-process NCCL run
    under torchrun, the explainers on CUDA against the CPU) and any other ``gpu`` test.
``throughput``
    Training steps of Camformer Original and Mini at batch 256 and 1024, float32 and bf16,
    ``torch.compile`` off and on, side by side: :func:`camformer.training.train.train` itself on
    synthetic sequences held on the device, one epoch of warm-up (and compilation), then a
    timed epoch of the same number of steps. Reported: ms per step, sequences per second, the
    seconds one 6.7M-sequence epoch would take at that rate, and the model FLOP rate as a share
    of the card's bf16 dense peak (the FLOPs of forward + backward counted by
    ``torch.utils.flop_counter.FlopCounterMode``: convolutions and matrix products, a
    multiply-add counted as 2, as in NVIDIA's peak figures; float32 rows against the same bf16
    peak). float32 means PyTorch's defaults: cuDNN convolutions in TF32, matrix products not.
``paper``
    The ``paper`` preset end to end under ``torchrun --nproc_per_node=1``
    (:func:`camformer.training.presets.paper_data` and :func:`~camformer.training.presets.run_preset`, as
    ``camformer train`` runs them) on a **synthetic** 200,000-line file in the DREAM format, two epochs:
    killed (SIGKILL to every process of the run) once the first epoch's checkpoint is on disk,
    started again with the same command, which resumes and finishes and writes the test split's
    predictions. The run's ``train_config.json`` records device, autocast dtype, compile and
    world size.
``ddp``
    The ``paper`` preset on several GPUs: SyncBatchNorm + DDP + ``torch.compile`` together, two
    processes under ``torchrun --nproc_per_node=2``, two epochs of a few steps on synthetic
    sequences (so the compiled model goes from training to validation and back). With two GPUs
    or more, one GPU each over NCCL, as a run would. **Limit:** on a host with one GPU, NCCL
    refuses two processes on one device ("duplicate GPU"), so the two processes share it over
    gloo, which carries CUDA tensors for DDP's all-reduce and SyncBatchNorm's all-gather (slower
    than NCCL; the same code path in camformer and in SyncBatchNorm but for the transport).
    Reported: the backend, whether SyncBatchNorm was in the model, compile, and the largest
    difference between the processes' parameters and buffers after training (0 when they hold
    one model).
``explainers``
    ``camformer.explain.ism.ism``, ``ism_receptive_field`` and ``camformer.explain.gradcam.gradcam`` of
    Camformer Original (He-initialised, seed 0) on the device and on the CPU: seconds per
    sequence and the largest difference, both as the device computes by default (TF32
    convolutions) and in strict float32.

``--smoke`` runs every part on the CPU at tiny sizes (a few hundred lines, one or two steps,
two sequences; ``torch.compile`` with the ``eager`` backend, since inductor takes minutes on a
small CPU; ``ddp`` with Mini over gloo on the CPU, where SyncBatchNorm cannot run, since it
needs CUDA tensors): a check that the script still runs (tests/test_gpu_check.py). Its numbers mean
nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from camformer.data.dream import SequenceData, read_dream_txt, resource_path
from camformer.models.encoding import encode
from camformer.models.networks import camformer_mini, camformer_original, init_he
from camformer.training.train import TrainConfig, train

REPO = Path(__file__).resolve().parents[1]
EPOCH_SEQUENCES = 6_700_000  # one pass over the challenge's training file (6.7M sequences)
MODELS = {"original": (camformer_original, 4), "mini": (camformer_mini, 5)}
# bf16 dense tensor-core peaks (TFLOP/s, no sparsity) from NVIDIA's datasheets, by device name.
PEAK_BF16_TFLOPS = {"H200 NVL": 835.0, "H200": 989.4, "H100 PCIe": 756.0, "H100 NVL": 835.0,
                    "H100 SXM": 989.4, "A100": 312.0}


@dataclass(frozen=True)
class Sizes:
    """How much work each part does."""

    batches: tuple[int, ...] = (256, 1024)
    steps: int = 20  # timed steps per throughput row (after as many warm-up steps)
    val_size: int = 1024  # throughput rows' validation sequences
    paper_lines: int = 200_000
    paper_overrides: tuple[tuple[str, object], ...] = (("max_epochs", 2),)  # of the paper preset
    ddp_batch: int = 256  # global batch of the two-process part
    ddp_steps: int = 10  # its steps per epoch (two epochs)
    ddp_model: str = "original"  # the paper preset's model
    explain_device: int = 64  # sequences explained on the device
    explain_cpu: int = 4  # ... and on the CPU (the first ones of the same)
    positions: tuple[int, int] = (17, 97)  # ISM positions, [start, stop)
    pytest_paths: tuple[str, ...] = ("tests",)
    timeout_s: int = 420  # per subprocess


FULL = Sizes()
SMOKE = Sizes(batches=(1,), steps=1, val_size=8, paper_lines=300,
              paper_overrides=(("max_epochs", 2), ("batch_size", 4), ("steps_per_epoch", 2), ("device", "cpu")),
              ddp_batch=4, ddp_steps=2, ddp_model="mini",
              explain_device=2, explain_cpu=2, positions=(17, 20), pytest_paths=("tests/test_gpu.py",), timeout_s=240)


# ---------------------------------------------------------------------------- environment

def environment(device: torch.device) -> dict:
    """The card, driver, torch and CUDA versions (and the host)."""
    info = {"device": str(device), "torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
            "python": platform.python_version(), "cpu_count": os.cpu_count(), "host": platform.node(),
            "tf32_cudnn": torch.backends.cudnn.allow_tf32, "tf32_matmul": torch.backends.cuda.matmul.allow_tf32}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(card=props.name, capability=list(torch.cuda.get_device_capability(device)),
                    memory_gib=round(props.total_memory / 2**30, 1), driver=_driver_version(),
                    peak_bf16_tflops=peak_bf16_tflops(props.name)[0], peak_source=peak_bf16_tflops(props.name)[1])
    else:
        info.update(card=platform.processor() or platform.machine(), driver=None, peak_bf16_tflops=None)
    return info


def _driver_version() -> str | None:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, IndexError):
        return None


def peak_bf16_tflops(card: str) -> tuple[float | None, str]:
    """The card's bf16 dense peak (TFLOP/s) and which datasheet entry it is; None if unknown.
    ``NVIDIA H100 80GB HBM3`` (no PCIe or NVL in its name) is the SXM card."""
    name = card.upper()
    for key in ("H200 NVL", "H200", "H100 PCIE", "H100 NVL", "A100"):
        if all(word in name for word in key.split()):
            entry = "H100 PCIe" if key == "H100 PCIE" else key
            return PEAK_BF16_TFLOPS[entry], entry
    if "H100" in name:
        return PEAK_BF16_TFLOPS["H100 SXM"], "H100 SXM"
    return None, f"no peak known for {card!r}"


# ---------------------------------------------------------------------------- pytest -m gpu

def gpu_tests(sizes: Sizes, out: Path, device: torch.device) -> dict:
    cmd = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-rs", "-p", "no:cacheprovider", *sizes.pytest_paths]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=sizes.timeout_s)
    lines = proc.stdout.strip().splitlines()
    (out / "pytest_gpu.log").write_text(proc.stdout + proc.stderr)
    return {"command": " ".join(cmd[1:]), "returncode": proc.returncode, "summary": lines[-1] if lines else "",
            "passed": proc.returncode == 0, "log": str(out / "pytest_gpu.log")}


# ---------------------------------------------------------------------------- throughput

def synthetic_data(n: int, seed: int = 0) -> SequenceData:
    """Random 110-nt sequences whose target is their GC fraction plus noise (not the challenge's data)."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, size=(n, 110), dtype=np.uint8)
    gc = ((codes == 1) | (codes == 2)).mean(1)
    targets = (4 + 20 * (gc - 0.5) + rng.normal(0, 1, n)).clip(0, 17).astype(np.float32)
    return SequenceData(codes, targets, np.arange(n, dtype=np.int64))


def train_flops_per_sequence(model: torch.nn.Module, channels: int) -> float:
    """Model FLOPs of one training step (forward + backward) per sequence, counted on the CPU."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.rand(2, channels, 110)
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    return counter.get_total_flops() / len(x)


@contextlib.contextmanager
def eager_compile():
    """``torch.compile`` with the ``eager`` backend (graph capture, no code generation): for
    ``--smoke`` only, where inductor would take minutes on a small CPU."""
    real = torch.compile
    torch.compile = functools.partial(real, backend="eager")
    try:
        yield
    finally:
        torch.compile = real


def throughput(sizes: Sizes, out: Path, device: torch.device, smoke: bool = False) -> dict:
    card = environment(device)["card"]
    peak, peak_source = peak_bf16_tflops(card) if device.type == "cuda" else (None, "CPU: no peak")
    rows = []
    for name, (build, channels) in MODELS.items():
        flops = train_flops_per_sequence(build(channels), channels)
        for batch in sizes.batches:
            data = {"train": synthetic_data(sizes.steps * batch), "val": synthetic_data(sizes.val_size, seed=1)}
            for amp in ("off", "bf16"):
                for compile_ in ("off", "on"):
                    torch._dynamo.reset()  # every compiled row compiles for its own shapes, as a run would
                    cfg = TrainConfig(batch_size=batch, max_epochs=2, patience=2, steps_per_epoch=sizes.steps,
                                      scheduler="None", amp=amp, compile=compile_, device=str(device),
                                      progress=False)
                    with eager_compile() if smoke and compile_ == "on" else contextlib.nullcontext():
                        history = train(build(channels), data, cfg).history
                    warm, timed = history.iloc[0], history.iloc[-1]
                    seq_per_s = float(timed["seq_per_s"])
                    tflops = flops * seq_per_s / 1e12
                    rows.append({
                        "model": name, "batch": batch, "dtype": "bf16" if amp == "bf16" else "fp32",
                        "compile": compile_, "ms_per_step": 1e3 * float(timed["seconds"]) / sizes.steps,
                        "seq_per_s": seq_per_s, "epoch_6.7M_s": EPOCH_SEQUENCES / seq_per_s,
                        "train_gflop_per_seq": flops / 1e9, "tflop_per_s": tflops,
                        "share_of_bf16_peak": tflops / peak if peak else None,
                        "warmup_s": float(warm["seconds"]), "finite_loss": bool(np.isfinite(history["train_loss"]).all()),
                    })
                    if device.type == "cuda":
                        torch.cuda.empty_cache()
    return {"rows": rows, "peak_bf16_tflops": peak, "peak_source": peak_source, "steps_timed": sizes.steps,
            "epoch_sequences": EPOCH_SEQUENCES,
            "how": "camformer.training.train.train on synthetic uint8 codes held on the device; epoch 1 warms up "
                   "(and compiles), epoch 2 (as many steps) is timed; FLOPs of forward + backward from "
                   "torch.utils.flop_counter.FlopCounterMode (conv and matmul, multiply-add = 2), times "
                   "sequences per second, over the card's bf16 dense peak (NVIDIA datasheet); fp32 rows use "
                   "PyTorch's defaults (cuDNN TF32 on)" + ("; --smoke: torch.compile with backend='eager'" if smoke else "")}


# ---------------------------------------------------------------------------- the paper preset, end to end

def write_synthetic_dream(path: Path, n: int, seed: int = 0) -> Path:
    """A SYNTHETIC file in the DREAM training format (``SEQ<TAB>EXPR``): random 110-nt
    sequences, expression from their GC fraction plus noise, a third of it integer-valued (as
    the challenge's measurements partly are). Not the challenge's data."""
    data = synthetic_data(n, seed)
    seqs = np.frombuffer(b"ACGT", np.uint8)[data.codes].view(f"S{data.codes.shape[1]}").ravel()
    values = np.where(np.arange(n) % 3 == 0, np.round(data.targets), np.round(data.targets, 4))
    lines = [f"{s.decode()}\t{v:g}" for s, v in zip(seqs, values)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (read from /proc), so a kill reaches torchrun's workers,
    which it starts in sessions of their own."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def paper_worker(run_dir: str, train_file: str, overrides: dict) -> int:
    """One process of the paper run (started by torchrun): the paper preset with ``overrides``,
    its split written by the first process, the test split's predictions to
    ``run_dir/predictions_test.tsv``."""
    from camformer.training.distributed import init_distributed
    from camformer.training.presets import paper_data, run_preset

    config = TrainConfig.preset("paper", progress=False, **overrides)
    rank, _ = init_distributed()
    data = paper_data(train_file, run_dir, seed=config.seed)
    result = run_preset(config, run_dir, data=data)
    if rank == 0:
        pd.DataFrame({"id": data["test"].ids, "prediction": result.test_predictions}).to_csv(
            Path(run_dir) / "predictions_test.tsv", sep="\t", index=False)
    return 0


def paper_end_to_end(sizes: Sizes, out: Path, device: torch.device) -> dict:
    train_file = write_synthetic_dream(out / "SYNTHETIC_dream_format.txt", sizes.paper_lines)
    run = out / "paper_run"
    shutil.rmtree(run, ignore_errors=True)
    overrides = dict(sizes.paper_overrides)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1", str(Path(__file__).resolve()),
           "--paper-worker", str(run), str(train_file), json.dumps(overrides)]
    checkpoint = run / "checkpoint.pt"
    t0 = time.perf_counter()
    with open(out / "paper_killed.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        while proc.poll() is None and not checkpoint.exists() and time.perf_counter() - t0 < sizes.timeout_s:
            time.sleep(0.01)
        for pid in _process_tree(proc.pid):  # like a preempted node: every process of the run
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        killed_rc = proc.wait()
    killed_s = time.perf_counter() - t0
    killed_after = torch.load(checkpoint, map_location="cpu", weights_only=False)["epoch"] + 1 if checkpoint.exists() else None
    t1 = time.perf_counter()
    with open(out / "paper_resumed.log", "w") as log:
        resumed_rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=sizes.timeout_s, cwd=REPO).returncode
    resumed_s = time.perf_counter() - t1
    history = pd.read_csv(run / "history.csv") if (run / "history.csv").exists() else pd.DataFrame(columns=["epoch"])
    recorded = json.loads((run / "train_config.json").read_text()) if (run / "train_config.json").exists() else {}
    predictions = run / "predictions_test.tsv"
    table = pd.read_csv(predictions, sep="\t") if predictions.exists() else pd.DataFrame(columns=["prediction"])
    epochs = overrides.get("max_epochs", 50)
    return {
        "data": f"SYNTHETIC: {sizes.paper_lines:,} random 110-nt sequences in the DREAM format, expression from "
                f"GC fraction plus noise (not the challenge's data): {train_file}",
        "command": " ".join(cmd[1:]), "overrides": overrides,
        "killed_after_epoch": killed_after, "killed_returncode": killed_rc,
        "interrupted": killed_after is not None and killed_after < epochs, "killed_run_s": killed_s,
        "resumed_returncode": resumed_rc, "resumed_run_s": resumed_s,
        "epochs_logged": history["epoch"].tolist(), "history": history.to_dict(orient="list"),
        "runtime": recorded.get("runtime"),
        "predictions": str(predictions), "predictions_rows": len(table),
        "predictions_finite": bool(len(table) and np.isfinite(table["prediction"]).all()),
        "finished": resumed_rc == 0 and len(history) == epochs and len(table) > 0,
    }


# ---------------------------------------------------------------------------- SyncBatchNorm + DDP + compile

def ddp_backend(device: torch.device) -> tuple[str, str]:
    """How the two processes of the ``ddp`` part talk, and why: ``(backend, note)``."""
    if device.type != "cuda":
        return "gloo", "CPU (--smoke): gloo; SyncBatchNorm needs CUDA tensors, so the BatchNorm layers stay local"
    if torch.cuda.device_count() >= 2:
        return "nccl", "one GPU per process over NCCL, as a multi-GPU run"
    return "gloo", ("limit: one GPU here and NCCL refuses two processes on one device (duplicate GPU), so both "
                    "processes share it over gloo, which carries the CUDA tensors of DDP and SyncBatchNorm")


def ddp_worker(run_dir: str, settings: dict) -> int:
    """One process of the ``ddp`` part (started by torchrun): the paper preset (SyncBatchNorm;
    Original, or Mini for --smoke) with compile on, on synthetic sequences; the first process
    writes the agreement between the processes to ``run_dir/agreement.json``."""
    import torch.distributed as dist

    from camformer.training.distributed import init_distributed
    from camformer.training.presets import run_preset

    if settings["backend"] == "gloo":  # a group that exists already is the one training uses
        dist.init_process_group("gloo")
    rank, world = init_distributed()
    config = TrainConfig.preset("paper", progress=False, compile="on", max_epochs=2, patience=2,
                                batch_size=settings["batch"], steps_per_epoch=settings["steps"],
                                device=settings["device"], model=settings["model"])
    data = {"train": synthetic_data(settings["batch"] * settings["steps"]),
            "val": synthetic_data(settings["val_size"], seed=1)}
    try:
        with eager_compile() if settings["smoke"] else contextlib.nullcontext():
            result = run_preset(config, run_dir, data=data)
        spread = {}
        for kind, tensors in (("parameters", result.model.parameters()), ("buffers", result.model.buffers())):
            flat = torch.cat([t.detach().cpu().double().reshape(-1) for t in tensors])
            high, low = flat.clone(), flat.clone()
            dist.all_reduce(high, op=dist.ReduceOp.MAX)
            dist.all_reduce(low, op=dist.ReduceOp.MIN)
            spread[kind] = float((high - low).max())
        if rank == 0:
            (Path(run_dir) / "agreement.json").write_text(json.dumps({
                "processes": world, "parameter_spread": spread["parameters"], "buffer_spread": spread["buffers"],
                "train_loss": result.history["train_loss"].tolist(),
                "val_pearson": result.history["val_pearson"].tolist()}))
    finally:
        dist.destroy_process_group()
    return 0


def ddp_syncbn_compile(sizes: Sizes, out: Path, device: torch.device, smoke: bool = False) -> dict:
    backend, note = ddp_backend(device)
    run = out / "ddp_run"
    shutil.rmtree(run, ignore_errors=True)
    settings = {"backend": backend, "batch": sizes.ddp_batch, "steps": sizes.ddp_steps, "val_size": sizes.val_size,
                "device": "cpu" if device.type == "cpu" else "cuda", "smoke": smoke, "model": sizes.ddp_model}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(Path(__file__).resolve()), "--ddp-worker", str(run), json.dumps(settings)]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    with open(out / "ddp.log", "w") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=sizes.timeout_s, cwd=REPO,
                            env=env).returncode
    recorded = json.loads((run / "train_config.json").read_text()) if (run / "train_config.json").exists() else {}
    agreement = json.loads((run / "agreement.json").read_text()) if (run / "agreement.json").exists() else {}
    runtime = recorded.get("runtime") or {}
    finite = bool(agreement) and all(np.isfinite(agreement["train_loss"]))
    one_model = agreement.get("parameter_spread") == 0.0 and agreement.get("buffer_spread") == 0.0
    return {
        "command": " ".join(cmd[1:]), "returncode": rc, "backend_asked": backend, "note": note,
        "runtime": runtime, **agreement, "log": str(out / "ddp.log"),
        "passed": rc == 0 and finite and one_model and runtime.get("world_size") == 2
        and runtime.get("compile") is True and runtime.get("sync_batchnorm") is (device.type == "cuda"),
        "how": f"torchrun --nproc_per_node=2 of the paper preset (Camformer {sizes.ddp_model}, sync_batchnorm) with "
               "compile on, two epochs; spreads: over every element of the final parameters (and buffers), the "
               "largest value across the processes minus the smallest" + ("; --smoke: torch.compile with backend='eager'" if smoke else ""),
    }


# ---------------------------------------------------------------------------- explainers

@contextlib.contextmanager
def strict_fp32():
    """No TF32 in convolutions or matrix products."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def explainers(sizes: Sizes, out: Path, device: torch.device) -> dict:
    from camformer.explain.gradcam import gradcam
    from camformer.explain.ism import ism, ism_receptive_field

    torch.manual_seed(0)
    on_cpu = init_he(camformer_original()).eval()
    on_device = copy.deepcopy(on_cpu).to(device)
    codes = read_dream_txt(resource_path("dream2022_train_sample1000.txt"))[0].codes[:sizes.explain_device]
    positions = range(*sizes.positions)
    methods = {
        "ism": lambda m, X, dev: ism(m, X, positions=positions, encoding="onehot", device=dev),
        "ism_receptive_field": lambda m, X, dev: ism_receptive_field(m, X, positions=positions, encoding="onehot",
                                                                    device=dev),
        "gradcam": lambda m, X, dev: gradcam(m, encode(torch.as_tensor(X), "onehot"), "blocks.2.conv", device=dev),
    }
    rows = []
    for name, explain in methods.items():
        n_cpu = min(sizes.explain_cpu, len(codes))
        t = time.perf_counter()
        want = explain(on_cpu, codes[:n_cpu], "cpu")
        cpu_s = (time.perf_counter() - t) / n_cpu
        explain(on_device, codes[:1], device)  # warm-up: cuDNN plans, the allocator
        t = time.perf_counter()
        got = explain(on_device, codes, device)  # returned on the CPU: the time includes the copy back
        device_s = (time.perf_counter() - t) / len(codes)
        with strict_fp32():
            strict = explain(on_device, codes[:n_cpu], device)
        rows.append({"method": name, "cpu_s_per_seq": cpu_s, "device_s_per_seq": device_s,
                     "speedup": cpu_s / device_s, "max_abs_diff": float((got[:n_cpu] - want).abs().max()),
                     "max_abs_diff_strict_fp32": float((strict - want).abs().max()),
                     "max_abs_value": float(want.abs().max()), "sequences_device": len(codes), "sequences_cpu": n_cpu})
    return {"rows": rows, "model": "camformer_original, He-initialised (seed 0), eval mode",
            "positions": list(sizes.positions), "gradcam_layer": "blocks.2.conv",
            "how": "the same sequences on the CPU path and the device path (explicit device=); max_abs_diff "
                   "with the device's defaults (cuDNN TF32), the strict column with TF32 off"}


# ---------------------------------------------------------------------------- report

PARTS = {"tests": gpu_tests, "throughput": throughput, "paper": paper_end_to_end, "ddp": ddp_syncbn_compile,
         "explainers": explainers}


def summary(results: dict) -> str:
    env = results["environment"]
    lines = [f"{env.get('card')} (driver {env.get('driver')}), torch {env['torch']}, CUDA {env['cuda']}, "
             f"{env['cpu_count']} CPUs" + ("  [--smoke: CPU, tiny sizes; the numbers mean nothing]" if results["smoke"] else "")]
    for part in PARTS:
        section = results.get(part)
        if section is None:
            continue
        lines.append(f"\n== {part} ({section.get('seconds', 0):.0f} s)")
        if "error" in section:
            lines.append(f"ERROR {section['error']}")
        elif part == "tests":
            lines.append(f"{section['command']}: {section['summary']}")
        elif part == "ddp":
            rt = section["runtime"] or {}
            lines.append(f"{section['note']}")
            lines.append(f"world {rt.get('world_size')}, backend {rt.get('backend')}, SyncBatchNorm "
                         f"{rt.get('sync_batchnorm')}, compile {rt.get('compile')}, dtype {rt.get('amp_dtype')}; "
                         f"spread: parameters {section.get('parameter_spread')}, buffers "
                         f"{section.get('buffer_spread')}; passed {section['passed']}")
        elif part == "paper":
            rt = section["runtime"] or {}
            val_r = [round(v, 3) for v in section["history"].get("val_pearson", [])]
            lines.append(f"{section['data']}")
            lines.append(f"killed after epoch {section['killed_after_epoch']}, resumed: epochs {section['epochs_logged']}, "
                         f"val r {val_r}; device {rt.get('device')}, "
                         f"dtype {rt.get('amp_dtype')}, compile {rt.get('compile')}, world {rt.get('world_size')}, "
                         f"backend {rt.get('backend')}; {section['predictions_rows']} predictions in {section['predictions']}")
        else:
            lines.append(pd.DataFrame(section["rows"]).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
            lines.append(f"how: {section['how']}")
    return "\n".join(lines)


def _json_default(obj):
    return obj.item() if hasattr(obj, "item") else str(obj)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu_check", help="output directory (gpu_check.json, logs, the paper run)")
    parser.add_argument("--parts", nargs="+", choices=list(PARTS), default=list(PARTS))
    parser.add_argument("--smoke", action="store_true", help="every part on the CPU at tiny sizes")
    parser.add_argument("--paper-worker", nargs=3, metavar=("RUN_DIR", "TRAIN_FILE", "OVERRIDES"),
                        help=argparse.SUPPRESS)  # one torchrun process of the paper part
    parser.add_argument("--ddp-worker", nargs=2, metavar=("RUN_DIR", "SETTINGS"),
                        help=argparse.SUPPRESS)  # one torchrun process of the ddp part
    args = parser.parse_args(argv)
    if args.paper_worker:
        run_dir, train_file, overrides = args.paper_worker
        return paper_worker(run_dir, train_file, json.loads(overrides))
    if args.ddp_worker:
        run_dir, settings = args.ddp_worker
        return ddp_worker(run_dir, json.loads(settings))
    if not args.smoke and not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; run with --smoke to check the script on the CPU", file=sys.stderr)
        return 2
    sizes = SMOKE if args.smoke else FULL
    device = torch.device("cpu") if args.smoke else torch.device("cuda", torch.cuda.current_device())
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    results = {"smoke": args.smoke, "sizes": asdict(sizes), "environment": environment(device)}
    ok = True
    for part in args.parts:
        t = time.perf_counter()
        print(f"gpu_check: {part} ...", file=sys.stderr, flush=True)
        try:
            kwargs = {"smoke": args.smoke} if part in ("throughput", "ddp") else {}
            results[part] = PARTS[part](sizes, out, device, **kwargs)
        except Exception as err:  # report and go on: the other parts still tell something
            results[part] = {"error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}
        results[part]["seconds"] = time.perf_counter() - t
        ok &= "error" not in results[part] and results[part].get("passed", True) is not False \
            and results[part].get("finished", True) is not False
        (out / "gpu_check.json").write_text(json.dumps(results, indent=1, default=_json_default))
    print(summary(results))
    print(f"\nall results: {out / 'gpu_check.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
