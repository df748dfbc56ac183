"""usable_cpus(): affinity, capped by a cgroup CPU quota read from fake cgroup trees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gilkit.host import cpus as machine


def fake_cgroups(tmp_path: Path, membership: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A /proc/self/cgroup with `membership` and a cgroup root holding `files`."""
    proc_self_cgroup = tmp_path / "proc-self-cgroup"
    proc_self_cgroup.write_text(membership)
    root = tmp_path / "sys-fs-cgroup"
    root.mkdir()
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text + "\n")
    return proc_self_cgroup, root


def assume_affinity(monkeypatch: pytest.MonkeyPatch, n_cpus: int) -> None:
    """Make this process look as if it may run on n_cpus cpus, on any Python version."""
    monkeypatch.setattr(os, "process_cpu_count", lambda: n_cpus, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(n_cpus)), raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: n_cpus)


def test_v2_quota_of_two_cpus(tmp_path: Path) -> None:
    paths = fake_cgroups(tmp_path, "0::/\n", {"cpu.max": "200000 100000"})
    assert machine.cgroup_cpu_quota(*paths) == 2.0


def test_v2_max_is_no_quota(tmp_path: Path) -> None:
    paths = fake_cgroups(tmp_path, "0::/\n", {"cpu.max": "max 100000"})
    assert machine.cgroup_cpu_quota(*paths) is None


def test_v2_fractional_quota_rounds_up_to_whole_cpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = fake_cgroups(tmp_path, "0::/\n", {"cpu.max": "150000 100000"})
    assert machine.cgroup_cpu_quota(*paths) == 1.5
    # The whole path, files to usable_cpus(), on what looks like a 64-cpu host.
    monkeypatch.setattr(machine, "PROC_SELF_CGROUP", paths[0])
    monkeypatch.setattr(machine, "CGROUP_ROOT", paths[1])
    assume_affinity(monkeypatch, 64)
    assert machine.usable_cpus() == 2


def test_v2_reads_the_process_cgroup_and_the_ones_above_it(tmp_path: Path) -> None:
    membership = "0::/system.slice/gilkit.service\n"
    files = {
        "system.slice/gilkit.service/cpu.max": "max 100000",
        "system.slice/cpu.max": "300000 100000",
    }
    assert machine.cgroup_cpu_quota(*fake_cgroups(tmp_path, membership, files)) == 3.0


def test_v2_tightest_quota_wins(tmp_path: Path) -> None:
    membership = "0::/a/b\n"
    files = {"a/b/cpu.max": "50000 100000", "a/cpu.max": "400000 100000"}
    assert machine.cgroup_cpu_quota(*fake_cgroups(tmp_path, membership, files)) == 0.5


def test_a_container_without_its_host_path_reads_its_own_mount(tmp_path: Path) -> None:
    # No cgroup namespace: /proc/self/cgroup names the host's path, the mount is the container's.
    paths = fake_cgroups(tmp_path, "0::/docker/3f2a9c\n", {"cpu.max": "200000 100000"})
    assert machine.cgroup_cpu_quota(*paths) == 2.0


def test_a_path_outside_the_namespace_reads_the_mount_only(tmp_path: Path) -> None:
    files = {"cpu.max": "200000 100000", "x/cpu.max": "100000 100000"}
    paths = fake_cgroups(tmp_path, "0::/../../x\n", files)
    assert machine.cgroup_cpu_quota(*paths) == 2.0


def test_v1_quota(tmp_path: Path) -> None:
    membership = "5:memory:/docker/3f2a9c\n4:cpu,cpuacct:/docker/3f2a9c\n0::/\n"
    files = {"cpu,cpuacct/cpu.cfs_quota_us": "200000", "cpu,cpuacct/cpu.cfs_period_us": "100000"}
    assert machine.cgroup_cpu_quota(*fake_cgroups(tmp_path, membership, files)) == 2.0


def test_v1_cpu_mounted_alone(tmp_path: Path) -> None:
    membership = "2:cpuacct:/\n1:cpu:/\n"
    files = {"cpu/cpu.cfs_quota_us": "350000", "cpu/cpu.cfs_period_us": "100000"}
    assert machine.cgroup_cpu_quota(*fake_cgroups(tmp_path, membership, files)) == 3.5


def test_v1_minus_one_is_no_quota(tmp_path: Path) -> None:
    membership = "4:cpu,cpuacct:/\n"
    files = {"cpu,cpuacct/cpu.cfs_quota_us": "-1", "cpu,cpuacct/cpu.cfs_period_us": "100000"}
    assert machine.cgroup_cpu_quota(*fake_cgroups(tmp_path, membership, files)) is None


def test_missing_files_are_no_quota(tmp_path: Path) -> None:
    assert machine.cgroup_cpu_quota(tmp_path / "absent", tmp_path / "absent-root") is None
    paths = fake_cgroups(tmp_path, "4:cpu,cpuacct:/\n0::/user.slice\n", {})
    assert machine.cgroup_cpu_quota(*paths) is None


@pytest.mark.parametrize("text", ["", "max", "garbage 100000", "100000 0", "0 100000"])
def test_unreadable_cpu_max_is_no_quota(text: str) -> None:
    assert machine.cpu_max_quota(text) is None


@pytest.mark.parametrize(
    ("affinity", "quota", "usable"),
    [(64, 2.0, 2), (64, 0.5, 1), (64, 1.5, 2), (1, 2.0, 1), (64, None, 64)],
)
def test_usable_cpus_is_affinity_capped_by_the_quota(
    monkeypatch: pytest.MonkeyPatch, affinity: int, quota: float | None, usable: int
) -> None:
    assume_affinity(monkeypatch, affinity)
    monkeypatch.setattr(machine, "cgroup_cpu_quota", lambda *roots: quota)
    assert machine.usable_cpus() == usable
