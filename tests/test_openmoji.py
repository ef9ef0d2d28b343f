"""fetch.source: openmoji: line/colour separation, exclusions, variant groups, determinism, errors.

The renders go through the real resvg and the real OpenMoji wheel (the
``openmoji`` extra, which `make install` installs); nothing is faked but the
absence of the extra in the last tests, which is what ``sys.modules[name] =
None`` means to Python's import system.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sketch2color.config import params_from_dict
from sketch2color.data.fetch import fetch
from sketch2color.data.fetch.openmoji import (
    EXCLUDED_EXTRA,
    EXCLUDED_FLAG,
    EXCLUDED_KEYCAP,
    EXCLUDED_SKIN_TONE,
    EXCLUDED_SUBDIVISION,
    Emoji,
    Rendered,
    color_fraction,
    exclusion,
    line_art_stylesheet,
    recolored_twins,
    render_pair,
    spread_subset,
    variant_group,
)
from sketch2color.data.split import RawFile, assign_splits
from sketch2color.paths import ProjectPaths

REPO = Path(__file__).resolve().parents[1]

# A red disc with a black outline: the colour layer and the line layer of one drawing,
# plus a skin layer, as OpenMoji lays them out.
SVG = """<svg id="emoji" viewBox="0 0 72 72" xmlns="http://www.w3.org/2000/svg">
  <g id="color"><circle cx="36" cy="36" r="20" fill="#D22F27"/></g>
  <g id="skin"><rect x="4" y="4" width="10" height="10" fill="#FCEA2B"/></g>
  <g id="skin-shadow"/>
  <g id="line"><circle cx="36" cy="36" r="20" fill="none" stroke="#000000" stroke-width="3"/></g>
