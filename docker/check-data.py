# The check of the `data` image (docker/build-local-image.sh runs it as uid 65534, no network,
# read-only root, tmpfs /tmp): every module of the profile imports, and matplotlib draws with Agg
# without writing outside /tmp.
import importlib
import io
import os

MODULES = ["numpy", "pandas", "matplotlib", "scipy", "PIL", "openpyxl", "lxml", "bs4", "yaml"]
for name in MODULES:
    importlib.import_module(name)

import matplotlib.pyplot as plt

assert plt.get_backend().lower() == "agg", plt.get_backend()
fig = plt.figure(figsize=(2, 1))
plt.plot([0, 1], [1, 0])
buf = io.BytesIO()
fig.savefig(buf, format="png")
assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
print("ok", os.getuid())
