"""A matplotlib backend whose ``plt.show()`` returns each open figure to the client as an image.

Chosen by ``mpl_hook`` when the code imports matplotlib (``module://mcp_agent.mpl_backend``).
Drawing is Agg's; only ``show`` differs: it sends the figures and closes them, as a notebook does,
so that a second ``plt.show()`` sends only what was drawn since.
"""

from __future__ import annotations

import sys
from typing import Any

from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import FigureManagerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg

FigureCanvas = FigureCanvasAgg
FigureManager = FigureManagerBase


def show(*args: Any, **kwargs: Any) -> None:
    from mcp import runtime

    try:
        for manager in Gcf.get_all_fig_managers():
            try:
                runtime.show_image(manager.canvas.figure)
            except (ValueError, runtime.MCPError) as exc:
                # plt.show() must not fail a script over a figure that cannot be returned: say so instead.
                print("plt.show(): figure %s not returned: %s" % (manager.num, exc), file=sys.stderr)
    finally:
        Gcf.destroy_all()
