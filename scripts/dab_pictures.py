"""A figure for the docs: sketches coloured without and with an artist's dabs, side by side.

    python scripts/dab_pictures.py OUT.png FOLDER [FOLDER ...] [--model PATH] [--width 1200]

Each FOLDER holds ``sketch.png`` and ``dabs.png`` (RGBA, as
``scripts/drawn_line_art.py`` writes them). One row per folder: the sketch
with its dabs drawn over it, the picture without dabs, the picture with
them, each coloured at the sketch's own size through the inference layer
(the model ``colorize`` would use, or ``--model``), then scaled to fit the
figure's width.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--model", help="a model file, folder or models:/ URI (default: colorize's choice)")
    parser.add_argument("--width", type=int, default=1200, help="the figure's width in pixels")
    args = parser.parse_args()

    from sketch2color.data.images import load_rgba, read_sketch, resize_rgb
    from sketch2color.inference.colorizer import color_sketches
    from sketch2color.inference.selection import Settings
    from sketch2color.model_choice import choose_model
    from sketch2color.paths import ProjectPaths

    settings = Settings()
    backend = choose_model(args.model, ProjectPaths(Path.cwd()), None, print, settings.inference_mode)
    rows = []
    for folder in args.folders:
        sketch = read_sketch(folder / "sketch.png", settings.max_image_pixels)
        dabs = load_rgba(folder / "dabs.png", settings.max_image_pixels)
        plain, dabbed = color_sketches(backend, [sketch, sketch], [None, dabs])
        alpha = dabs[..., 3:] / 255.0
        shown = np.rint(sketch * (1 - alpha) + dabs[..., :3] * alpha).astype(np.uint8)
        row = np.hstack([shown, plain.picture(), dabbed.picture()])
        height = round(row.shape[0] * args.width / row.shape[1])
        rows.append(resize_rgb(row, height, args.width))
    figure = np.vstack([np.vstack([row, np.full((6, args.width, 3), 255, np.uint8)]) for row in rows])
    cv2.imwrite(str(args.out), cv2.cvtColor(figure, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])


if __name__ == "__main__":
    main()