</svg>"""


def emoji(code: str) -> Emoji:
    return Emoji(code, Path(f"{code}.svg"))


def test_the_sketch_is_the_line_layer_alone_at_the_same_geometry():
    color, sketch = render_pair(SVG, 72)
    assert color.shape == sketch.shape == (72, 72, 3)
    red = (color[..., 0] > 150) & (color[..., 1] < 80) & (color[..., 2] < 80)
    assert red[36, 36] and red.sum() > 800  # the filled disc
    assert color[8, 8].tolist() == [252, 234, 43]  # the skin layer is in the colour image
    # The sketch: the outline where the colour image has it, no fill, no skin, white paper.
    assert sketch[36, 36].tolist() == [255, 255, 255]
    assert sketch[8, 8].tolist() == [255, 255, 255]
    chroma = sketch.max(axis=-1).astype(int) - sketch.min(axis=-1)
    assert chroma.max() == 0  # nothing coloured survives
    ring = sketch[36, 36 + 20]  # on the circle's stroke
    assert ring.max() < 60
    assert np.array_equal(sketch[36, 16] < 60, color[36, 16] < 60)  # the same outline in both


def test_only_color_layers_are_hidden():
    css = line_art_stylesheet(SVG)
    assert css == "#color, #skin, #skin-shadow { display: none; }"
    assert "line" not in css


@pytest.mark.parametrize(
    "code, rule",
    [
        ("1F1E9-1F1EA", EXCLUDED_FLAG),
        ("1F1E6", EXCLUDED_FLAG),
        ("1F3F4-E0067-E0062-E0065-E006E-E0067-E007F", EXCLUDED_SUBDIVISION),
        ("0023-FE0F-20E3", EXCLUDED_KEYCAP),
        ("E000", EXCLUDED_EXTRA),
        ("F8FF", EXCLUDED_EXTRA),
        ("1F44D-1F3FD", EXCLUDED_SKIN_TONE),
        ("1F9D1-1F3FB-200D-1F692", EXCLUDED_SKIN_TONE),
        ("1F600", None),
        ("1F46E-200D-2640-FE0F", None),
        ("1F3F3-FE0F-200D-1F308", None),  # the rainbow flag is drawn with its stripes
    ],
)
def test_exclusions(code, rule):
    assert exclusion(emoji(code), "exclude") == rule


def test_skin_tones_can_be_kept():
    assert exclusion(emoji("1F44D-1F3FD"), "include") is None


def test_variants_of_one_drawing_share_a_group():
    police = {
        variant_group(emoji(c))
        for c in (
            "1F46E",
            "1F46E-200D-2642-FE0F",
            "1F46E-200D-2640-FE0F",
            "1F46E-1F3FB",
            "1F46E-1F3FF-200D-2640-FE0F",
        )
    }
    firefighter = {
        variant_group(emoji(c)) for c in ("1F9D1-200D-1F692", "1F468-200D-1F692", "1F469-1F3FD-200D-1F692")
    }
    assert police == {"1F46E"} and firefighter == {"1F9D1-200D-1F692"}
    assert variant_group(emoji("1F600")) != variant_group(emoji("1F601"))


def test_split_keeps_each_group_in_one_split():
    params = params_from_dict({"seed": 3, "split": {"val_fraction": 0.2, "test_fraction": 0.2}})
    files = [RawFile(Path(f"train/{g}-{v}.png"), f"train/{g}-{v}.png") for g in range(30) for v in range(5)]
    groups = {f.name: f.name.split("-")[0] for f in files}
    assigned = assign_splits({"train": files, "val": []}, params, groups)
    where = {}
    for split, members in assigned.items():
        for member in members:
            where.setdefault(groups[member.name], set()).add(split)
    assert all(len(splits) == 1 for splits in where.values())
    assert {len(assigned[s]) for s in ("val", "test")} == {30}  # the fractions, in whole groups
    assert sum(len(m) for m in assigned.values()) == 150
    without = assign_splits({"train": files, "val": []}, params)
    assert {len(without[s]) for s in ("val", "test")} == {30}
    assert any(
        len({s for s, m in without.items() for f in m if groups[f.name] == g}) > 1
        for g in set(groups.values())
    )  # without groups, variants do scatter


def test_emoji_with_nothing_to_color_are_recognised():
    sketch = np.full((40, 40, 3), 255, np.uint8)
    sketch[10:30, 10] = 0
    colored = sketch.copy()
    colored[12:28, 12:28] = (210, 40, 40)
    assert color_fraction(sketch, sketch) == 0.0
    assert color_fraction(colored, sketch) == pytest.approx(16 * 16 / 1600)


def rendered(code: str, lines: str, color: tuple[int, int, int]) -> Rendered:
    return Rendered(emoji(code), b"png", 0.1, 0.1, lines, np.full((64, 64, 3), color, np.uint8))


def test_the_same_lines_in_other_colors_are_left_out_and_true_duplicates_share_a_group():
    items = [
        rendered("1F534", "circle", (220, 40, 40)),  # red circle
        rendered("1F535", "circle", (40, 80, 220)),  # blue circle: same lines, other colour
        rendered("1F468-200D-1F469-200D-1F466", "family", (250, 230, 40)),
        rendered("1F46A", "family", (250, 230, 40)),  # the same drawing and colours, another code
        rendered("1F600", "grin", (250, 230, 40)),
    ]
    twins, merged = recolored_twins(items)
    assert twins == {"1F534", "1F535"}
    assert merged == {variant_group(emoji("1F46A")): variant_group(emoji("1F468-200D-1F469-200D-1F466"))}


def test_spread_subset_spans_the_list():
    assert spread_subset(list(range(100)), 5) == [0, 25, 50, 74, 99]
    assert spread_subset([1, 2], None) == [1, 2]


def openmoji_params(**openmoji):
    return params_from_dict(
        {"fetch": {"source": "openmoji", "openmoji": {"size": 64, "workers": 2, **openmoji}}}
    )


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_fetch_writes_pairs_groups_and_attribution_deterministically(tmp_path):
    first, second = ProjectPaths(tmp_path / "a"), ProjectPaths(tmp_path / "b")
    report = fetch(openmoji_params(limit=12), first)
    fetch(openmoji_params(limit=12, workers=1), second)
    assert digests(first.raw) == digests(second.raw)  # worker count does not change a byte
    assert report.counts == {"train": 12}
    pairs = sorted((first.raw / "train").glob("*.png"))
    assert len(pairs) == 12
    groups = json.loads(first.pair_groups.read_text())
    assert set(groups) == {f"train/{p.name}" for p in pairs}
    written = json.loads(first.fetch_report.read_text())
    assert written["attribution"]["license"] == "CC BY-SA 4.0"
    assert "OpenMoji" in written["attribution"]["notice"]
    assert written["excluded"][EXCLUDED_SKIN_TONE] > 1000  # counted, not listed one by one
    assert {EXCLUDED_FLAG, EXCLUDED_KEYCAP, EXCLUDED_EXTRA} <= set(written["excluded"])
    assert written["skipped"] == []


MISSING_EXTRA = """
import sys
sys.modules["resvg_py"] = None  # what Python's import system reads as "not installed"
from sketch2color.stage_runner import run_stage
run_stage("sketch2color.pipeline.fetch:run")
"""


def test_a_missing_extra_is_one_error_line_naming_the_install_command(tmp_path):
    (tmp_path / "params.yaml").write_text("fetch:\n  source: openmoji\n")
    result = subprocess.run(
        [sys.executable, "-c", MISSING_EXTRA], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: fetch.source is 'openmoji' but resvg-py is not installed: run pip install -e '.[openmoji]'"
    ], result.stderr
    assert not (tmp_path / "data" / "raw").exists()
