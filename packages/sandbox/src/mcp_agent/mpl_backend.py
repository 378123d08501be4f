"""A matplotlib backend whose ``plt.show()`` returns each open figure to the client as an image.

Chosen by ``mpl_hook`` when the code imports matplotlib (``module://mcp_agent.mpl_backend``).
Drawing is Agg's; only ``show`` differs: it sends the figures and closes them, as a notebook does,
so that a second ``plt.show()`` sends only what was drawn since. At the end of a run the executor
sends what is still open the same way (``show_open_figures``), as a notebook's inline backend does
after a cell: a figure closed with ``plt.close()`` is gone, one already shown is not sent again.
"""

from __future__ import annotations

import sys
from typing import Any

from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import FigureManagerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg

FigureCanvas = FigureCanvasAgg
FigureManager = FigureManagerBase


def _send_all(who: str) -> None:
    from mcp import runtime

    try:
        for manager in Gcf.get_all_fig_managers():
            try:
                runtime.show_image(manager.canvas.figure)
            except (ValueError, runtime.MCPError) as exc:
                # A figure that cannot be returned must not fail the script: say so instead.
                print("%s: figure %s not returned: %s" % (who, manager.num, exc), file=sys.stderr)
    finally:
        Gcf.destroy_all()


def show(*args: Any, **kwargs: Any) -> None:
    _send_all("plt.show()")


def show_open_figures() -> None:
    """The figures pyplot still holds, sent as ``plt.show()`` would (the end of a run)."""
    if Gcf.get_all_fig_managers():
        _send_all("a figure left open at the end of the run")
