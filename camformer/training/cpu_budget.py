"""How many CPUs this process may keep busy: the affinity mask, capped by the cgroup's CPU quota.

torch sizes its thread pool from the cores it can see, but a container (Binder, a CI runner, a
Kubernetes pod) is often given a CPU *quota* below that: a cgroup that may use, say, one CPU's
worth of time per period on a machine whose two cores are both visible. Two threads that wait on
each other at every operation then run in turns, ten times slower than one (benchmarks/RESULTS.md).
:func:`cpu_budget` reads what the process may really use:

* the affinity mask (``os.sched_getaffinity``; a v1 or v2 ``cpuset`` shows up there);
* the CPU quota of the process's cgroup and of every cgroup above it, the smallest counting:
  cgroup v2 ``cpu.max`` (``"max 100000"``: no quota; ``"50000 100000"``: half a CPU) and
  cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (a quota of ``-1``: none);
* the environment variable :data:`ENV_VAR` (``CAMFORMER_CPUS``), a whole number at least 1,
  which replaces both when set (a user who knows better, or a test).

The budget is the smaller of the first two, rounded down to whole CPUs, and at least 1. Nothing
here needs torch, so the budget is known before torch starts its threads.
"""

from __future__ import annotations

import math
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

#: The environment variable that sets the budget outright (a whole number, at least 1).
ENV_VAR = "CAMFORMER_CPUS"
#: Where cgroup file systems are mounted on Linux.
CGROUP_ROOT = "/sys/fs/cgroup"
#: The process's own cgroup membership (``hierarchy:controllers:path`` lines).
PROC_CGROUP = "/proc/self/cgroup"
# cgroup v1 directories that hold the cpu controller (mounted alone or together with cpuacct).
_V1_CPU_DIRS = ("cpu", "cpu,cpuacct", "cpuacct,cpu")


@dataclass(frozen=True)
class CpuBudget:
    """The CPUs a process may keep busy (:func:`cpu_budget`).

    Attributes
    ----------
    cpus : int
        Whole CPUs to plan for, at least 1: ``override`` when set, else the affinity count
        capped by the quota, rounded down.
    affinity : int
        CPUs in the affinity mask.
    quota : float or None
        CPUs' worth of time the cgroup quota allows per period (the smallest along the
        process's cgroup path); None: no quota found.
    override : int or None
        The value of :data:`ENV_VAR`, when set.
    """

    cpus: int
    affinity: int
    quota: float | None
    override: int | None

    def describe(self) -> str:
        """One line saying where ``cpus`` came from, e.g. ``"1 CPU (2 in the affinity mask,
        cgroup quota 1.5 CPUs)"``."""
        quota = "no cgroup quota" if self.quota is None else \
            f"cgroup quota {self.quota:g} CPU{'s' if self.quota != 1 else ''}"
        where = f"{ENV_VAR}={self.override}" if self.override is not None else \
            f"{self.affinity} in the affinity mask, {quota}"
        return f"{self.cpus} CPU{'s' if self.cpus != 1 else ''} ({where})"


