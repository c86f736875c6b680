"""The sandbox for the benchmarks: moto's server with selfheal's extensions, on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sandbox() -> tuple[str, subprocess.Popen]:
    """Starts the sandbox and waits until it answers; the caller terminates the process."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "selfheal_sandbox", "--port", str(port)],
                               env={**os.environ, "PYTHONPATH": str(ROOT / "sandbox")},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/selfheal/health", timeout=1)
            return endpoint, process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    sys.exit(f"the sandbox did not start on port {port}")


def stop_all(processes: list[subprocess.Popen]) -> None:
    """Terminates the processes a benchmark started, the last started first; kills one that lingers."""
    for p in reversed(processes):
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
