"""Retake the README's pictures of the desktop window: a sketch with dabs, its colours, at a screen size.

Runs the real window on a private Xvfb display (Debian package ``xvfb``), so it
works on a headless machine and never disturbs a desktop:

    python scripts/screenshot_gui.py --model models/generator.keras --openmoji 1F3E0 \
        --hint 900,1200,#ea5a47 --hint 1000,700,#f4aa41 --size 1024x600 --out docs/gui.png

The sketch is ``--sketch FILE``, or an OpenMoji emoji's line art rendered at
``--side`` px (``--openmoji HEXCODE``, the openmoji extra), or else the sketch
half of a synthetic scene. Each ``--hint X,Y,#RRGGBB`` is a dab in sketch
pixels, painted with the window's own brush. ``--zoom`` zooms in on the
first dab after colouring. Without --model the window finds the model as
``sketch2color gui`` does.
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
from sketch2color.inference.user_hints import Dab, parse_dab


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a model file, folder or registered model URI")
    parser.add_argument("--sketch", type=Path, help="the sketch to open")
    parser.add_argument("--openmoji", metavar="HEXCODE", help="an OpenMoji emoji's line art, e.g. 1F3E0")
    parser.add_argument("--side", type=int, default=2048, help="the OpenMoji render's side (default 2048)")
    parser.add_argument("--scene", type=int, default=7, help="synthetic scene index (default: 7)")
    parser.add_argument("--hint", action="append", default=[], metavar="X,Y,#RRGGBB", help="a dab")
    parser.add_argument("--brush", type=int, default=24, help="the brush in screen pixels (default 24)")
    parser.add_argument("--reference", type=Path, help="a picture to show in the panel")
    parser.add_argument("--zoom", type=float, default=1.0, help="zoom in this much on the first dab")
    parser.add_argument("--size", default="1024x600", help="the window's size (default 1024x600)")
    parser.add_argument("--out", type=Path, default=Path("docs/gui.png"), help="PNG to write")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    try:
        dabs = [parse_dab(text) for text in args.hint]
        with tempfile.TemporaryDirectory() as scratch:
            sketch = args.sketch or make_sketch(Path(scratch) / "sketch.png", args)
            print(take_screenshot(args.model, sketch, dabs, args, (width, height)))
    except Sketch2ColorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def take_screenshot(model, sketch_path: Path, dabs: list[Dab], args, size: tuple[int, int]) -> Path:
    """Open, dab, colour and photograph the window, on a private Xvfb display of ``size``."""
    timeout = 300.0
    with virtual_display(*size) as screen:
        root = open_window(screen)
        root.geometry(f"{size[0]}x{size[1]}+0+0")
        app = None
        try:
            app = ColorizerApp(root, model)
            if not app.wait_until_idle(timeout) or app.backend is None:
                raise Sketch2ColorError(f"the model did not load: {app.last_error}")
            if not app.open_sketch(sketch_path):
                raise Sketch2ColorError(app.last_error or f"cannot open {sketch_path}")
            if args.reference and not app.open_reference(args.reference):
                raise Sketch2ColorError(app.last_error or f"cannot open {args.reference}")
            app.panel.brush.set(args.brush)
            for dab in dabs:
                app.set_hint_color(dab.color)
                app.paint_at(dab.x, dab.y)
            app.colorize()
            if not app.wait_until_idle(timeout) or app.result is None:
                raise Sketch2ColorError(f"colourising failed: {app.last_error}")
            if dabs and args.zoom != 1.0:
                x, y = app.sketch_view.screen_point(dabs[0].x, dabs[0].y)
                app.zoom(args.zoom, app.sketch_view, x, y)
            app.root.update()
            return capture_window(root, args.out, screen)
        finally:
            app.close() if app else root.destroy()


def make_sketch(path: Path, args) -> Path:
    from sketch2color.image_io import write_rgb

    if args.openmoji:
        from sketch2color.data.fetch.openmoji import package_svg_folder, render_pair

        folder, _ = package_svg_folder()
        svg = next(folder.rglob(f"{args.openmoji.upper()}.svg"), None)
        if svg is None:
            raise Sketch2ColorError(f"--openmoji {args.openmoji}: no such emoji in {folder}")
        write_rgb(render_pair(svg.read_text(encoding="utf-8"), args.side)[1], path)
        return path
    from sketch2color.data.synthetic import generate_pair

    write_rgb(generate_pair(args.scene, seed=42, height=256)[:, 256:], path)
    return path


if __name__ == "__main__":
    raise SystemExit(main(argv=None))
