"""Every fill colour of the procedural scenes, named by the sketch cue that decides it.

One fixed RGB value per (region or shape, visible variant), never a random
one: colour must follow from the lines for the model to learn it (the table
in the package docstring lists which cue picks which entry), and fixed
values keep the same seed giving the same file bytes.
"""

from __future__ import annotations

RGB = tuple[int, int, int]

PALETTE: dict[str, RGB] = {
    "sky_top": (62, 126, 218),
    "sky_horizon": (168, 214, 246),
    "grass_far": (128, 200, 88),
    "grass_near": (62, 150, 58),
    "soil": (150, 102, 58),
    "pebble": (170, 164, 152),
    "sun_straight_rays": (255, 214, 40),
    "sun_triangle_rays": (255, 138, 28),
    "star": (240, 186, 30),
    "cloud": (252, 252, 255),
    "rain_cloud": (160, 168, 184),
    "mountain": (134, 122, 172),
    "snow": (246, 248, 255),
    "house_brick": (186, 68, 50),
    "roof_brick": (92, 94, 112),
    "house_wood": (168, 112, 60),
    "roof_wood": (198, 46, 44),
    "house_plain": (246, 226, 168),
    "roof_plain": (58, 98, 178),
    "window": (176, 222, 246),
    "door": (108, 64, 34),
    "trunk": (122, 78, 42),
    "pine_two_tiers": (28, 104, 56),
    "pine_three_tiers": (150, 196, 48),
    "canopy_apples": (56, 150, 70),
    "apple": (228, 40, 40),
    "canopy_autumn": (236, 146, 44),
    "stem": (64, 146, 58),
    "petals_round": (246, 112, 172),
    "petals_long": (150, 92, 216),
    "flower_centre": (252, 206, 50),
    "water": (72, 150, 224),
    "fish_striped": (252, 132, 28),
    "fish_plain": (214, 44, 72),
}
