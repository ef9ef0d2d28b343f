"""The page ``dvc plots show`` writes, with Vega inside it, so its curves draw without a network.

DVC's own page loads Vega, Vega-Lite and Vega-Embed from a CDN; offline it
shows the images and none of the curves (the losses, the hint curve). DVC
takes another page template (``plots.html_template`` in ``.dvc/config``,
relative to ``.dvc/``); this module writes one that carries the three
libraries inline, taken from ``vl-convert-python`` (pinned in
pyproject.toml), whose ``javascript_bundle()`` is the Vega-Embed, Vega-Lite
and Vega build Altair uses for offline pages. The bundle is a classic script
that defines ``vegaEmbed``, ``vega`` and ``vegaLite`` globally, which is what
each of DVC's plot blocks calls. The template has no ``{scripts}``
placeholder, so DVC's CDN script tags are never inserted.

The file is made, not committed (about 0.9 MB of generated JavaScript): ``make
install`` writes it to :data:`TEMPLATE` (``python -m sketch2color.plots_page``).
"""

from __future__ import annotations

import sys
from pathlib import Path

TEMPLATE = Path(".dvc") / "offline_plots.html"
"""Where ``make install`` writes it; ``.dvc/config`` names it (as ``offline_plots.html``, from ``.dvc/``)."""

VEGA_LITE = "5.21"
"""The Vega-Lite of the bundle: DVC's plot templates are written for Vega-Lite 5."""

GLOBALS = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"
"""The bundle's own code: the three libraries as the globals DVC's plot blocks call."""

PAGE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>DVC Plot</title>
    <!-- VERSIONS, from vl-convert-python: nothing is loaded from the network -->
    <script type="text/javascript">
BUNDLE
    </script>
    <style>
        table {
            border-spacing: 15px;
        }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def page_template() -> str:
    """The page, with DVC's placeholders ``{refresh_tag}`` and ``{plot_divs}`` left for DVC to fill."""
    import vl_convert

    bundle = vl_convert.javascript_bundle(GLOBALS, vl_version=VEGA_LITE)
    bundle = bundle.replace("</script", "<\\/script")  # would end the inline script early (none today)
    versions = (
        f"Vega {vl_convert.get_vega_version()}, Vega-Lite {VEGA_LITE}, "
        f"Vega-Embed {vl_convert.get_vega_embed_version()}"
    )
    return PAGE.replace("VERSIONS", versions).replace("BUNDLE", bundle)


def write_template(path: Path) -> None:
    from sketch2color import atomic

    atomic.write_bytes(path, page_template().encode("utf-8"))


if __name__ == "__main__":
    write_template(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE)
