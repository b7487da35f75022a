"""`pip install .` (not editable): the wheel carries the example rules, and serves with no settings.

The wheel is installed into a fresh venv without pip and with `--no-deps`;
the dependencies come from this venv's site-packages through a `.pth` line,
so the test needs no network and no second dependency install.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_wheel_installs_and_serves_with_no_settings(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(dist)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("slarules-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "slarules/examples/helpdesk/20-rules.sla" in names
    assert any(n.startswith("slarules/examples/helpdesk/fixtures/") for n in names)
    assert "slarules/board/index.html" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", wheel],
        check=True,
        capture_output=True,
        timeout=300,
    )
    run = tmp_path / "run"
    run.mkdir()
    where = subprocess.run(
        [py, "-c", "import slarules; print(slarules.__file__)"],
        cwd=run,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(site), where  # the installed copy, not the work tree

    port = _free_port()
    proc = subprocess.Popen(
        [venv / "bin" / "slarules", "serve", "--port", str(port)],
        cwd=run,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith(f"slarules: SLA board http://127.0.0.1:{port}/ "), first + (
            proc.stderr.read() if proc.stderr else ""
        )
        health: dict[str, object] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    health = json.loads(r.read())
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        assert health.get("ok") is True
        assert (run / "slarules.db").is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
