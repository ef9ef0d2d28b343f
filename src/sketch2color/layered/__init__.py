"""The coloured picture for paint programs: layered files (OpenRaster, PSD, a folder of PNGs).

An artist shades on top of flat colour or fixes one region in their own
program, under line art that stays untouched, so the picture is also
written as its layers, made by the inference layer
(:meth:`sketch2color.inference.colorizer.Colored.layers`).

* :mod:`.stack` - which layers, what each holds and how they blend; the merged image;
* :mod:`.openraster` - ``.ora`` (Krita, GIMP, MyPaint), with the standard library;
* :mod:`.psd` - ``.psd``, through psd-tools;
* :mod:`.folder` - ``--layers DIR``: one PNG with alpha per layer;
* :mod:`.files` - a result file by its extension, flat or layered, for ``colorize`` and the GUI.
"""

from sketch2color.layered.files import (
    OUTPUT_SUFFIXES,
    OutputNameError,
    check_output_name,
    is_layered,
    write_result,
)
from sketch2color.layered.folder import write_layer_folder
from sketch2color.layered.stack import PaintLayer, composite, paint_stack

__all__ = [
    "OUTPUT_SUFFIXES",
    "OutputNameError",
    "PaintLayer",
    "check_output_name",
    "composite",
    "is_layered",
    "paint_stack",
    "write_layer_folder",
    "write_result",
]