def parse_cpu_max(text: str, path: str | Path) -> float | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` file's text: ``"$QUOTA $PERIOD"`` in
    microseconds, ``max`` for no quota (None). ``path`` names the file in errors."""
    fields = text.split()
    if len(fields) not in (1, 2):
        raise ValueError(f"{path}, line 1: expected '$QUOTA $PERIOD' (e.g. 'max 100000'), got {text.strip()!r}")
    if fields[0] == "max":
        return None
    period = fields[1] if len(fields) == 2 else "100000"  # the kernel's default period
    return _quota_cpus(fields[0], period, path)


def parse_cfs(quota_text: str, period_text: str, path: str | Path) -> float | None:
    """CPUs allowed by cgroup v1 ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us`` texts (a
    negative quota, ``-1``, means none: None). ``path`` names the quota file in errors."""
    quota = quota_text.strip()
    if quota.startswith("-"):
        if quota != "-1":
            raise ValueError(f"{path}, line 1: a negative quota must be -1 (no quota), got {quota!r}")
        return None
    return _quota_cpus(quota, period_text.strip(), path)


def _quota_cpus(quota: str, period: str, path: str | Path) -> float:
    try:
        q, p = int(quota), int(period)
    except ValueError:
        raise ValueError(f"{path}, line 1: expected whole microseconds for the quota and period, "
                         f"got {quota!r} and {period!r}") from None
    if q <= 0 or p <= 0:
        raise ValueError(f"{path}, line 1: quota {q} and period {p} must be positive")
    return q / p


def cgroup_paths(proc_cgroup: str | Path = PROC_CGROUP) -> dict[str, str]:
    """The process's cgroup path per hierarchy, read from ``/proc/self/cgroup``.

    Returns
    -------
    dict
        ``{"": path}`` for the v2 (unified) hierarchy and ``{"cpu": path}`` for the v1
        hierarchy holding the cpu controller; absent keys: not a member (or no such file).
    """
    try:
        lines = Path(proc_cgroup).read_text().splitlines()
    except OSError:
        return {}
    paths = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.split(":", 2)
        if len(parts) != 3:
            raise ValueError(f"{proc_cgroup}, line {number}: expected 'ID:CONTROLLERS:PATH', got {line!r}")
        _, controllers, path = parts
        if controllers == "":
            paths[""] = path
        elif "cpu" in controllers.split(","):
            paths["cpu"] = path
    return paths


def _own_and_parents(mount: Path, path: str | None) -> list[Path]:
    """The cgroup directory of ``path`` under ``mount`` and every directory above it up to the
    mount. Inside a container the mount is often the container's own cgroup while the path
    names it from the host's root; then the mount alone is read."""
    leaf = mount / path.strip("/") if path else mount
    if not leaf.is_dir():
        return [mount]
    dirs = [leaf]
    while dirs[-1] != mount and mount in dirs[-1].parents:
        dirs.append(dirs[-1].parent)
    return dirs


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:  # absent, or unreadable: no limit learnt from it
        return None


def cgroup_cpu_quota(cgroup_root: str | Path = CGROUP_ROOT, proc_cgroup: str | Path = PROC_CGROUP) -> float | None:
    """CPUs' worth of time the process's cgroups allow, the smallest along its path; None: none.

    Looks for cgroup v2 at ``cgroup_root`` (and at ``cgroup_root/unified``, the hybrid layout)
    and cgroup v1's cpu controller at ``cgroup_root/cpu`` (or ``cpu,cpuacct``), in the process's
    own cgroup (from ``proc_cgroup``) and every cgroup above it.
    """
    root = Path(cgroup_root)
    paths = cgroup_paths(proc_cgroup)
    found: list[float] = []
    for mount in (root, root / "unified"):
        if (mount / "cgroup.controllers").is_file():
            for directory in _own_and_parents(mount, paths.get("")):
                text = _read(directory / "cpu.max")
                if text is not None and (cpus := parse_cpu_max(text, directory / "cpu.max")) is not None:
                    found.append(cpus)
    for name in _V1_CPU_DIRS:
        mount = root / name
        if mount.is_dir():
            for directory in _own_and_parents(mount, paths.get("cpu")):
                quota, period = _read(directory / "cpu.cfs_quota_us"), _read(directory / "cpu.cfs_period_us")
                if quota is not None and period is not None:
                    cpus = parse_cfs(quota, period, directory / "cpu.cfs_quota_us")
                    if cpus is not None:
                        found.append(cpus)
    return min(found) if found else None


def affinity_count() -> int:
    """CPUs in this process's affinity mask (``os.cpu_count()`` where the OS has no mask)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_budget(cgroup_root: str | Path = CGROUP_ROOT, proc_cgroup: str | Path = PROC_CGROUP,
               environ: Mapping[str, str] | None = None, affinity: int | None = None) -> CpuBudget:
    """The CPUs this process may keep busy: the affinity mask capped by the cgroup quota.

    Parameters
    ----------
    cgroup_root : path
        Where the cgroup file systems are mounted (tests pass a directory laid out the same way).
    proc_cgroup : path
        The process's cgroup membership file.
    environ : mapping, optional
        The environment (default ``os.environ``); :data:`ENV_VAR` there replaces the rest.
    affinity : int, optional
        CPUs in the affinity mask (default :func:`affinity_count`).

    Returns
    -------
    CpuBudget
        ``cpus = max(1, floor(min(affinity, quota)))``, or the override.
    """
    environ = os.environ if environ is None else environ
    affinity = affinity_count() if affinity is None else affinity
    override = None
    if environ.get(ENV_VAR, "").strip():
        text = environ[ENV_VAR].strip()
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"environment variable {ENV_VAR}={environ[ENV_VAR]!r}: expected a whole number "
                             f"of CPUs, at least 1")
        override = int(text)
    quota = cgroup_cpu_quota(cgroup_root, proc_cgroup)
    # A hair of tolerance: 150000/100000 is 1.5 exactly, but a quota written as a float-ish
    # fraction of a period must not lose a whole CPU to rounding.
    capped = affinity if quota is None else min(affinity, math.floor(quota + 1e-9))
    return CpuBudget(cpus=override if override is not None else max(1, capped), affinity=affinity,
                     quota=quota, override=override)


@contextmanager
def quota_cgroup(cpus: float, cgroup_root: str | Path = CGROUP_ROOT) -> Iterator[Path]:
    """A new cgroup with a quota of ``cpus`` CPUs (for tests and benchmarks; needs root).

    Made under cgroup v2 at ``cgroup_root`` where its cpu controller is enabled there, else in
    cgroup v1's cpu hierarchy (``cgroup_root/cpu``); removed on exit (once no process is in
    it). Yields the ``cgroup.procs`` file: a process joins by writing its pid there.

    Raises
    ------
    OSError
        Where no cgroup with a cpu controller can be made (not root, read-only, no controller).
    """
    root = Path(cgroup_root)
    name = f"camformer-{uuid.uuid4().hex[:10]}"
    period = 100_000
    quota = max(1_000, round(cpus * period))
    attempts = []
    subtree = root / "cgroup.subtree_control"
    if subtree.is_file() and "cpu" in subtree.read_text().split():
        attempts.append((root / name, {"cpu.max": f"{quota} {period}"}))
    for v1 in _V1_CPU_DIRS:
        if (root / v1 / "cpu.cfs_quota_us").is_file():
            attempts.append((root / v1 / name, {"cpu.cfs_period_us": str(period), "cpu.cfs_quota_us": str(quota)}))
            break
    errors = []
    for directory, files in attempts:
        try:
            directory.mkdir()
        except OSError as error:
            errors.append(f"{directory}: {error}")
            continue
        try:
            for file, text in files.items():
                (directory / file).write_text(text + "\n")
        except OSError as error:
            directory.rmdir()
            errors.append(f"{directory}: {error}")
            continue
        try:
            yield directory / "cgroup.procs"
        finally:
            directory.rmdir()
        return
    raise OSError(f"no cgroup with a cpu controller could be made under {root}"
                  + (f" ({'; '.join(errors)})" if errors else ""))


__all__ = ["CpuBudget", "ENV_VAR", "affinity_count", "cgroup_cpu_quota", "cgroup_paths", "cpu_budget",
           "parse_cfs", "parse_cpu_max", "quota_cgroup"]
