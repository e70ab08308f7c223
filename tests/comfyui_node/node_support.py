"""Shared set-up for the GemDirectSaveFrames tests.

Makes resources/comfyui importable, injects the fake `folder_paths` as sys.modules["folder_paths"]
(the node imports it when it runs, as inside ComfyUI), and gives each test a fresh output directory.
"""

import os
import shutil
import sys
import tempfile
import types
import unittest
from unittest import mock

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
PACKAGE_PARENT = os.path.join(REPO_ROOT, "resources", "comfyui")

if PACKAGE_PARENT not in sys.path:
    sys.path.insert(0, PACKAGE_PARENT)

import fake_folder_paths  # noqa: E402

sys.modules["folder_paths"] = fake_folder_paths

import gemdirect_nodes  # noqa: E402
from gemdirect_nodes import save_frames  # noqa: E402

Node = save_frames.GemDirectSaveFrames

__all__ = ["PACKAGE_PARENT", "Node", "OutputDirTestCase", "fake_comfy_modules", "gemdirect_nodes", "noise_batch",
           "save_frames"]


def noise_batch(count, height, width, channels=3, seed=1):
    """A float32 [B, H, W, C] batch in 0..1, the layout ComfyUI's IMAGE tensors have."""
    rng = np.random.default_rng(seed)
    return rng.random((count, height, width, channels), dtype=np.float32)


def fake_comfy_modules(context=None, last_prompt_id=None, disable_metadata=None):
    """sys.modules patch playing the ComfyUI modules the node consults; one not given is made unimportable
    (None in sys.modules), as outside ComfyUI."""
    modules = {}
    if context is not None:
        package = types.ModuleType("comfy_execution")
        utils = types.ModuleType("comfy_execution.utils")
        utils.get_executing_context = lambda: context
        package.utils = utils
        modules["comfy_execution"] = package
        modules["comfy_execution.utils"] = utils
    else:
        modules["comfy_execution"] = None
        modules["comfy_execution.utils"] = None
    if last_prompt_id is not None:
        server = types.ModuleType("server")
        server.PromptServer = types.SimpleNamespace(instance=types.SimpleNamespace(last_prompt_id=last_prompt_id))
        modules["server"] = server
    else:
        modules["server"] = None
    if disable_metadata is not None:
        comfy = types.ModuleType("comfy")
        cli_args = types.ModuleType("comfy.cli_args")
        cli_args.args = types.SimpleNamespace(disable_metadata=disable_metadata)
        comfy.cli_args = cli_args
        modules["comfy"] = comfy
        modules["comfy.cli_args"] = cli_args
    else:
        modules["comfy"] = None
        modules["comfy.cli_args"] = None
    return mock.patch.dict(sys.modules, modules)


class OutputDirTestCase(unittest.TestCase):
    """Each test gets <tmp>/output as ComfyUI's output directory; <tmp> itself stands for 'outside'."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="gd-comfynode-")
        self.out = os.path.join(self.root, "output")
        os.makedirs(self.out)
        fake_folder_paths.set_output_directory(self.out)
        # No ComfyUI modules unless a test plays them: a stray module of the same name on the host
        # must not leak into the prompt id.
        patcher = fake_comfy_modules()
        patcher.start()
        self.addCleanup(patcher.stop)

    def tearDown(self):
        fake_folder_paths.set_output_directory(None)
        shutil.rmtree(self.root, ignore_errors=True)

    def run_node(self, images, prefix, **kwargs):
        node = Node()
        return getattr(node, Node.FUNCTION)(images=images, filename_prefix=prefix, **kwargs)

    def all_files(self, top=None):
        """Every file below `top` (default: the temp root), as paths relative to it."""
        top = top or self.root
        found = []
        for dirpath, _, filenames in os.walk(top):
            for name in filenames:
                found.append(os.path.relpath(os.path.join(dirpath, name), top))
        return sorted(found)
