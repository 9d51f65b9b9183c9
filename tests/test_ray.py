"""A real local Ray cluster on loopback (a head node plus one more worker node, separate
processes): a sweep through it gives the local executor's metrics exactly."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from tests.helpers import TINY_DM, cli, sets

pytest.importorskip("ray")
pytestmark = pytest.mark.ray


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    ray_bin = shutil.which("ray", path=os.path.dirname(sys.executable)) or shutil.which("ray")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    temp = tmp_path_factory.mktemp("ray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    common = ["--num-cpus", "1", "--disable-usage-stats"]

    def ray(*args):
        subprocess.run([ray_bin, *args], check=True, env=env, capture_output=True, timeout=180)

    try:
        ray(
            "start",
            "--head",
            "--node-ip-address",
            "127.0.0.1",
            "--port",
            str(port),
            "--include-dashboard",
            "false",
            "--temp-dir",
            str(temp),
            *common,
        )
        ray("start", "--address", address, "--node-ip-address", "127.0.0.1", *common)
        _wait_for_nodes(address, 2)
        yield address
    finally:
        subprocess.run([ray_bin, "stop", "--force"], env=env, capture_output=True, timeout=120)


def _wait_for_nodes(address, count, timeout=120):
    script = (
        f"import ray; ray.init(address={address!r}, log_to_driver=False);"
        "print(sum(n['Alive'] for n in ray.nodes()))"
    )
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip().endswith(str(count)):
            return
        time.sleep(2)
    raise AssertionError(f"ray cluster at {address} did not show {count} nodes")


def test_sweep_on_ray_cluster_matches_local_executor(ray_cluster, tmp_path):
    args = [*sets(TINY_DM), "--set", "learners=['two-phase','linear-raw']", "--seeds", "2"]
    ray_run = cli(
        "reproduce",
        "--out",
        str(tmp_path / "ray"),
        "--executor",
        "ray",
        "--address",
        ray_cluster,
        *args,
    )
    assert ray_run.returncode == 0, ray_run.stderr
    local = cli("reproduce", "--out", str(tmp_path / "local"), "--workers", "2", *args)
    assert local.returncode == 0, local.stderr

    def metrics(d):
        records = json.loads(cli("results", str(d), "--format", "json").stdout)
        return {r["run_id"]: r["metrics"] for r in records}

    a, b = metrics(tmp_path / "ray"), metrics(tmp_path / "local")
    assert len(a) == 4 and a == b
