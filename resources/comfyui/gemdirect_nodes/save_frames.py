"""GemDirectSaveFrames: saves a frame batch like SaveImage, then publishes ``<base>.done`` atomically.

Contract: spec/story-format.md ("The done-marker node") and spec/comfyui-api.md section 8. The node
saves the frames itself instead of sitting beside a core SaveImage, because ComfyUI guarantees no
order between two output nodes that consume the same images; writing the marker last, through a
rename, is what lets a watcher trust that every listed frame is complete on disk.
"""

import json
import logging
import math
import os
import time
from datetime import datetime, timezone

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

log = logging.getLogger(__name__)

MARKER_SUFFIX = ".done"
TMP_SUFFIX = ".tmp"
# SaveImage writes outputs with compress_level 4 (1 is only used for previews).
PNG_COMPRESS_LEVEL = 4
MARKER_FIELDS = ("job_id", "prompt_id", "node_id", "frames", "count", "subfolder", "width", "height", "fps",
                 "finished_at")

# On Windows os.replace fails with PermissionError while another process (the app polling for the
# marker) holds the old <base>.done open; the reader closes it within milliseconds, so a short retry
# is enough. On POSIX a PermissionError is permanent and is raised at once.
_RETRY_REPLACE = os.name == "nt"
_REPLACE_ATTEMPTS = 20
_REPLACE_PAUSE_S = 0.05


def _metadata_disabled():
    # ComfyUI's --disable-metadata switch; the module is absent when the node runs outside ComfyUI.
    try:
        from comfy.cli_args import args
    except Exception:
        return False
    return bool(getattr(args, "disable_metadata", False))


def _executing_context():
    # comfy_execution.utils.get_executing_context() exists on newer ComfyUI builds only. Any failure
    # here (old build, running outside ComfyUI) just means "no context".
    try:
        from comfy_execution.utils import get_executing_context
    except Exception:
        return None
    try:
        return get_executing_context()
    except Exception:
        return None


def current_prompt_id():
    """The id of the prompt being executed, or "" when it cannot be determined."""
    prompt_id = getattr(_executing_context(), "prompt_id", None)
    if prompt_id:
        return str(prompt_id)
    # Older builds only record the last prompt id on the server singleton. Importing `server` outside
    # ComfyUI may fail in arbitrary ways (missing aiohttp, an unrelated module of that name), hence
    # the broad guard.
    try:
        import server
        prompt_id = getattr(getattr(server.PromptServer, "instance", None), "last_prompt_id", None)
    except Exception:
        prompt_id = None
    return str(prompt_id) if prompt_id else ""


def current_node_id():
    node_id = getattr(_executing_context(), "node_id", None)
    return str(node_id) if node_id is not None else ""


