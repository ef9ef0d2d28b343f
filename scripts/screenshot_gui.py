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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # gui_screen: Xvfb and grabbing

from gui_screen import capture_window, virtual_display

from sketch2color.errors import Sketch2ColorError
from sketch2color.gui import ColorizerApp, open_window


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


def take_screenshot(model_path: Path | None, sketch_path: Path, out: Path, timeout: float = 300.0) -> Path:
    """Open a sketch, colourise it and save a picture of the window, on a private Xvfb display."""
    with virtual_display() as screen:
        root = open_window(screen)
        app = None
        try:
            app = ColorizerApp(root, model_path)
            if not app.wait_until_idle(timeout) or app.backend is None:
                raise Sketch2ColorError(f"the model did not load: {app.last_error}")
            if not app.open_sketch(sketch_path):
                raise Sketch2ColorError(app.last_error or f"cannot open {sketch_path}")
            app.colorize()
            if not app.wait_until_idle(timeout) or app.result is None:
                raise Sketch2ColorError(f"colourising failed: {app.last_error}")
            return capture_window(root, out, screen)
        finally:
            app.close() if app else root.destroy()


def synthetic_sketch(path: Path, index: int, size: int = 256) -> Path:
    """The sketch half of the embedded default data's pair ``index`` (seed 42)."""
    from sketch2color.data.synthetic import generate_pair
    from sketch2color.image_io import write_rgb

    write_rgb(generate_pair(index, seed=42, height=size)[:, size:], path)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
