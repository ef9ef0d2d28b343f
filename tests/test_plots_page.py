"""`dvc plots show` draws its curves without a network: the page carries Vega inline.

A real DVC project with a CSV curve and the page template of
:mod:`sketch2color.plots_page`, named in ``.dvc/config`` as the project's is.
Where Debian's Chromium is installed (``make system-deps``), the page is also
opened headless inside a network namespace of its own (``unshare -n``: no
network at all), and the curve must be drawn.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sketch2color.plots_page import TEMPLATE, write_template

from pipeline_repo import REPO, VENV_BIN

DVC_YAML = """\
plots:
  - curve.csv:
      x: step
      y: loss
"""


@pytest.fixture(scope="module")
def plots_page(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("plots")

    def run(*args: str) -> None:
        subprocess.run(args, cwd=root, check=True, capture_output=True, text=True, timeout=300)

    run("git", "init", "-q")
    run(str(VENV_BIN / "dvc"), "init", "-q")
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "curve.csv").write_text("step,loss\n" + "".join(f"{s},{1 / (s + 1):.4f}\n" for s in range(20)))
    write_template(root / TEMPLATE)
    shutil.copy(
        REPO / ".dvc" / "config", root / ".dvc" / "config"
    )  # names the template as the project's does
    run(str(VENV_BIN / "dvc"), "plots", "show")
    return root / "dvc_plots" / "index.html"


def test_the_page_loads_no_script_from_the_network(plots_page):
    html = plots_page.read_text(encoding="utf-8")
    assert re.findall(r"<script[^>]*\bsrc=", html) == []
    assert "window.vegaEmbed=" in html.replace(" ", "") and "vegaEmbed('#" in html


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium is not installed (make system-deps)")
def test_headless_chromium_without_a_network_draws_the_curve(plots_page):
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a network namespace here (unshare -n needs root or user namespaces)")
    done = subprocess.run(
        [
            unshare,
            "-n",
            "chromium",
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=15000",
            "--dump-dom",
            plots_page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert 'class="vega-embed' in dom  # vegaEmbed ran
    assert "mark-line" in dom, dom[-2000:]  # and drew the curve (Vega renders to SVG here)
