"""Frame files: names, counters, subfolders, pixels, PNG metadata, UI output, refused prefixes."""

import json
import os
import unittest

import numpy as np
from PIL import Image

from node_support import OutputDirTestCase, fake_comfy_modules, noise_batch


def touch(path, data=b"x"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


class FakeTensor:
    """Just enough of torch.Tensor for the node: shape, indexing, detach().cpu().float().numpy()."""

    def __init__(self, array):
        self._array = array
        self.shape = array.shape

    def __getitem__(self, index):
        return FakeTensor(self._array[index])

    def detach(self):
        return self

    def cpu(self):
        return self

    def float(self):
        return FakeTensor(self._array.astype(np.float32))

    def numpy(self):
        return self._array


class FrameNamingTest(OutputDirTestCase):
    def test_names_and_counters(self):
        # (files already in the folder, batch size, expected names)
        cases = [
            ("empty folder", [], 3, ["frames_00001_.png", "frames_00002_.png", "frames_00003_.png"]),
            ("continues after a run", ["frames_00001_.png", "frames_00002_.png", "frames_00003_.png",
                                       "frames_00004_.png"], 2, ["frames_00005_.png", "frames_00006_.png"]),
            ("continues after the highest, gaps kept", ["frames_00003_.png", "frames_00007_.png"], 1,
             ["frames_00008_.png"]),
            ("any extension counts", ["frames_00009_.webp"], 1, ["frames_00010_.png"]),
            ("markers and other prefixes do not count",
             ["frames.done", "frames.done.tmp", "framesX_00050_.png", "other_00090_.png", "frames_notes.txt"], 2,
             ["frames_00001_.png", "frames_00002_.png"]),
        ]
        for index, (label, existing, batch, expected) in enumerate(cases):
            with self.subTest(label):
                folder = os.path.join(self.out, "case%d" % index)
                for name in existing:
                    touch(os.path.join(folder, name))
                result = self.run_node(noise_batch(batch, 8, 8), "case%d/frames" % index)
                names = [entry["filename"] for entry in result["ui"]["images"]]
                self.assertEqual(names, expected)
                for name in expected:
                    with Image.open(os.path.join(folder, name)) as image:
                        self.assertEqual(image.format, "PNG")
                with open(os.path.join(folder, "frames.done"), encoding="utf-8") as fh:
                    self.assertEqual(json.load(fh)["frames"], expected)

    def test_second_run_continues_numbering_and_replaces_the_marker(self):
        self.run_node(noise_batch(2, 8, 8), "job/frames", job_id="first")
        result = self.run_node(noise_batch(3, 8, 8), "job/frames", job_id="second")
        expected = ["frames_00003_.png", "frames_00004_.png", "frames_00005_.png"]
        self.assertEqual([e["filename"] for e in result["ui"]["images"]], expected)
        folder = os.path.join(self.out, "job")
        self.assertEqual(sorted(os.listdir(folder)),
                         ["frames.done"] + ["frames_%05d_.png" % i for i in range(1, 6)])
        with open(os.path.join(folder, "frames.done"), encoding="utf-8") as fh:
            marker = json.load(fh)
        self.assertEqual(marker["job_id"], "second")
        self.assertEqual(marker["frames"], expected)
        self.assertEqual(marker["count"], 3)

    def test_subfolders_come_from_the_prefix(self):
        cases = [
            ("frames", "", "frames"),
            ("jobs/abc/frame", "jobs/abc", "frame"),
            ("a/./b/../c//shot", "a/c", "shot"),
            ("scene-01/attempt-2/f", "scene-01/attempt-2", "f"),
        ]
        for prefix, subfolder, base in cases:
            with self.subTest(prefix):
                result = self.run_node(noise_batch(2, 8, 8), prefix)
                folder = os.path.join(self.out, subfolder)
                for entry in result["ui"]["images"]:
                    self.assertEqual(entry["subfolder"], subfolder)
                    self.assertTrue(os.path.isfile(os.path.join(folder, entry["filename"])))
                self.assertEqual(result["ui"]["done_marker"],
                                 [{"filename": base + ".done", "subfolder": subfolder, "type": "output"}])
                with open(os.path.join(folder, base + ".done"), encoding="utf-8") as fh:
                    self.assertEqual(json.load(fh)["subfolder"], subfolder)

    def test_size_variables_use_width_and_height_of_the_frames(self):
        result = self.run_node(noise_batch(1, 16, 32), "size_%width%x%height%/f")
        self.assertEqual(result["ui"]["images"][0]["subfolder"], "size_32x16")
        self.assertTrue(os.path.isfile(os.path.join(self.out, "size_32x16", "f_00001_.png")))


class FramePixelsTest(OutputDirTestCase):
    def test_values_are_scaled_and_clipped_like_save_image(self):
        row = np.array([-0.5, 0.0, 0.5, 1.0, 1.5], dtype=np.float32)
        frame = np.repeat(np.tile(row[None, :, None], (2, 1, 1)), 3, axis=2)  # H=2, W=5, C=3
        self.run_node(frame[None], "px/f")
        with Image.open(os.path.join(self.out, "px", "f_00001_.png")) as image:
            self.assertEqual(image.mode, "RGB")
            self.assertEqual(image.size, (5, 2))
            pixels = np.asarray(image)
        self.assertEqual(pixels[0, :, 0].tolist(), [0, 0, 127, 255, 255])
        self.assertEqual(pixels[1, :, 2].tolist(), [0, 0, 127, 255, 255])

    def test_frames_keep_batch_order(self):
        batch = np.zeros((3, 4, 4, 3), dtype=np.float32)
        for index in range(3):
            batch[index] = (index + 1) / 4.0
        result = self.run_node(batch, "order/f")
        values = []
        for entry in result["ui"]["images"]:
            with Image.open(os.path.join(self.out, "order", entry["filename"])) as image:
                values.append(int(np.asarray(image)[0, 0, 0]))
        self.assertEqual(values, [63, 127, 191])

    def test_channel_layouts(self):
        for channels, mode in ((1, "L"), (3, "RGB"), (4, "RGBA")):
            with self.subTest(channels=channels):
                result = self.run_node(noise_batch(1, 6, 7, channels), "ch%d/f" % channels)
                name = result["ui"]["images"][0]["filename"]
                with Image.open(os.path.join(self.out, "ch%d" % channels, name)) as image:
                    self.assertEqual(image.mode, mode)
                    self.assertEqual(image.size, (7, 6))

    def test_torch_style_tensors_are_accepted(self):
        batch = noise_batch(2, 5, 6)
        result = self.run_node(FakeTensor(batch.astype(np.float16)), "torch/f")
        self.assertEqual(len(result["ui"]["images"]), 2)
        with Image.open(os.path.join(self.out, "torch", "f_00002_.png")) as image:
            expected = np.clip(255.0 * batch[1].astype(np.float16).astype(np.float32), 0, 255).astype(np.uint8)
            np.testing.assert_array_equal(np.asarray(image), expected)

    def test_png_carries_prompt_and_workflow(self):
        prompt = {"3": {"class_type": "KSampler", "inputs": {"seed": 5}}}
        workflow = {"nodes": [{"id": 3}], "links": []}
        self.run_node(noise_batch(1, 4, 4), "meta/f", prompt=prompt, extra_pnginfo={"workflow": workflow})
        with Image.open(os.path.join(self.out, "meta", "f_00001_.png")) as image:
            self.assertEqual(json.loads(image.text["prompt"]), prompt)
            self.assertEqual(json.loads(image.text["workflow"]), workflow)

    def test_disable_metadata_switch_drops_the_text_chunks(self):
        with fake_comfy_modules(disable_metadata=True):
            self.run_node(noise_batch(1, 4, 4), "nometa/f", prompt={"1": {}}, extra_pnginfo={"workflow": {}})
        with Image.open(os.path.join(self.out, "nometa", "f_00001_.png")) as image:
            self.assertEqual(dict(image.text), {})


class UiOutputTest(OutputDirTestCase):
    def test_ui_output_shape(self):
        result = self.run_node(noise_batch(3, 8, 8), "jobs/j7/frame", job_id="j7")
        self.assertEqual(set(result), {"ui"})
        ui = result["ui"]
        self.assertEqual(set(ui), {"images", "done_marker"})
        for value in ui.values():
            self.assertIsInstance(value, list)  # ComfyUI requires every ui value to be a list
        self.assertEqual(ui["images"], [
            {"filename": "frame_%05d_.png" % i, "subfolder": "jobs/j7", "type": "output"} for i in (1, 2, 3)])
        self.assertEqual(ui["done_marker"], [{"filename": "frame.done", "subfolder": "jobs/j7", "type": "output"}])
        # The executed message and /history carry this verbatim.
        json.dumps(result)


class RefusedInputTest(OutputDirTestCase):
    def test_prefix_escaping_the_output_directory_writes_nothing(self):
        outside = os.path.join(self.root, "elsewhere", "frames")
        for prefix in ("../outside/frames", "../../frames", "sub/../../frames", outside):
            with self.subTest(prefix):
                # assertLogs keeps folder_paths' logging.error (ComfyUI logs the refusal too) out of the output.
                with self.assertLogs(level="ERROR"), \
                        self.assertRaisesRegex(Exception, "outside the output folder"):
                    self.run_node(noise_batch(2, 8, 8), prefix, job_id="evil")
                self.assertEqual(os.listdir(self.root), ["output"])
                self.assertEqual(os.listdir(self.out), [])

    def test_prefix_without_a_file_name_is_refused(self):
        for prefix in ("", ".", "sub/.."):
            with self.subTest(prefix=prefix):
                with self.assertRaisesRegex(ValueError, "names no file"):
                    self.run_node(noise_batch(1, 8, 8), prefix)
                self.assertEqual(self.all_files(), [])

    def test_malformed_batches_are_refused_before_writing(self):
        cases = [
            ("one frame without batch axis", np.zeros((8, 8, 3), dtype=np.float32)),
            ("two channels", np.zeros((1, 8, 8, 2), dtype=np.float32)),
            ("zero-size frame", np.zeros((1, 0, 8, 3), dtype=np.float32)),
            ("not an array", [[0.5]]),
        ]
        for label, images in cases:
            with self.subTest(label):
                with self.assertRaises(ValueError):
                    self.run_node(images, "bad/f")
                self.assertEqual(self.all_files(), [])

    def test_unusable_fps_is_refused_before_writing(self):
        for fps in (float("nan"), float("inf"), -1.0):
            with self.subTest(fps=fps):
                with self.assertRaisesRegex(ValueError, "fps"):
                    self.run_node(noise_batch(1, 8, 8), "fps/f", fps=fps)
                self.assertEqual(self.all_files(), [])


if __name__ == "__main__":
    unittest.main()
