"""Stand-in for ComfyUI's `folder_paths` module, injected as sys.modules["folder_paths"] by the tests.

get_save_image_path follows ComfyUI's implementation (spec/comfyui-api.md section 6.2): %var%
expansion, subfolder/basename from normpath, the "outside the output folder" refusal (checked before
anything is created), and the counter = 1 + the highest number among files named <basename>_<n>...
"""

import logging
import os
import time

_output_directory = None


def set_output_directory(path):
    global _output_directory
    _output_directory = path


def get_output_directory():
    if _output_directory is None:
        raise RuntimeError("fake folder_paths: no output directory set")
    return _output_directory


def _compute_vars(text, image_width, image_height):
    text = text.replace("%width%", str(image_width))
    text = text.replace("%height%", str(image_height))
    now = time.localtime()
    text = text.replace("%year%", str(now.tm_year))
    text = text.replace("%month%", str(now.tm_mon).zfill(2))
    text = text.replace("%day%", str(now.tm_mday).zfill(2))
    text = text.replace("%hour%", str(now.tm_hour).zfill(2))
    text = text.replace("%minute%", str(now.tm_min).zfill(2))
    text = text.replace("%second%", str(now.tm_sec).zfill(2))
    return text


def get_save_image_path(filename_prefix, output_dir, image_width=0, image_height=0):
    def map_filename(filename):
        prefix_len = len(os.path.basename(filename_prefix))
        prefix = filename[:prefix_len + 1]
        try:
            digits = int(filename[prefix_len + 1:].split("_")[0])
        except ValueError:
            digits = 0
        return digits, prefix

    if "%" in filename_prefix:
        filename_prefix = _compute_vars(filename_prefix, image_width, image_height)

    subfolder = os.path.dirname(os.path.normpath(filename_prefix))
    filename = os.path.basename(os.path.normpath(filename_prefix))

    full_output_folder = os.path.join(output_dir, subfolder)

    if os.path.commonpath((output_dir, os.path.abspath(full_output_folder))) != output_dir:
        err = ("**** ERROR: Saving image outside the output folder is not allowed."
               "\n full_output_folder: " + os.path.abspath(full_output_folder) +
               "\n         output_dir: " + output_dir +
               "\n         commonpath: " + os.path.commonpath((output_dir, os.path.abspath(full_output_folder))))
        logging.error(err)
        raise Exception(err)

    try:
        counter = max(filter(lambda a: os.path.normcase(a[1][:-1]) == os.path.normcase(filename) and a[1][-1] == "_",
                             map(map_filename, os.listdir(full_output_folder))))[0] + 1
    except ValueError:
        counter = 1
    except FileNotFoundError:
        os.makedirs(full_output_folder, exist_ok=True)
        counter = 1
    return full_output_folder, filename, counter, subfolder, filename_prefix
