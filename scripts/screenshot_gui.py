"""Retake docs/gui.png: the desktop window with a sketch and its colourised result.

Runs the real window on a private Xvfb display (Debian package ``xvfb``), so it
works on a headless machine and never disturbs a desktop:

    python scripts/screenshot_gui.py --model models/generator.keras \
        --sketch SKETCH.png --out docs/gui.png

Without --model the window picks the model as ``sketch2color gui`` does (the
fastest export in models/export/, else models/generator.keras). Without
--sketch it opens the sketch half of a synthetic scene (the embedded default
data; --scene picks which), so the picture is reproducible with no files.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from sketch2color.errors import Sketch2ColorError
from sketch2color.gui import take_screenshot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help=".keras, .tflite or SavedModel folder")
    parser.add_argument(
        "--sketch", type=Path, help="the sketch to open and colourise (default: a synthetic scene's sketch)"
    )
    parser.add_argument("--scene", type=int, default=7, help="synthetic scene index (default: 7)")
    parser.add_argument("--out", type=Path, default=Path("docs/gui.png"), help="PNG to write")
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            sketch = args.sketch or synthetic_sketch(Path(scratch) / "sketch.png", args.scene)
            print(take_screenshot(args.model, sketch, args.out))
    except Sketch2ColorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def synthetic_sketch(path: Path, index: int, size: int = 256) -> Path:
    """The sketch half of the embedded default data's pair ``index`` (seed 42)."""
    from sketch2color.colorize import save_rgb
    from sketch2color.data.synthetic import generate_pair

    save_rgb(generate_pair(index, seed=42, height=size)[:, size:], path)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
