"""The user's dabs on the flat colour: each dab fills the region it was put in, and nothing else.

Given the regions (:mod:`.regions`) and the model's flat colour, at the
regions' working size:

* **A dab inside the drawing fills its region.** A dab is a blob of hint
  pixels (:func:`sketch2color.pixels.hint_mask`); it belongs to the region
  under its centre, where the artist clicked (or, on a line, the one holding
  most of it), and what it covers beyond that region is ignored, so a brush
  wider than a leaf or an eye colours the leaf, not the page around it. Dabs of several colours in one
  region split it along the lines inside it: a marker watershed on the
  lines' darkness (scikit-image), the same algorithm as Krita's Colorize
  Mask, restricted to that region.
* **Regions without a dab** follow :data:`FillRule`:

  - ``model`` (the default): the model's colour, as PaintsChainer leaves them;
    except that a region whose model colour is the model colour of a dabbed
    region (within :data:`SAME_MODEL_COLOR`) takes that dab's colour too: the
    model said they are alike, the dab said what colour that is;
  - ``nearest``: the colour of the dab nearest across the weakest boundary,
    as Krita's Colorize Mask does: a marker watershed over the distance from
    the lines, from the dabs. On held-out OpenMoji it scores a little better
    with one dab and worse with ten (docs/hints.md), and it floods regions
    that lines clearly separate from every dab, which artists do not want
    from a default.
* **Solid ink keeps the model's colour**: a dab's colour reaches under a
  line's soft edge, but not into a block of ink or colour in the sketch
  (:data:`SOLID_INK`).
* **The paper around the drawing stays paper.** The background region keeps
  the model's colour where it is not near white, and is paper where it is
  (:data:`PAPER_TINT`): the model's faint tint on the page is gone, and so is
  a dab's colour that a hint model spread onto the page beyond where the
  dab's fill reaches (:data:`DAB_ECHO`). A dab on
  the background colours its basin, up to where the flood from the page
  border meets it (a watershed over the distance from the lines, so at the
  narrowest point of an opening), and the connected pixels that the model
  painted in the same colour as under the dab (:data:`MODEL_COLOR_TOLERANCE`):
  a shape that the lines leave open (a shirt open at the bottom) takes the
  dab as far as the model coloured it, never the paper. A dab put where the
  model painted paper colours the room it is in (:class:`_OpenPage`), unless
  that room reaches the sketch's border: then it is the page itself, and the
  dab takes only its basin, up to where the flood from the border meets it.

Measured on held-out OpenMoji with evaluate's dabs (docs/hints.md).
"""

from __future__ import annotations

from typing import Literal, get_args

import cv2
import numpy as np

from sketch2color.inference.regions import Regions
from sketch2color.pixels import hint_mask

FillRule = Literal["model", "nearest"]
FILL_RULES: tuple[str, ...] = get_args(FillRule)
DEFAULT_FILL_RULE: FillRule = "model"
PAPER_TINT = 40.0
"""A colour this close to white (CIELAB distance) on the background is the model's tint: it is paper."""
SAME_MODEL_COLOR = 12.0
"""Two regions whose mean model colours are closer than this (CIELAB distance) are alike to the model."""
MODEL_COLOR_TOLERANCE = 20
"""How far (in each 8-bit CIELAB channel) a background dab's flood follows the model's colour."""
DAB_ECHO = 30.0
"""A colour on the page this close (CIELAB distance) to a dab's, nearer it than white, and not where the
dab's fill went, is the model echoing the dab: it becomes paper (:func:`_drop_echoes`)."""
PAGE_ROOM = 2.0
"""A dab on the paper colours the paper reached through openings this many times the gap's width
and twice as wide (:class:`_OpenPage`)."""
SOLID_INK = 4.0
"""Working pixels into the ink beyond which it is a solid area (spot black, a block of colour in the
sketch), not a line's edge: it keeps the model's colour instead of a dab's."""


FloodCache = dict[tuple[int, int, int, int, int], tuple[tuple[slice, slice], np.ndarray]]
"""A background dab's flood by its seed pixel and colour: it depends on nothing else but the regions
and the model's colour, so the GUI keeps them between dabs while those stay (a new dab adds one)."""