def utc_timestamp():
    """ISO-8601 UTC with milliseconds and a Z suffix, the same text Qt's ISODateWithMs produces."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _batch_shape(images):
    shape = getattr(images, "shape", None)
    if shape is None or len(shape) != 4:
        raise ValueError(
            "GemDirectSaveFrames: images must be an IMAGE batch shaped [B, H, W, C], got shape %r" % (shape,))
    batch, height, width, channels = (int(d) for d in shape)
    if channels not in (1, 3, 4):
        raise ValueError("GemDirectSaveFrames: images must have 1, 3 or 4 channels, got %d" % channels)
    if height <= 0 or width <= 0:
        raise ValueError("GemDirectSaveFrames: images have an empty frame size %dx%d" % (width, height))
    return batch, height, width, channels


def frame_to_uint8(frame):
    """One [H, W, C] frame in 0..1 (torch tensor or numpy array) as uint8 pixels, clipped like SaveImage."""
    if hasattr(frame, "detach"):
        # torch: move to host memory and widen half/bfloat16, which numpy cannot represent.
        frame = frame.detach().cpu().float().numpy()
    pixels = np.nan_to_num(np.asarray(frame, dtype=np.float32), nan=0.0)
    pixels = np.clip(255.0 * pixels, 0, 255).astype(np.uint8)
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    return pixels


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _replace(src, dst):
    attempt = 1
    while True:
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if not _RETRY_REPLACE or attempt >= _REPLACE_ATTEMPTS:
                raise
            attempt += 1
            time.sleep(_REPLACE_PAUSE_S)


def _fsync_directory(folder):
    # Makes the rename itself durable on POSIX. Windows cannot open a directory this way, and some
    # network filesystems refuse it; the marker is already published either way.
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_frame(path, pixels, pnginfo):
    """Write one PNG, flushed and fsynced; a partially written file is removed if anything fails.

    Exclusive creation: the counter is max+1 over the existing files, so the name can only exist if
    another writer shares the folder (ComfyUI has no locking). Overwriting its frame would make our
    marker vouch for a file we did not write, so that case fails instead.
    """
    image = Image.fromarray(pixels)
    fh = open(path, "xb")
    try:
        with fh:
            image.save(fh, format="PNG", pnginfo=pnginfo, compress_level=PNG_COMPRESS_LEVEL)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        _remove_quietly(path)
        raise


def publish_marker(folder, marker_name, marker):
    """Atomically publish JSON `marker` as folder/marker_name.

    The bytes go to <name>.tmp in the SAME folder (a rename is only atomic within one filesystem),
    are flushed and fsynced, then os.replace moves them into place. A reader therefore sees either no
    marker or the complete one. On any failure the .tmp is removed and the error propagates.
    """
    payload = (json.dumps(marker, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    final_path = os.path.join(folder, marker_name)
    tmp_path = final_path + TMP_SUFFIX
    try:
        with open(tmp_path, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        _replace(tmp_path, final_path)
    except BaseException:
        _remove_quietly(tmp_path)
        raise
    _fsync_directory(folder)
    return final_path


# Saves an IMAGE batch as numbered PNGs in the output directory, then atomically writes <base>.done.
class GemDirectSaveFrames:
    CATEGORY = "gemdirect"
    DESCRIPTION = ("Saves every frame like SaveImage (<prefix>_00001_.png, ...), then atomically writes "
                   "<prefix>.done listing the frames, so an external watcher knows the batch is complete.")
    RETURN_TYPES = ()
    OUTPUT_NODE = True
    FUNCTION = "save_frames"

    @classmethod
    def INPUT_TYPES(cls):
        # Defaults and ranges mirror the sandbox's /object_info entry (core/sandbox/NodeCatalog.cpp).
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The frames to save, in order."}),
                "filename_prefix": ("STRING", {
                    "default": "gemdirect/frames",
                    "tooltip": "Prefix as for SaveImage; '/' creates subfolders inside the output directory.",
                }),
            },
            "optional": {
                "job_id": ("STRING", {"default": "", "tooltip": "Copied into the done marker."}),
                "fps": ("FLOAT", {"default": 24.0, "min": 0.0, "max": 240.0, "step": 0.01,
                                  "tooltip": "Frame rate recorded in the done marker."}),
            },
            "hidden": {
                "prompt": "PROMPT",
                "extra_pnginfo": "EXTRA_PNGINFO",
                "unique_id": "UNIQUE_ID",
            },
        }

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        # NaN never compares equal to the previous value, so ComfyUI never serves this node from its
        # cache: a resubmitted identical prompt still writes frames and a fresh marker.
        return float("nan")

    def save_frames(self, images, filename_prefix="gemdirect/frames", job_id="", fps=24.0, prompt=None,
                    extra_pnginfo=None, unique_id=None):
        import folder_paths

        batch, height, width, _ = _batch_shape(images)
        if not isinstance(filename_prefix, str):
            raise ValueError("GemDirectSaveFrames: filename_prefix must be a string")
        fps = 24.0 if fps is None else float(fps)
        if not math.isfinite(fps) or fps < 0:
            raise ValueError("GemDirectSaveFrames: fps must be a finite number >= 0, got %r" % fps)
        job_id = "" if job_id is None else str(job_id)
        node_id = str(unique_id) if unique_id is not None else current_node_id()

        # Raises for a prefix that escapes the output directory; ComfyUI reports it as execution_error
        # and nothing has been written yet.
        folder, base, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), width, height)
        if base in ("", ".", ".."):
            raise ValueError("GemDirectSaveFrames: filename_prefix %r names no file" % filename_prefix)

        pnginfo = None
        if not _metadata_disabled():
            pnginfo = PngInfo()
            if prompt is not None:
                pnginfo.add_text("prompt", json.dumps(prompt))
            if extra_pnginfo:
                for key in extra_pnginfo:
                    pnginfo.add_text(key, json.dumps(extra_pnginfo[key]))

        frames = []
        images_ui = []
        for index in range(batch):
            name = "%s_%05d_.png" % (base, counter + index)
            write_frame(os.path.join(folder, name), frame_to_uint8(images[index]), pnginfo)
            frames.append(name)
            images_ui.append({"filename": name, "subfolder": subfolder, "type": "output"})

        marker_name = base + MARKER_SUFFIX
        marker = {
            "job_id": job_id,
            "prompt_id": current_prompt_id(),
            "node_id": node_id,
            "frames": frames,
            "count": len(frames),
            "subfolder": subfolder,
            "width": width,
            "height": height,
            "fps": fps,
            "finished_at": utc_timestamp(),
        }
        publish_marker(folder, marker_name, marker)
        log.info("GemDirectSaveFrames: %d frame(s) in %s, marker %s", len(frames), folder, marker_name)

        return {"ui": {
            "images": images_ui,
            "done_marker": [{"filename": marker_name, "subfolder": subfolder, "type": "output"}],
        }}
