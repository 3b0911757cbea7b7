"""camformer.training.cpu_budget: the affinity mask capped by the cgroup quota, read from fake cgroup
trees laid out as /sys/fs/cgroup is (v2, v1, the hybrid of both) and, where this test runs as
root with a writable cgroup, from a real cgroup with a quota of one CPU."""

from __future__ import annotations

import os
from contextlib import ExitStack
import subprocess
import sys
from pathlib import Path

import pytest

from camformer.training.cpu_budget import (
    ENV_VAR, cgroup_cpu_quota, cgroup_paths, cpu_budget, parse_cfs, parse_cpu_max, quota_cgroup)

REPO = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def v2_tree(root: Path, limits: dict[str, str], member: str) -> Path:
    """A cgroup v2 mount at ``root`` with ``cpu.max`` per cgroup path; returns the proc file."""
    write(root / "cgroup.controllers", "cpuset cpu io memory pids\n")
    for path, text in limits.items():
        write(root / path.strip("/") / "cpu.max", text + "\n")
    proc = root.parent / "proc_self_cgroup"
    write(proc, f"0::{member}\n")
    return proc


def v1_tree(root: Path, limits: dict[str, tuple[str, str]], member: str, name: str = "cpu") -> Path:
    """A cgroup v1 cpu hierarchy at ``root/name`` with (quota, period) per cgroup path."""
    for path, (quota, period) in limits.items():
        write(root / name / path.strip("/") / "cpu.cfs_quota_us", quota + "\n")
        write(root / name / path.strip("/") / "cpu.cfs_period_us", period + "\n")
    proc = root.parent / "proc_self_cgroup"
    write(proc, f"12:pids:/\n4:{name}:{member}\n3:memory:/other\n1:name=systemd:/\n")
    return proc


def budget(root: Path, proc: Path, affinity: int, **env) -> "object":
    return cpu_budget(root, proc, environ=env, affinity=affinity)


def test_the_cpu_max_and_cfs_texts():
    assert parse_cpu_max("max 100000\n", "cpu.max") is None
    assert parse_cpu_max("50000 100000", "cpu.max") == 0.5
    assert parse_cpu_max("150000", "cpu.max") == 1.5  # the period defaults to 100 ms
    assert parse_cfs("-1\n", "100000\n", "q") is None
    assert parse_cfs("250000", "100000", "q") == 2.5
    for bad in ("", "1 2 3", "lots 100000", "0 100000"):
        with pytest.raises(ValueError, match=r"cpu\.max, line 1"):
            parse_cpu_max(bad, "/x/cpu.max")
    with pytest.raises(ValueError, match="must be -1"):
        parse_cfs("-5", "100000", "/x/cpu.cfs_quota_us")


def test_v2_no_quota_leaves_the_affinity_mask(tmp_path):
    proc = v2_tree(tmp_path / "cg", {"/": "max 100000"}, "/")
    b = budget(tmp_path / "cg", proc, affinity=6)
    assert (b.cpus, b.quota, b.override) == (6, None, None)
    assert b.describe() == "6 CPUs (6 in the affinity mask, no cgroup quota)"


@pytest.mark.parametrize("text, affinity, cpus", [
    ("100000 100000", 2, 1),   # Binder's case: one CPU's quota, two visible cores
    ("150000 100000", 4, 1),   # rounded down
    ("50000 100000", 4, 1),    # half a CPU: still one
    ("300000 100000", 2, 2),   # a quota above the mask: the mask
    ("400000 100000", 8, 4),
])
def test_v2_quota_caps_the_mask(tmp_path, text, affinity, cpus):
    proc = v2_tree(tmp_path / "cg", {"/pod/app": text}, "/pod/app")
    assert budget(tmp_path / "cg", proc, affinity).cpus == cpus


def test_describe_says_where_the_count_came_from(tmp_path):
    proc = v2_tree(tmp_path / "cg", {"/": "100000 100000"}, "/")
    assert budget(tmp_path / "cg", proc, 2).describe() == "1 CPU (2 in the affinity mask, cgroup quota 1 CPU)"


def test_v2_the_smallest_quota_along_the_path_counts(tmp_path):
    root = tmp_path / "cg"
    proc = v2_tree(root, {"/": "max 100000", "/a": "200000 100000", "/a/b": "max 100000",
                          "/a/b/c": "350000 100000", "/elsewhere": "50000 100000"}, "/a/b/c")
    assert cgroup_cpu_quota(root, proc) == 2.0
    assert budget(root, proc, 16).describe() == "2 CPUs (16 in the affinity mask, cgroup quota 2 CPUs)"


def test_v2_inside_a_container_reads_its_own_mount(tmp_path):
    # The path names the cgroup from the host's root; the container sees its cgroup as the mount.
    root = tmp_path / "cg"
    proc = v2_tree(root, {"/": "100000 100000"}, "/kubepods/burstable/pod1234/abcdef")
    assert cgroup_cpu_quota(root, proc) == 1.0


