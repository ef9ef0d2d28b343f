"""The embedded default dataset: procedural cartoon scenes in the Kaggle pair format.

Why procedural: a new user with no data still gets a real run of every stage,
and a short CPU training visibly learns something. That only works if the
colour follows from the lines, so every colour here is decided by something
the sketch shows:

=============  =====================================  ==========================
region / kind  visible cue in the sketch              colour
=============  =====================================  ==========================
sky            above the drawn horizon line           blue, deeper towards the top
grass          below the horizon line                 green, darker towards the front
soil           below a second wavy line               brown (with outlined pebbles)
sun            straight line rays                     yellow
sun            triangular rays                        orange
star           five-pointed outline                   gold
cloud          puffy outline, no rain                 white
cloud          puffy outline with rain streaks        grey
mountain       peak on the horizon, zigzag snow line  lavender, white snow cap
house          horizontal brick courses               brick red, slate roof
house          vertical planks                        wood brown, red roof
house          plain wall, round gable window         cream, blue roof
pine tree      two wide tiers                         dark green
pine tree      three narrow tiers                     yellow-green
round tree     apples drawn on the canopy             green canopy, red apples
round tree     curls drawn on the canopy              autumn orange
flower         round petals                           pink
flower         long pointed petals                    purple
pond           ellipse with wave marks                water blue
fish           two stripes across the body            orange
fish           plain body with a fin line             red
=============  =====================================  ==========================

Fills carry a mild top-to-bottom shading; birds and grass tufts are lines that
change no colour, so the model also learns that not every line means a fill.

The scene is planned in unit coordinates (fractions of the square half) by
:func:`plan_scene` and drawn by :func:`render_scene`, so one seed and index give
the same scene at every size. The sketch strokes are drawn identically on both
halves (dark outlines on top of the fills, as in anime colour art), so each
sketch line lies pixel-exactly on a colour edge. Every pair draws its own
random generator from ``(seed, index)``: pairs can be made in any order, by any
number of processes, and the bytes written never depend on the worker count.

One module per job:

* :mod:`.palette` - the fill colours, named by the cue that picks them;
* :mod:`.geometry` - point lists and boxes in unit coordinates;
* :mod:`.painter` - line-art rendering on both halves at once;
* :mod:`.background` - the sky, grass and soil regions and their lines;
* :mod:`.sky` and :mod:`.ground` - the objects and their variants;
* :mod:`.scene` - planning: every random choice of a pair;
* :mod:`.compose` - a scene drawn as one pair, and its PNG bytes;
* :mod:`.writer` - the fetch stage's parallel writer.
"""

from sketch2color.data.synthetic.background import Background
from sketch2color.data.synthetic.compose import generate_pair, render_scene
from sketch2color.data.synthetic.ground import Fish, Flower, House, PineTree, Pond, RoundTree
from sketch2color.data.synthetic.palette import PALETTE
from sketch2color.data.synthetic.scene import Scene, plan_scene
from sketch2color.data.synthetic.sky import Cloud, Sun
from sketch2color.data.synthetic.writer import write_synthetic_dataset

__all__ = [
    "PALETTE",
    "Background",
    "Cloud",
    "Fish",
    "Flower",
    "House",
    "PineTree",
    "Pond",
    "RoundTree",
    "Scene",
    "Sun",
    "generate_pair",
    "plan_scene",
    "render_scene",
    "write_synthetic_dataset",
]
