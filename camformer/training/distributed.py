"""Several processes (``torchrun``): joining the group, each process's device, and the
collectives the training loop needs.

Nothing here assumes a filesystem shared between hosts: what one process decides (whether to
resume, the split) travels to the others by broadcast (:func:`on_first_process`), and a failure
in the first process reaches every process as an error instead of leaving them waiting.
Without a process group every function here is the one-process case (no communication).
"""

from __future__ import annotations

import os
from typing import Callable, TypeVar

import torch
from torch import nn

T = TypeVar("T")


def is_distributed() -> bool:
    """Whether this process belongs to an initialised process group."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)`` of this process; ``(0, 1)`` without a process group."""
    if not is_distributed():
        return 0, 1
    import torch.distributed as dist

    return dist.get_rank(), dist.get_world_size()


def check_processes_per_gpu(local_world: int, device_count: int) -> None:
    """Refuse more processes on a host than it has GPUs, before NCCL does.

    NCCL cannot put two processes on one GPU (it fails at the first collective with a
    "Duplicate GPU detected" error, after the whole set-up). ``torchrun`` tells each process how
    many it started on its host (``LOCAL_WORLD_SIZE``); more than ``device_count`` means some
    would share a GPU.
    """
    if device_count and local_world > device_count:
        raise RuntimeError(
            f"{local_world} processes on this host (LOCAL_WORLD_SIZE) but it shows {device_count} CUDA "
            f"device(s); NCCL needs one GPU per process: start at most {device_count} per host "
            f"(torchrun --nproc_per_node={device_count})")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The device this process trains on.

    ``"auto"`` is CUDA if present, else the CPU. A CUDA device without an index (``"cuda"``,
    or ``"auto"`` on a GPU host) is this process's GPU, ``cuda:$LOCAL_RANK`` (as ``torchrun``
    numbers processes on a host), or ``cuda:0`` where each process sees one GPU only; an
    explicit index (``"cuda:1"``) is kept as given.
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    if device.type != "cuda" or device.index is not None:
        return device
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    count = torch.cuda.device_count()
    if count == 1:  # a launcher that shows each process only its own GPU
        return torch.device("cuda", 0)
    if count and local_rank >= count:
        raise ValueError(f"LOCAL_RANK={local_rank} but this host shows {count} CUDA devices; "
                         f"start at most {count} processes per host")
    return torch.device("cuda", local_rank)


def init_distributed() -> tuple[int, int]:
    """Join the process group ``torchrun`` describes. Returns ``(rank, world_size)``.

    The group is joined when the environment names one (``WORLD_SIZE`` > 1, or ``WORLD_SIZE``
    with ``MASTER_ADDR``, as ``torchrun`` sets even for one process, so that a one-process
    ``torchrun`` runs the multi-GPU code: DDP, NCCL), with NCCL for CUDA tensors and gloo for
    CPU ones on a GPU host, gloo alone elsewhere; this process's GPU (``LOCAL_RANK``) becomes
    the current CUDA device. On a GPU host, more processes than GPUs (``LOCAL_WORLD_SIZE``) is
    refused before the group is joined (:func:`check_processes_per_gpu`). A group that already
    exists (joined by the caller, with any backend) is used as it is. Without such an
    environment: ``(0, 1)`` and no group.
    """
    import torch.distributed as dist

    if is_distributed():
        return rank_and_world()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 or ("WORLD_SIZE" in os.environ and "MASTER_ADDR" in os.environ):
        if torch.cuda.is_available():
            check_processes_per_gpu(int(os.environ.get("LOCAL_WORLD_SIZE", "1")), torch.cuda.device_count())
            torch.cuda.set_device(resolve_device("cuda"))
            dist.init_process_group("cpu:gloo,cuda:nccl")
        else:
            dist.init_process_group("gloo")
        return rank_and_world()
    return 0, 1


def on_first_process(decide: Callable[[], T], what: str) -> T:
    """``decide()`` run by the first process alone, its result handed to every process.

    Every process must call this (a collective). If ``decide`` raises in the first process,
    every process raises: the first its own error, the others a ``RuntimeError`` that names it
    (``what`` says what the first process was doing), so none waits for a result that will
    not come. The result travels pickled (``broadcast_object_list``): ids, a checkpoint.
    """
    if not is_distributed():
        return decide()
    import torch.distributed as dist

    rank = dist.get_rank()
    box: list = [None]
    error = None
    if rank == 0:
        try:
            box[0] = ("ok", decide())
        except Exception as err:  # every process must hear of it, then it is raised again
            error = err
            box[0] = ("error", f"{type(err).__name__}: {err}")
    dist.broadcast_object_list(box, src=0)
    status, value = box[0]
    if error is not None:
        raise error
    if status == "error":
        raise RuntimeError(f"process 0 failed {what}: {value}")
    return value


def gather_objects(obj, world: int) -> list:
    """``obj`` of every process, in rank order (a collective: every process must call it)."""
    if world == 1:
        return [obj]
    import torch.distributed as dist

    out = [None] * world
    dist.all_gather_object(out, obj)
    return out


def gather_rows(local: torch.Tensor, n_total: int, world: int) -> torch.Tensor:
    """All-gather equal-length (padded) 1-D shards ``(n_total / world,)`` and trim to
    ``(n_total,)``, in rank order."""
    import torch.distributed as dist

    parts = [torch.empty_like(local) for _ in range(world)]
    dist.all_gather(parts, local)
    return torch.cat(parts)[:n_total]


def all_reduce_mean(value: torch.Tensor, world: int) -> torch.Tensor:
    """The mean of ``value`` over the processes (in place; a collective)."""
    if world > 1:
        import torch.distributed as dist

        dist.all_reduce(value)
        value /= world
    return value


def broadcast_buffers(module: nn.Module, world: int) -> None:
    """Every buffer of ``module`` (BatchNorm's running statistics) set to the first process's.

    Without SyncBatchNorm each process updates its running statistics from its own slice of
    the batch; DDP sends the first process's buffers before each training forward pass, but a
    model used outside DDP (validation) would otherwise differ from process to process.
    """
    if world == 1:
        return
    import torch.distributed as dist

    for buffer in module.buffers():
        dist.broadcast(buffer, src=0)


def to_sync_batchnorm(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """Replace each BatchNorm layer inside ``net`` by an ``nn.SyncBatchNorm`` that shares its
    parameters and buffers; returns the replaced layers, ``(name, module)``, to put back with
    :func:`restore_modules`."""
    replaced = [(name, m) for name, m in net.named_modules()
                if name and isinstance(m, nn.modules.batchnorm._BatchNorm) and not isinstance(m, nn.SyncBatchNorm)]
    for name, module in replaced:
        net.set_submodule(name, nn.SyncBatchNorm.convert_sync_batchnorm(module))
    return replaced


def restore_modules(net: nn.Module, modules: list[tuple[str, nn.Module]]) -> None:
    """Put the ``(name, module)`` pairs :func:`to_sync_batchnorm` returned back into ``net``."""
    for name, module in modules:
        net.set_submodule(name, module)


__all__ = [
    "is_distributed", "rank_and_world", "check_processes_per_gpu", "resolve_device", "init_distributed",
    "on_first_process", "gather_objects", "gather_rows", "all_reduce_mean", "broadcast_buffers",
    "to_sync_batchnorm", "restore_modules",
]