@pytest.mark.parametrize("name", ["cpu", "cpu,cpuacct"])
def test_v1_quota_and_period(tmp_path, name):
    root = tmp_path / "cg"
    proc = v1_tree(root, {"/": ("-1", "100000"), "/docker/x": ("200000", "100000")}, "/docker/x", name)
    assert cgroup_paths(proc)["cpu"] == "/docker/x"
    assert budget(root, proc, 8).cpus == 2
    proc = v1_tree(root, {"/docker/y": ("-1", "100000")}, "/docker/y", name)
    assert budget(root, proc, 8).cpus == 8


def test_v1_and_v2_together_the_hybrid_layout(tmp_path):
    # As on many hosts: v1 controllers beside a v2 mount at unified/ that holds no cpu controller.
    root = tmp_path / "cg"
    v1_tree(root, {"/": ("-1", "100000"), "/job": ("100000", "100000")}, "/job")
    write(root / "unified" / "cgroup.controllers", "\n")
    proc = root.parent / "proc_self_cgroup"
    write(proc, "4:cpu,cpuacct:/job\n0::/\n")
    assert budget(root, proc, 2).cpus == 1


def test_no_cgroup_files_leaves_the_mask(tmp_path):
    assert budget(tmp_path / "none", tmp_path / "no_proc_file", 3).cpus == 3
    assert cgroup_cpu_quota(tmp_path / "none", tmp_path / "no_proc_file") is None


def test_a_malformed_file_is_named(tmp_path):
    root = tmp_path / "cg"
    proc = v2_tree(root, {"/": "lots"}, "/")
    with pytest.raises(ValueError, match=r"cpu\.max, line 1"):
        budget(root, proc, 2)
    write(proc, "no colons here\n")
    with pytest.raises(ValueError, match=r"proc_self_cgroup, line 1"):
        cgroup_paths(proc)


def test_the_environment_sets_the_budget_outright(tmp_path):
    proc = v2_tree(tmp_path / "cg", {"/": "100000 100000"}, "/")
    b = budget(tmp_path / "cg", proc, 2, **{ENV_VAR: "3"})
    assert (b.cpus, b.override, b.quota) == (3, 3, 1.0)
    assert b.describe() == f"3 CPUs ({ENV_VAR}=3)"
    for bad in ("0", "two", "-1", "1.5"):
        with pytest.raises(ValueError, match=ENV_VAR):
            budget(tmp_path / "cg", proc, 2, **{ENV_VAR: bad})


def test_this_machine_reads_without_error():
    b = cpu_budget()
    assert 1 <= b.cpus and b.affinity == len(os.sched_getaffinity(0))
    assert b.cpus <= b.affinity or b.override is not None


# ---------------------------------------------------------------------------- a real cgroup

def unlink_files(directory: Path) -> None:
    """A real cgroup's files go with its directory; a fake's must go first."""
    for file in directory.iterdir():
        file.unlink()


def test_quota_cgroup_writes_the_quota_and_removes_the_cgroup(tmp_path):
    v2 = tmp_path / "v2"
    write(v2 / "cgroup.subtree_control", "cpu memory\n")
    with quota_cgroup(1.5, v2) as procs:
        assert (procs.parent / "cpu.max").read_text() == "150000 100000\n"
        assert parse_cpu_max((procs.parent / "cpu.max").read_text(), "cpu.max") == 1.5
        unlink_files(procs.parent)
    assert not procs.parent.exists()
    v1 = tmp_path / "v1"
    write(v1 / "cpu" / "cpu.cfs_quota_us", "-1\n")
    with quota_cgroup(1, v1) as procs:
        assert parse_cfs((procs.parent / "cpu.cfs_quota_us").read_text(),
                         (procs.parent / "cpu.cfs_period_us").read_text(), "q") == 1.0
        unlink_files(procs.parent)
    assert not procs.parent.exists()
    with pytest.raises(OSError, match="no cgroup with a cpu controller"):
        with quota_cgroup(1, tmp_path / "nothing"):
            pass


def test_a_process_in_a_real_one_cpu_cgroup_gets_a_budget_of_one():
    if os.geteuid() != 0:
        pytest.skip("making a cgroup needs root")
    with ExitStack() as stack:
        try:
            procs = stack.enter_context(quota_cgroup(1.0))
        except OSError as error:
            pytest.skip(str(error))
        code = ("from camformer.training.cpu_budget import cpu_budget; b = cpu_budget(); "
                "print(b.cpus, b.quota, b.affinity)")
        # the shell joins the cgroup, then becomes python: the budget is computed inside it
        child = subprocess.run(["sh", "-c", f'echo $$ > "{procs}" && exec "$0" -c "$1"', sys.executable, code],
                               capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONPATH": str(REPO), ENV_VAR: ""})
        assert child.returncode == 0, child.stderr
        cpus, quota, affinity = child.stdout.split()
        assert (int(cpus), float(quota)) == (1, 1.0)
        assert int(affinity) == len(os.sched_getaffinity(0))
    assert not procs.parent.exists()  # removed
