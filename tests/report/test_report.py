"""The HTML report: self-contained, every table and figure present, opened in real headless Chromium."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from ralph.bench.analysis import Analysis, ArmInfo, CellInput
from ralph.bench.analyze import analyze
from ralph.bench.facts import RunFacts
from ralph.bench.fold import RunActivity
from ralph.bench.gather import analyze_experiment
from ralph.bench.loading import load_experiment
from ralph.report import draw_plots, pareto_front, plots, write_report
from ralph.report.plots import mean_curve

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "earlier-ledger" / "001-profile-showdown"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
PROBE = """<script>
window.addEventListener("load", () => {
  for (const img of document.images) {
    img.setAttribute("data-natural", img.naturalWidth + "x" + img.naturalHeight);
  }
  document.body.setAttribute("data-probed", String(document.images.length));
});
</script></body>"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Analysis, Path]:
    folder = tmp_path_factory.mktemp("exp") / FIXTURE.name
    shutil.copytree(FIXTURE, folder)
    analysis = analyze_experiment(load_experiment(folder))
    return analysis, write_report(analysis, folder / "results" / "report.html")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (scripts/install-sysdeps.sh installs it)")
    return found


def run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    argv = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)


def test_pareto_front() -> None:
    points = [(5.0, 50.0), (1.0, 20.0), (3.0, 20.0), (5.0, 40.0), (9.0, 90.0), (2.0, 60.0)]
    assert pareto_front(points) == [1, 5, 4]  # (1,20) (2,60) (9,90); (3,20) (5,50) dominated by (2,60)
    assert pareto_front([]) == []


def test_report_is_self_contained(built: tuple[Analysis, Path]) -> None:
    _, path = built
    html = path.read_text(encoding="utf-8")
    assert path.name == "report.html" and path.parent.name == "results"
    assert "<script" not in html and not re.search(r"""(src|href)=["']https?:""", html)
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) == 5 and all(src.startswith("data:image/png;base64,") for src in images)
    titles = ["1. Run comparison", "2. Per-stage breakdown", "3. Quota impact", "4. Efficiency ranking"]
    titles += ["5. Correctness matrix", "6. Recommendations", "What each profile and variant changed"]
    assert all(title in html for title in titles)
    # every figure links to every cell's results folder, relative to the report
    for key in ("remote", "cost", "stages", "kills", "timeline"):
        figure = html.split(f'id="fig-{key}"', 1)[1].split("</figure>", 1)[0]
        assert re.findall(r'<a href="([^"]+)">', figure) == ["hybrid/", "opus/", "devstral/"]
    assert (path.parent / "hybrid").is_dir()
    assert "$4.50" in html and "2.323" in html


@pytest.mark.browser
def test_report_renders_in_headless_chromium(built: tuple[Analysis, Path], tmp_path: Path) -> None:
    _, path = built
    probe = path.with_name("probe.html")
    probe.write_text(path.read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    done = run_chromium(["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()], tmp_path / "p1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'data-probed="5"' in done.stdout
    sizes = [tuple(map(int, m)) for m in re.findall(r'data-natural="(\d+)x(\d+)"', done.stdout)]
    assert len(sizes) == 5 and all(w > 300 and h > 200 for w, h in sizes), sizes

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "bench-report.png"
    shot.unlink(missing_ok=True)
    done = run_chromium(["--window-size=1280,4200", f"--screenshot={shot}", path.as_uri()], tmp_path / "p2")
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1280, 4200)
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colors is not None and len(colors) > 50  # tables, text and plots, not a blank page


def test_an_experiment_without_runs_still_renders(tmp_path: Path) -> None:
    folder = tmp_path / "005-empty"
    folder.mkdir()
    (folder / "experiment.toml").write_text(
        'target_repo = "/nowhere"\nbase_ref = "main"\nspec = "s.md"\nprofiles = ["a", "b"]\n'
    )
    analysis = analyze_experiment(load_experiment(folder))
    assert analysis.runs == () and "no runs of experiment 005-empty" in analysis.warnings[0]
    html = write_report(analysis, folder / "results" / "report.html").read_text()
    assert html.count("<img") == 5 and "no runs of experiment" in html


def _staircase_at(line: list[tuple[float, int]], t: float) -> float:
    before = [n for when, n in line if when <= t]
    return float(before[-1]) if before else 0.0


def test_mean_curve_is_the_mean_of_the_staircases() -> None:
    rng = random.Random(5)
    lines = []
    for _ in range(40):
        t, n, line = 0.0, 0, [(0.0, 0)]
        for _ in range(rng.randint(0, 12)):
            t += rng.choice((0.0, rng.uniform(1, 500)))
            n += rng.randint(1, 3)
            line.append((t, n))
        lines.append(line)
    grid, values = mean_curve(lines, samples=97)
    assert len(grid) == len(values) == 97 and grid[0] == 0.0 and grid[-1] == max(p[-1][0] for p in lines)
    for t, value in zip(grid, values, strict=True):
        assert value == pytest.approx(sum(_staircase_at(line, t) for line in lines) / len(lines))
    assert mean_curve([]) == ([], [])


def test_many_cells_draw_a_sample_and_the_means(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(plots, "MAX_POINTS", 30)
    monkeypatch.setattr(plots, "MAX_LINES", 12)
    arms = [ArmInfo(name, name) for name in ("a", "b", "c")]
    cells = []
    for i in range(90):
        arm = arms[i % 3].name
        run = RunFacts(run_id=f"r{i}", cost=1.0 + i % 7, tasks_total=20, tasks_completed=i % 21, api_remote=i,
                       exit_reason="complete", duration_s=60.0 * i)  # fmt: skip
        accepts = tuple((60.0 * k, k) for k in range(1, i % 9 + 1))
        activity = RunActivity(f"r{i}", timeline=accepts, elapsed_s=60.0 * (i % 9 + 2), accepted=i % 9)
        cells.append(
            CellInput(f"{arm}-r{i}", arm, i // 3 + 1, (run,), (activity,), files=str(tmp_path / arm))
        )
    analysis = analyze("many", arms, cells)
    drawn = {p.key: p for p in draw_plots(analysis)}
    assert len(drawn) == 5 and all(p.png.startswith(b"\x89PNG") for p in drawn.values())
    assert "of 90 drawn" in drawn["cost"].caption and "Pareto front over all cells" in drawn["cost"].caption
    assert (
        "of 90 cells" in drawn["timeline"].caption and "mean over all its cells" in drawn["timeline"].caption
    )
    assert all(len(p.cells) == 90 for p in drawn.values())  # the links still name every cell
    html = write_report(analysis, tmp_path / "report.html").read_text()
    assert html.count("<img") == 5 and "and 50 more in the" in html
