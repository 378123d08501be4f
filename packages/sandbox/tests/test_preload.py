"""The preload of MCP_BRIDGE_PRELOAD modules: loaded when present, skipped quietly when absent, reported when broken."""

import os
import sys
import tempfile
import unittest

import support  # noqa: F401 - puts the agent's sources on sys.path

from mcp_agent.preload import configured, preload


class PreloadTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        sys.path.insert(0, self.dir)
        self.said = []

    def tearDown(self):
        sys.path.remove(self.dir)
        for name in ("mcm_preload_ok", "mcm_preload_broken", "mcm_preload_needs", "mcm_preload_exits"):
            sys.modules.pop(name, None)

    def write(self, name, source):
        with open(os.path.join(self.dir, name + ".py"), "w") as f:
            f.write(source)

    def test_present_modules_are_imported_in_order(self):
        self.write("mcm_preload_ok", "VALUE = 42\n")
        preload(["mcm_preload_ok", "json.decoder"], self.said.append)
        self.assertEqual(sys.modules["mcm_preload_ok"].VALUE, 42)
        self.assertIn("json.decoder", sys.modules)
        self.assertEqual(self.said, [])

    def test_a_module_the_image_lacks_is_skipped_quietly(self):
        preload(["mcm_no_such_module", "mcm_no_such_package.sub"], self.said.append)
        self.assertEqual(self.said, [])

    def test_a_broken_module_is_reported_and_the_rest_still_load(self):
        self.write("mcm_preload_broken", "raise RuntimeError('bad package')\n")
        self.write("mcm_preload_needs", "import mcm_missing_dependency\n")
        self.write("mcm_preload_exits", "raise SystemExit(3)\n")
        self.write("mcm_preload_ok", "VALUE = 1\n")
        preload(["mcm_preload_broken", "mcm_preload_needs", "mcm_preload_exits", "mcm_preload_ok"], self.said.append)
        self.assertEqual(len(self.said), 3, self.said)
        self.assertIn("bad package", self.said[0])
        self.assertIn("mcm_missing_dependency", self.said[1])
        self.assertIn("SystemExit", self.said[2])
        self.assertIn("mcm_preload_ok", sys.modules)

    def test_without_a_settings_module_nothing_is_preloaded(self):
        self.assertEqual(tuple(configured()), ())


if __name__ == "__main__":
    unittest.main()
