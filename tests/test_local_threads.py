"""How many threads the local model's server gets: one per physical core this process
may use (``rag.local.server.physical_cores``), read from a fake /sys and /proc."""

from __future__ import annotations

import os
from pathlib import Path

from rag.local.server import physical_cores

MINE = sorted(os.sched_getaffinity(0))


def _machine(root: Path, threads_per_core: int, cgroup: str = "0::/\n",
             cpu_max: str | None = None) -> Path:
    """A /sys and /proc where this process's CPUs pair up ``threads_per_core`` a core."""
    for n, cpu in enumerate(MINE):
        topology = root / f"sys/devices/system/cpu/cpu{cpu}/topology"
        topology.mkdir(parents=True)
        (topology / "physical_package_id").write_text("0\n")
        (topology / "core_id").write_text(f"{n // threads_per_core}\n")
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/cgroup").write_text(cgroup)
    if cpu_max is not None:
        group = root / "sys/fs/cgroup" / cgroup.split("::", 1)[1].strip().lstrip("/")
        group.mkdir(parents=True, exist_ok=True)
        (group / "cpu.max").write_text(cpu_max)
    return root


def test_one_thread_per_core_however_many_hyperthreads_it_has(tmp_path: Path) -> None:
    assert physical_cores(_machine(tmp_path / "one", 1)) == len(MINE)
    assert physical_cores(_machine(tmp_path / "two", 2)) == (len(MINE) + 1) // 2


def test_no_more_threads_than_the_cgroup_quota_allows(tmp_path: Path) -> None:
    root = _machine(tmp_path, 1, "0::/docker/abc\n", "100000 100000\n")
    assert physical_cores(root) == 1
    root = _machine(tmp_path / "unlimited", 1, "0::/docker/abc\n", "max 100000\n")
    assert physical_cores(root) == len(MINE)


def test_an_unreadable_sys_counts_each_cpu(tmp_path: Path) -> None:
    assert physical_cores(tmp_path) == len(MINE)
