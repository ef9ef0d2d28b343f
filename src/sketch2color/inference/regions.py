"""The regions of a drawing, as an artist means them: shapes that the lines close, even through gaps.

Hand-drawn lines have gaps, so "a shape the lines close all round" (a bucket
fill) joins most shapes to the paper. This is a trapped-ball segmentation
(the line filler of style2paints; the gap setting of Clip Studio's and
Krita's fills), built from OpenCV's distance transform and connected
components:

1. **Walls** are the pixels darker than the line threshold
   (:data:`DEFAULT_LINE_DARKNESS`). It is lighter than the model's mid-grey
   line rule (:data:`sketch2color.lineart.LINE_LEVEL`) so that pencil and
   grey strokes are walls too; GIMP's line-art fill uses a lighter one still.
2. **Cores.** A ball of radius gap/2 cannot pass through an opening narrower
   than the gap: the pixels farther than that from every wall fall apart into
   one core per region, split at every gap up to the gap size. The radius is
   then halved, down to one pixel, and each core found at a smaller radius
   that touches no region found before is a new region: the narrow shapes
   (a sleeve, an eye) that the big ball could not enter.
3. **Growth.** Every other pixel, under the lines too, joins the region
   whose core's flood reaches it first, the floods rising from the pixels
   farthest from the lines (a marker watershed over the distance from the
   lines, as Krita's Colorize Mask runs): regions meet on the lines and in
   the middle of closed gaps, and colour reaches under a line's soft edge
   with no white fringe.
4. **The page**: the region along most of the sketch's border is the paper
   around the drawing (with whatever a gap wider than the setting opens onto
   it); a shape that the border cuts is a shape.

Chosen by measurement against a marker watershed alone (Krita's Colorize
Mask without its gap hint) and against the earlier "closed shapes only"
rule, on held-out OpenMoji with 4, 8 and 16 px gaps cut into its lines
(docs/hints.md): the watershed lets a dab flood every region that no other
marker reaches first, across any line; the regions keep a dab inside the
shape it was put in, across gaps. GIMP's closing of gaps between line ends
(Fourey et al. 2018) keeps narrow shapes that a gap opens onto better, but
its skeleton and end-point search costs seconds at 4000 px.

The segmentation depends only on the sketch and the settings, never on the
dabs or the model, so the GUI keeps it between dabs. It runs at a working
size of at most :data:`WORKING_SIDE` pixels, with every line kept by taking
the darkest pixel of each block: the regions' outlines fall under the lines,
where the line art covers them, and time and memory stay bounded at any size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

DEFAULT_LINE_DARKNESS = 64
"""Darkness (255 minus a pixel's darkest channel) from which a pixel is a wall."""
GAP_PER_512_PX = 16
"""The default gap for each 512 px of the sketch's longer side: a gap scales with the drawing."""
WORKING_SIDE = 1024
"""The longest side the regions are found at."""
PAGE_BORDER_SHARE = 0.25
"""A region along this share of the sketch's border or more is page (:func:`_page_regions`)."""
MIN_REGION_AREA = 16
"""Cores smaller than this (working pixels) are specks between strokes, not regions."""


def default_gap(height: int, width: int) -> int:
    """The gap, in the sketch's pixels, closed when the user sets none."""
    return max(2, round(GAP_PER_512_PX * max(height, width) / 512))


@dataclass(frozen=True)
class Regions:
    """A sketch's regions at the working size (``labels.shape``), for a full size of ``size``."""

    labels: np.ndarray  # (h, w) int32: every pixel's region, 1..count (lines too)
    count: int
    background: np.ndarray  # (count + 1,) bool: the page's regions (:func:`_page_regions`)
    distance: np.ndarray  # (h, w) float32: each pixel's distance from the nearest wall
    walls: np.ndarray  # (h, w) bool
    sketch: np.ndarray  # (h, w, 3) uint8: the sketch at the working size, every line kept
    size: tuple[int, int]  # the sketch's (height, width)
    gap: float  # the widest gap closed, in working pixels
    ink_depth: np.ndarray  # (h, w) float32: each wall pixel's distance from the nearest non-wall pixel

    @property
    def ink(self) -> np.ndarray:
        """(h, w) uint8: each working pixel's darkness."""
        return 255 - self.sketch.min(axis=-1)


def working_shape(height: int, width: int) -> tuple[int, int]:
    factor = min(1.0, WORKING_SIDE / max(height, width))
    return max(1, round(height * factor)), max(1, round(width * factor))


def working_sketch(sketch: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The sketch at the working size, each pixel the darkest of the block it covers, so that a thin
    line stays a whole line (an area average would fade it to grey, and a gap would open in it)."""
    if sketch.shape[:2] == shape:
        return sketch
    block = max(1, int(np.ceil(sketch.shape[0] / shape[0])), int(np.ceil(sketch.shape[1] / shape[1])))
    # An erosion by the block's size (the block minimum), then a nearest-neighbour pick, in OpenCV.
    darkest = cv2.erode(sketch, np.ones((block, block), np.uint8))
    return cv2.resize(darkest, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


def find_regions(
    sketch: np.ndarray, gap: float | None = None, line_darkness: int = DEFAULT_LINE_DARKNESS
) -> Regions:
    """The regions of an RGB sketch, closing gaps up to ``gap`` sketch pixels (None: the default)."""
    height, width = sketch.shape[:2]
    gap = default_gap(height, width) if gap is None else gap
    shape = working_shape(height, width)
    working = working_sketch(sketch, shape)
    darkness = 255 - working.min(axis=-1)
    walls = darkness >= line_darkness
    distance = cv2.distanceTransform((~walls).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    scale = shape[0] / height
    cores, count = _trapped_ball_cores(distance, radius=max(1.0, (gap * scale + 1) / 2))
    labels = _grow(cores, distance, walls, darkness) if count else np.ones(shape, np.int32)
    count = max(count, 1)
    background = _page_regions(labels, count)
    ink_depth = cv2.distanceTransform(walls.astype(np.uint8), cv2.DIST_L2, 5)
    return Regions(
        labels, count, background, distance, walls, working, (height, width), gap * scale, ink_depth
    )


def _page_regions(labels: np.ndarray, count: int) -> np.ndarray:
    """Which regions are the page around the drawing: the one with the most of the sketch's border,
    and any other with :data:`PAGE_BORDER_SHARE` of it. A shape the page's edge cuts (a figure's
    shirt running off the bottom) touches the border along one stretch: it is a shape, and a dab
    fills it whole."""
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    contact = np.bincount(edge, minlength=count + 1)
    page = contact >= PAGE_BORDER_SHARE * len(edge)
    page[int(contact.argmax())] = True
    page[0] = False
    return page


def _trapped_ball_cores(distance: np.ndarray, radius: float) -> tuple[np.ndarray, int]:
    """Cores at ``radius`` and every halving of it: (labels, 0 outside any core; their count)."""
    cores = np.zeros(distance.shape, np.int32)
    count = 0
    while True:
        found, components = cv2.connectedComponents((distance > radius).astype(np.uint8), connectivity=8)
        if found > 1:
            taken = np.zeros(found, bool)
            taken[components[cores > 0]] = True
            areas = np.bincount(components.ravel(), minlength=found)
            new = ~taken & (areas >= MIN_REGION_AREA)
            new[0] = False
            numbers = np.zeros(found, np.int32)
            numbers[new] = np.arange(count + 1, count + 1 + int(new.sum()))
            fresh = numbers[components]
            cores = np.where((cores == 0) & (fresh > 0), fresh, cores)
            count += int(new.sum())
        if radius <= 1.0:
            return cores, count
        radius = max(1.0, radius / 2)


def _grow(cores: np.ndarray, distance: np.ndarray, walls: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Every pixel labelled with the core whose flood reaches it first, the floods rising from the
    pixels farthest from the lines (a marker watershed over the negated distance, scikit-image's):
    regions meet on the lines and in the middle of the gaps. A plain nearest-core rule would ignore
    the lines, and hand the strip under a line to a core that lies closer across it."""
    from skimage.segmentation import watershed

    # Inside a line the distance is 0 all across: there the height is the ink's darkness, so the
    # floods climb the line's soft edges from both sides and meet on its darkest middle.
    height = np.where(walls, ink.astype(np.float32) / 255.0, -distance)
    return watershed(height, cores).astype(np.int32)
