"""What ComfyUI reads from the package at start-up: mappings, INPUT_TYPES, output-node flags, IS_CHANGED."""

import json
import math
import subprocess
import sys
import unittest

from node_support import Node, PACKAGE_PARENT, gemdirect_nodes


class NodeDeclarationTest(unittest.TestCase):
    def test_package_registers_the_node_under_its_class_type(self):
        self.assertEqual(gemdirect_nodes.NODE_CLASS_MAPPINGS, {"GemDirectSaveFrames": Node})
        self.assertEqual(gemdirect_nodes.NODE_DISPLAY_NAME_MAPPINGS,
                         {"GemDirectSaveFrames": "Save Frames + Done Marker"})

    def test_input_types_match_the_contract(self):
        types = Node.INPUT_TYPES()
        self.assertEqual(set(types), {"required", "optional", "hidden"})
        required, optional = types["required"], types["optional"]
        self.assertEqual(list(required), ["images", "filename_prefix"])
        self.assertEqual(required["images"][0], "IMAGE")
        self.assertEqual(required["filename_prefix"][0], "STRING")
        self.assertEqual(required["filename_prefix"][1]["default"], "gemdirect/frames")
        self.assertEqual(set(optional), {"job_id", "fps"})
        self.assertEqual(optional["job_id"][0], "STRING")
        self.assertEqual(optional["job_id"][1]["default"], "")
        self.assertEqual(optional["fps"][0], "FLOAT")
        self.assertEqual(optional["fps"][1]["default"], 24.0)
        self.assertIsInstance(optional["fps"][1]["default"], float)
        self.assertEqual(types["hidden"],
                         {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO", "unique_id": "UNIQUE_ID"})
        # /object_info serialises these declarations as JSON; anything else would break the server.
        json.dumps(types)

    def test_output_node_flags(self):
        self.assertEqual(Node.RETURN_TYPES, ())
        self.assertIs(Node.OUTPUT_NODE, True)
        self.assertEqual(Node.CATEGORY, "gemdirect")
        self.assertTrue(callable(getattr(Node(), Node.FUNCTION)))

    def test_is_changed_is_nan_so_the_node_always_reruns(self):
        # ComfyUI passes widget values by input name (hidden ones included); linked inputs as None.
        first = Node.IS_CHANGED(images=None, filename_prefix="gemdirect/frames", job_id="j", fps=24.0,
                                prompt={}, extra_pnginfo=None, unique_id="7")
        second = Node.IS_CHANGED(images=None, filename_prefix="gemdirect/frames", job_id="j", fps=24.0)
        self.assertIsInstance(first, float)
        self.assertTrue(math.isnan(first))
        self.assertNotEqual(first, second)

    def test_package_imports_outside_comfyui(self):
        # A fresh interpreter without folder_paths/comfy/server: an import error would only be logged
        # by ComfyUI and the node would silently be missing from /object_info.
        code = ("import sys; sys.path.insert(0, %r); import gemdirect_nodes as g; "
                "print(sorted(g.NODE_CLASS_MAPPINGS))" % PACKAGE_PARENT)
        done = subprocess.run([sys.executable, "-B", "-c", code], capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.strip(), "['GemDirectSaveFrames']")


if __name__ == "__main__":
    unittest.main()
