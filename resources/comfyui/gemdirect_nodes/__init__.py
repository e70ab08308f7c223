"""gemDirect Studio custom nodes for ComfyUI.

Copy this folder into ``ComfyUI/custom_nodes/`` and restart ComfyUI. It registers one node,
``GemDirectSaveFrames`` ("Save Frames + Done Marker"), which saves a frame batch like SaveImage and then
atomically publishes ``<base>.done`` so gemDirect Studio knows every frame is on disk.
"""

from .save_frames import GemDirectSaveFrames

NODE_CLASS_MAPPINGS = {
    "GemDirectSaveFrames": GemDirectSaveFrames,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "GemDirectSaveFrames": "Save Frames + Done Marker",
}

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
