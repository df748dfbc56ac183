"""Every built-in kernel on a Dask cluster whose workers run on other hosts.

Each "host" is a network namespace with a hostname of its own (a UTS namespace), joined to the
client's namespace by a bridge with link-local addresses only, and a /dev/shm of its own: the
workers are elsewhere as far as gilkit can tell (another hostname), and this host's shared
memory and its 127.0.0.1 are out of their reach, as on another machine. Needs root, `ip` and
`unshare`; skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed")

pytestmark = pytest.mark.slow

SCHEDULER_IP = "169.254.77.1"
PORT = 8786
HOSTS = ["gk-host-1", "gk-host-2"]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def _in(ns: str, command: str) -> None:
    """`ip COMMAND` inside the network namespace `ns`."""
    _ip("netns", "exec", ns, "ip", *command.split())


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A server in a session of its own, so that the whole group can be killed at the end."""
    return subprocess.Popen(
        command,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _namespaces_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root, for network namespaces"
    if shutil.which("ip") is None or shutil.which("unshare") is None:
        return "needs ip(8) and unshare(1)"
    name = f"gkprobe{os.getpid()}"
    try:
        _ip("netns", "add", name)
        _ip("netns", "del", name)
    except (subprocess.SubprocessError, OSError) as error:
        return f"cannot make network namespaces here: {error}"
    return None


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A scheduler in the client's namespace, a worker in each host's; the client's
    namespace name."""
    reason = _namespaces_unavailable()
    if reason is not None:
        pytest.skip(reason)
    tag = str(os.getpid())
    client_ns, host_ns = f"gkc{tag}", [f"gkw{i}-{tag}" for i in range(len(HOSTS))]
    processes: list[subprocess.Popen[bytes]] = []
    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    try:
        _ip("netns", "add", client_ns)
        for command in (
            "link set lo up",
            "link add br0 type bridge",
            f"addr add {SCHEDULER_IP}/24 dev br0",
            "link set br0 up",
        ):
            _in(client_ns, command)
        scheduler = [
            dask,
            "scheduler",
            "--host",
            SCHEDULER_IP,
            "--port",
            str(PORT),
            "--no-dashboard",
        ]
        processes.append(_start(["ip", "netns", "exec", client_ns, *scheduler], env))
        for i, (ns, hostname) in enumerate(zip(host_ns, HOSTS, strict=True)):
            address = f"169.254.77.{11 + i}"
            _ip("netns", "add", ns)
            _in(client_ns, f"link add v{i} type veth peer name p{i}")
            _in(client_ns, f"link set v{i} master br0 up")
            _in(client_ns, f"link set p{i} netns {ns}")
            for command in (
                "link set lo up",
                f"link set p{i} name eth0",
                f"addr add {address}/24 dev eth0",
                "link set eth0 up",
            ):
                _in(ns, command)
            worker = [dask, "worker", f"tcp://{SCHEDULER_IP}:{PORT}", "--host", address]
            worker += ["--nworkers", "1", "--nthreads", "1", "--no-dashboard"]
            # A /dev/shm of its own: this host's shared memory is out of reach, as elsewhere.
            start = f'mount -t tmpfs tmpfs /dev/shm && hostname {hostname} && exec "$@"'
            in_host = ["ip", "netns", "exec", ns, "unshare", "--uts", "--mount"]
            processes.append(_start([*in_host, "sh", "-c", start, "-", *worker], env))
        _wait_for_workers(client_ns, len(HOSTS))
        yield client_ns
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        for ns in [client_ns, *host_ns]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def _wait_for_workers(client_ns: str, n: int) -> None:
    script = (
        "from distributed import Client\n"
        f"client = Client('tcp://{SCHEDULER_IP}:{PORT}', timeout=10)\n"
        f"client.wait_for_workers({n}, timeout=60)\n"
    )
    deadline = time.monotonic() + 90
    while True:
        done = subprocess.run(
            ["ip", "netns", "exec", client_ns, sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the namespaces' cluster did not start: {done.stderr[-2000:]}")
        time.sleep(1)


def test_every_built_in_kernel_runs_on_workers_of_other_hosts(cluster: str, tmp_path: Path) -> None:
    out = tmp_path / "cluster.json"
    command = ["ip", "netns", "exec", cluster, sys.executable, "-m", "gilkit", "run"]
    command += ["--kernel", "squares,mandelbrot,triad,io", "--impl", "python,cython-nogil,numpy"]
    command += ["--runner", "serial,dask-processes", "--workers", "2"]
    command += ["--scheduler", f"tcp://{SCHEDULER_IP}:{PORT}"]
    command += ["--size", "squares=20000,mandelbrot=20,triad=200000,io=8"]
    command += ["--repeat", "2", "--warmup", "0", "--json", str(out)]
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    cells = [c for c in result["cells"] if c["runner"] == "dask-processes"]
    assert {c["kernel"] for c in cells} == {"squares", "mandelbrot", "triad", "io"}
    assert all(c["error"] is None and c["agrees"] for c in cells), cells
    hosts = {w["host"] for w in result["metadata"]["dask_cluster"]["workers"].values()}
    assert hosts == set(HOSTS)
    assert set(result["metadata"]["data_made_by_workers"]) == {"triad", "io"}
    # The run names the hosts, and says which way each kernel's data went (lines unwrapped).
    text = " ".join(done.stdout.split())
    assert all(f"{host} (1 worker)" in text for host in HOSTS)
    assert "triad: the cluster's workers run on other hosts" in text
    assert "io: the cluster's workers run on other hosts" in text
