"""The benchmarks still run: each one's figures, at a toy size (they rot silently when a
seam they call is renamed; two had). Figures are printed, never asserted on."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "bench")]

pytestmark = pytest.mark.slow


def test_ingest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import bench_ingest as b

    from slarules.settings import parse_database_url

    _, eng = b.engine()
    point = b.curve_point(parse_database_url(f"sqlite:///{tmp_path}/i.db"), eng, 5, 4, 1)
    assert set(point) == {"b_cpu", "b_rate", "s_cpu", "s_rate", "floor", "read", "many"}
    assert all(v > 0 for v in point.values())
    bare, many = b.bare_floor(n=20)
    assert bare > 0 and many > 0
    assert b.insert_floor(parse_database_url(f"sqlite:///{tmp_path}/f.db"), eng) > 0


def test_service_pages_and_ratio(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import bench_service as b

    from slarules.settings import parse_database_url

    _, eng = b.engine()
    assert b.bench_ingest(parse_database_url(f"sqlite:///{tmp_path}/i.db"), eng, 4, 1) > 0
    b.bench_breached_page(parse_database_url(f"sqlite:///{tmp_path}/p.db"), eng, 40)
    b.bench_ratio(parse_database_url(f"sqlite:///{tmp_path}/r.db"), eng, 20)
    out = capsys.readouterr().out
    assert "ms" in out


def test_preview(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import bench_preview as b

    db = tmp_path / "p.db"
    b.seed(db, 20)
    b.measure(db, 1)
    out = capsys.readouterr().out
    assert '"stored"' in out and '"measured"' in out


def test_load(tmp_path: Path) -> None:
    import bench_load as b

    from slarules.settings import parse_database_url

    path = tmp_path / "export.jsonl"
    events = b.write_export(path, 5)
    assert events > 0 and b.floor(path) > 0
    s = b.load(path, parse_database_url(f"sqlite:///{tmp_path}/l.db"), b.T0 + b.timedelta(days=30))
    assert s.seconds > 0 and s.render()


def test_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import bench_engine as b

    b.bench(tmp_path, 20)
    out = capsys.readouterr().out
    assert "exit 0" in out and "engine `measure` per ticket" in out


def test_lsp(tmp_path: Path) -> None:
    import bench_lsp as b

    for name in ("00-setup.sla", "10-levels.sla"):
        shutil.copy(b.EXAMPLES / name, tmp_path / name)
    text = b.rules(5)
    (tmp_path / "20-rules.sla").write_text(text, encoding="utf-8")
    assert b.build_floor(tmp_path, runs=1) > 0
    times: list[Any] = asyncio.run(b.edits(tmp_path, text))
    assert times and all(t > 0 for t in times)


def test_conditions_bench_compares_equal_decisions() -> None:
    """The 200-rule figure compares slarules with a plain lambda list: both must decide the
    same for tickets that each kind of rule matches, or the ratio compares other work."""
    import bench_conditions as b

    from slarules.dsl import build_source

    policy = build_source(b.many_rules(200)).policy
    assert policy is not None
    plain = b.plain_decide(200)
    tickets = [
        b.T,
        {**b.T, "tier": "t4"},
        {**b.T, "customer_group": "h1"},
        {**b.T, "tags": ("x6",)},
        {**b.T, "priority": "Urgent", "department": "d7"},
        {**b.T, "tier": "silver"},
    ]
    for i in range(200):  # every 6th rule is a regex one: subjects that match each
        tickets.append({**b.T, "subject": f"see Invoice #{i}123-abc"})
    for t in tickets:
        d = policy.decide(t)
        assert (d.level, d.decided_by) == plain(t), t
    decided = {plain(t)[1] for t in tickets}
    assert decided >= {"r1", "r4", "r6", "r7", "r5", "r11", "r197", "default", "r199"}


def _run(*args: str) -> str:
    import subprocess

    got = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert got.returncode == 0, got.stderr[-2000:]
    return got.stdout


def test_reports_on_a_small_seeded_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'year.db'}"
    _run("bench/seed_reports.py", url, "--tickets", "300", "--open", "20")
    out = _run("bench/bench_reports.py", url, "--repeat", "1")
    for line in ("compliance month by DAY", "slaLog(first: 100) by dueAt", "tickets(first: 50)"):
        assert line in out
    assert "GET /export/sla-log.csv" in out


def test_remeasure_full_and_incremental() -> None:
    out = _run("bench/bench_remeasure.py", "-n", "30", "-r", "1", "--full-runs", "1")
    assert "serial re-measure" in out and "one rule's condition: full" in out