def fill_dabs(
    regions: Regions,
    flat: np.ndarray,
    hints: np.ndarray | None,
    rule: FillRule = DEFAULT_FILL_RULE,
    floods: FloodCache | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(the flat colour with the dabs filled in, where it is paper); all at the regions' working size.

    ``flat`` is the model's colour (RGB), ``hints`` the user's RGBA dabs, both at the working size;
    ``floods`` keeps the background dabs' floods for the next call with the same regions and colour.
    """
    labels, background = regions.labels, regions.background
    lab = cv2.cvtColor(flat, cv2.COLOR_RGB2LAB).astype(np.float32)
    to_white = _lab_distance(lab, WHITE_LAB)
    on_background = background[labels]
    out = flat.copy()
    out[on_background & (to_white < PAPER_TINT)] = 255
    marked = hint_mask(hints) if hints is not None else None
    if marked is None or not marked.any():
        return out, _paper(out, on_background)
    assert hints is not None
    marked = _in_their_regions(regions, marked)
    dab_ids, colors = _dab_ids(hints, marked)
    markers = _region_markers(regions, dab_ids, marked)
    first_dab = regions.count + 2  # 1..count: the cores of regions without a dab; count + 1: the border
    if rule == "nearest":
        markers = _nearest_dabs(regions, markers, first_dab)
    # Inside the drawing the regions decide: a dabbed region is its dabs' (split along its lines), any
    # other keeps its own number. Only on the page do the dabs and the page's border compete for the
    # pixels, in a marker watershed over the distance from the lines (scikit-image's), restricted to it.
    basins = np.where(on_background, 0, labels)
    placed = ~on_background & (markers >= first_dab)
    basins[placed] = markers[placed]
    page_markers = np.where(on_background & (markers >= first_dab), markers, 0)
    if page_markers.any():
        from skimage.segmentation import watershed

        frame = np.zeros(labels.shape, bool)
        frame[0], frame[-1], frame[:, 0], frame[:, -1] = True, True, True, True
        page_markers[frame & on_background & (page_markers == 0)] = regions.count + 1
        flooded = watershed(-regions.distance, page_markers, mask=on_background)
        basins[on_background] = flooded[on_background]
    is_dab = basins >= first_dab
    out[is_dab] = colors[basins[is_dab] - first_dab]
    if rule == "model":
        _same_model_color(regions, lab, basins, first_dab, colors, out)
    taken = is_dab | _background_dabs(
        regions, lab, to_white, marked, hints, out, {} if floods is None else floods
    )
    _drop_echoes(lab, to_white, on_background & ~taken, colors, out)
    solid = regions.ink_depth > SOLID_INK
    out[solid] = flat[solid]
    return out, _paper(out, on_background)


WHITE_LAB = np.array([255.0, 128.0, 128.0], np.float32)
"""White in OpenCV's 8-bit CIELAB."""


def _lab_of(color: np.ndarray) -> np.ndarray:
    """One RGB uint8 colour in OpenCV's 8-bit CIELAB, (1, 3) float32."""
    return cv2.cvtColor(np.asarray(color, np.uint8).reshape(1, 1, 3), cv2.COLOR_RGB2LAB)[0].astype(np.float32)


def _lab_distance(lab: np.ndarray, color: np.ndarray) -> np.ndarray:
    """CIELAB distance (OpenCV's 8-bit Lab, L scaled back to 0..100) from each pixel to ``color``."""
    difference = lab - color
    difference[..., 0] *= 100.0 / 255.0
    return np.sqrt((difference**2).sum(axis=-1))


def _paper(out: np.ndarray, on_background: np.ndarray) -> np.ndarray:
    return on_background & (out == 255).all(axis=-1)


def _dab_ids(hints: np.ndarray, marked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each hint pixel's colour index, 0 elsewhere; the colours, (k, 3) uint8)."""
    rgb = hints[..., :3][marked].astype(np.int64)
    keys = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    unique, index = np.unique(keys, return_inverse=True)
    ids = np.zeros(marked.shape, np.int32)
    ids[marked] = index + 1
    colors = np.stack([(unique >> 16) & 255, (unique >> 8) & 255, unique & 255], axis=1).astype(np.uint8)
    return ids, colors


def _in_their_regions(regions: Regions, marked: np.ndarray) -> np.ndarray:
    """The hint pixels of each dab that lie in its region: the region under the dab's centre (where the
    artist clicked), or, where that is a line, the one holding most of the dab off the lines. A brush
    wider than a small shape (a leaf, an eye) colours the shape, and what it covers beyond stays as it
    was; the page's regions count as one."""
    labels = np.where(regions.background[regions.labels], 0, regions.labels)  # 0: the page
    blobs, blob_labels, stats, centroids = cv2.connectedComponentsWithStats(
        marked.astype(np.uint8), connectivity=8
    )
    owner = np.full(blobs, -1, np.int64)
    for blob in range(1, blobs):
        x, y = (int(round(v)) for v in centroids[blob])
        if blob_labels[y, x] == blob and not regions.walls[y, x]:
            owner[blob] = labels[y, x]
            continue
        left, top, width, height = stats[blob, :4]
        box = (slice(top, top + height), slice(left, left + width))
        here = (blob_labels[box] == blob) & ~regions.walls[box]
        candidates = labels[box][here] if here.any() else labels[box][blob_labels[box] == blob]
        owner[blob] = np.bincount(candidates).argmax()
    keep = (owner[blob_labels] == labels) | regions.walls
    return marked & keep & (blob_labels > 0)


def _region_markers(regions: Regions, dab_ids: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """Markers for the dabs: the whole of each dabbed region inside the drawing (split between its
    dabs' colours along its lines), the dab's own pixels on the background."""
    labels, count, first_dab = regions.labels, regions.count, regions.count + 2
    markers = np.zeros(labels.shape, np.int32)
    dabbed = np.zeros(count + 1, bool)
    dabbed[np.unique(labels[marked & ~regions.walls])] = True
    dabbed[0] = False
    for region in np.flatnonzero(dabbed & ~regions.background):
        rows, columns = np.nonzero(labels == region)
        window = (slice(rows.min(), rows.max() + 1), slice(columns.min(), columns.max() + 1))
        inside = labels[window] == region
        ids = np.where(inside, dab_ids[window], 0)
        present = np.unique(ids[ids > 0])
        if len(present) == 0:  # its dab's pixels all lie on a line of another region
            dabbed[region] = False
            continue
        if len(present) == 1:
            markers[window][inside] = first_dab + present[0] - 1
            continue
        from skimage.segmentation import watershed

        split = watershed(regions.ink[window], ids, mask=inside)
        markers[window][inside] = first_dab + split[inside] - 1
    on_background = marked & regions.background[labels]
    markers[on_background] = first_dab + dab_ids[on_background] - 1
    return markers


def _nearest_dabs(regions: Regions, markers: np.ndarray, first_dab: int) -> np.ndarray:
    """Krita's rule: every region inside the drawing takes the dab nearest across its weakest boundary."""
    from skimage.segmentation import watershed

    inside = ~regions.background[regions.labels]
    seeds = np.where(inside & (markers >= first_dab), markers, 0)
    if not seeds.any():
        return markers
    flooded = watershed(-regions.distance, seeds, mask=inside)
    return np.where(inside, flooded, markers)


def _same_model_color(
    regions: Regions, lab: np.ndarray, basins: np.ndarray, first_dab: int, colors: np.ndarray, out: np.ndarray
) -> None:
    """A region without a dab takes the colour of the dabbed region whose model colour it shares."""
    labels, count = regions.labels, regions.count
    flat_labels = labels.ravel()
    sizes = np.maximum(np.bincount(flat_labels, minlength=count + 1), 1)
    means = np.stack(
        [np.bincount(flat_labels, lab[..., c].ravel(), minlength=count + 1) / sizes for c in range(3)], axis=1
    )
    taken = basins >= first_dab
    if not taken.any():
        return
    dabs = len(colors) + 1
    votes = np.bincount(labels[taken] * dabs + basins[taken] - first_dab + 1, minlength=(count + 1) * dabs)
    votes = votes.reshape(count + 1, dabs)
    dab_of_region = np.where(votes.max(axis=1) > 0, votes.argmax(axis=1), 0)
    # A dab on the page, or in a shape the model left paper-white, says nothing about what else the
    # model painted alike: only dabs in coloured shapes inside the drawing carry over.
    paperlike = _lab_distance(means, WHITE_LAB) < PAPER_TINT
    held = np.flatnonzero((dab_of_region > 0) & ~regions.background & ~paperlike)
    free = np.flatnonzero((dab_of_region == 0) & ~regions.background)
    free = free[free > 0]
    if len(held) == 0 or len(free) == 0:
        return
    distances = np.stack([_lab_distance(means[free], means[h]) for h in held], axis=1)
    nearest = distances.argmin(axis=1)
    close = distances[np.arange(len(free)), nearest] < SAME_MODEL_COLOR
    table = np.zeros(count + 1, np.int64)
    table[free[close]] = dab_of_region[held[nearest[close]]]
    recolored = table[labels] > 0
    out[recolored] = colors[table[labels][recolored] - 1]


def _background_dabs(
    regions: Regions,
    lab: np.ndarray,
    to_white: np.ndarray,
    marked: np.ndarray,
    hints: np.ndarray,
    out: np.ndarray,
    floods: FloodCache,
) -> np.ndarray:
    """A dab on the background also takes the connected pixels the model painted in its colour;
    returns the pixels the dabs took."""
    on_background = regions.background[regions.labels]
    wanted = marked & on_background & ~regions.walls
    taken = np.zeros(wanted.shape, bool)
    if not wanted.any():
        return taken
    blobs, blob_labels, stats, _ = cv2.connectedComponentsWithStats(wanted.astype(np.uint8), connectivity=8)
    blocked = (regions.walls | ~on_background | (to_white < PAPER_TINT)).astype(np.uint8)
    lab8 = np.clip(lab, 0, 255).astype(np.uint8)
    page = (on_background & ~regions.walls & (to_white < PAPER_TINT)).astype(np.uint8)
    open_page: _OpenPage | None = None
    page_floods: dict[int, np.ndarray] = {}
    for blob in range(1, blobs):
        left, top, blob_width, blob_height = stats[blob, :4]
        window = blob_labels[top : top + blob_height, left : left + blob_width] == blob
        rows, columns = np.nonzero(window)
        y, x = int(top + rows[len(rows) // 2]), int(left + columns[len(columns) // 2])
        if page[y, x]:
            color = hints[y, x, :3]
            if _lab_distance(_lab_of(color), WHITE_LAB)[0] < PAPER_TINT:
                continue  # a white dab on the page: the page is paper already
            open_page = open_page or _OpenPage.of(regions, page)
            component = int(open_page.nearest[y, x])
            if open_page.on_border[component]:
                continue  # the page around the drawing itself: the dab's basin is what it takes
            if component not in page_floods:
                flood = open_page.flood(component)
                allowed = (page > 0) & _regions_of(regions.labels, regions.count, flood)
                flood = _up_to_the_lines(flood, allowed, regions.gap)
                page_floods[component] = _under_the_line_edge(flood, regions.walls)
            flood = page_floods[component]
            if not flood[y, x]:
                continue  # a nook no room reaches: the dab's basin is what it takes
            out[flood], taken[flood] = color, True
            continue
        if blocked[y, x]:
            continue  # on a line: its basin is what it takes
        red, green, blue = (int(c) for c in hints[y, x, :3])
        key = (y, x, red, green, blue)
        if key not in floods:
            floods[key] = _model_color_flood(regions, lab8, blocked, on_background, y, x)
        box, grown = floods[key]
        out[box][grown], taken[box][grown] = hints[y, x, :3], True
    return taken


def _model_color_flood(
    regions: Regions, lab8: np.ndarray, blocked: np.ndarray, on_background: np.ndarray, y: int, x: int
) -> tuple[tuple[slice, slice], np.ndarray]:
    """The pixels connected to (y, x) that the model painted in the colour there, grown to the lines,
    as (a box, the flood within it)."""
    height, width = blocked.shape
    tolerance = (MODEL_COLOR_TOLERANCE,) * 3
    mask = np.zeros((height + 2, width + 2), np.uint8)
    mask[1:-1, 1:-1] = blocked
    flags = 8 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
    _, _, _, (left, top, flood_width, flood_height) = cv2.floodFill(
        lab8, mask, (x, y), 0, tolerance, tolerance, flags
    )
    # The rest works in the flood's box, grown by what the growth can add: a small flood costs little.
    pad = _growth_steps(regions.gap) + 3
    box = (
        slice(max(0, top - pad), min(height, top + flood_height + pad)),
        slice(max(0, left - pad), min(width, left + flood_width + pad)),
    )
    flood = mask[1:-1, 1:-1][box] == 255
    labels = regions.labels[box]
    allowed = on_background[box] & ~regions.walls[box] & _regions_of(labels, regions.count, flood)
    grown = _under_the_line_edge(_up_to_the_lines(flood, allowed, regions.gap), regions.walls[box])
    return box, grown


def _regions_of(labels: np.ndarray, count: int, flood: np.ndarray) -> np.ndarray:
    """The pixels of the regions that hold a tenth or more of ``flood``: where it may grow, so that it
    does not spill through a gap into the next region."""
    counts = np.bincount(labels[flood], minlength=count + 1)
    return (counts >= 0.1 * max(1, int(flood.sum())))[labels]


def _growth_steps(gap: float) -> int:
    """How far (working pixels) a flood grows to meet the lines: half the gap, at most 16."""
    return int(np.clip(np.ceil(gap / 2), 1, 16))


def _up_to_the_lines(flood: np.ndarray, allowed: np.ndarray, gap: float) -> np.ndarray:
    """The model's colour stops short of the lines (its small square blurs them): a flood that follows it
    is grown through ``allowed`` pixels by half the gap, so it meets the lines with no white band."""
    grown = cv2.dilate(flood.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=_growth_steps(gap)) > 0
    # One geodesic step would need a loop in Python; a dilation then a reach test costs two OpenCV calls.
    reach, components = cv2.connectedComponents((grown & (allowed | flood)).astype(np.uint8), connectivity=8)
    keep = np.zeros(reach, bool)
    keep[np.unique(components[flood])] = True
    keep[0] = False
    return keep[components] | flood


def _under_the_line_edge(flood: np.ndarray, walls: np.ndarray) -> np.ndarray:
    """``flood`` and the line pixels beside it, so its colour reaches under the lines' soft edge."""
    edge = cv2.dilate(flood.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2) > 0
    return flood | (edge & walls)


def _drop_echoes(
    lab: np.ndarray, to_white: np.ndarray, free: np.ndarray, colors: np.ndarray, out: np.ndarray
) -> None:
    """Paper where a model that sees the dabs echoed a dab's colour onto the page around the drawing,
    outside what the dabs took: the dab said where its colour goes, and the page is not there."""
    free = free & (to_white >= PAPER_TINT)  # the rest of the page is paper already
    if not free.any():
        return
    dab_lab = cv2.cvtColor(colors[None], cv2.COLOR_RGB2LAB)[0].astype(np.float32)
    pixels, white = lab[free], to_white[free]
    nearest = np.min([_lab_distance(pixels, color) for color in dab_lab], axis=0)
    echo = np.zeros(free.shape, bool)
    echo[free] = (nearest < DAB_ECHO) & (nearest < white)
    out[echo] = 255


class _OpenPage:
    """The paper a dab where the model painted paper colours: its room, the paper connected to it
    through openings at least :data:`PAGE_ROOM` times twice the gap wide (a ball of that radius rolls
    through them), unless the room reaches the sketch's border: that is the page around the drawing,
    and the dab takes only its basin. A shape the model left white and whose outline opens onto the
    page is then the dab's, and the page is not: flooding the page from such dabs painted 6% of it
    at 10 dabs on held-out OpenMoji, 0.6% without (docs/hints.md). Found once per picture."""

    def __init__(self, page: np.ndarray, components: np.ndarray, nearest: np.ndarray, radius: int):
        self.page, self.components, self.nearest, self.radius = page, components, nearest, radius
        edges = np.concatenate([components[0], components[-1], components[:, 0], components[:, -1]])
        self.on_border = np.zeros(int(components.max()) + 1, bool)
        self.on_border[np.unique(edges)] = True

    @classmethod
    def of(cls, regions: Regions, page: np.ndarray) -> _OpenPage:
        radius = max(1, round(PAGE_ROOM * regions.gap))
        open_page = (page > 0) & (regions.distance > radius)
        _, components = cv2.connectedComponents(open_page.astype(np.uint8), connectivity=8)
        # Each pixel's nearest open pixel's component: the dab may sit closer to a line than the radius.
        _, nearest = cv2.distanceTransformWithLabels(
            (~open_page).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
        )
        table = np.zeros(int(nearest.max()) + 1, np.int32)
        table[nearest[open_page]] = components[open_page]
        return cls(page, components, table[nearest], radius)

    def flood(self, component: int) -> np.ndarray:
        """The page reached from ``component`` (of :attr:`nearest`: the open component nearest a pixel)."""
        if component == 0:
            return np.zeros(self.page.shape, bool)
        reach = (self.components == component).astype(np.uint8)
        ball = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * self.radius + 1, 2 * self.radius + 1))
        return (cv2.dilate(reach, ball) > 0) & (self.page > 0) | (reach > 0)
