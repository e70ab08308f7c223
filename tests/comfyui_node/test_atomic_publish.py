"""Atomic publish of <base>.done: a watcher sees no marker or a complete one, and only after every frame."""

import json
import os
import sys
import threading
import time
import unittest
from unittest import mock

from PIL import Image

import fake_folder_paths
from node_support import OutputDirTestCase, noise_batch, save_frames

real_fsync = os.fsync
real_replace = os.replace
real_image_save = Image.Image.save


class AtomicPublishTest(OutputDirTestCase):
    def test_watcher_never_sees_a_partial_or_early_marker(self):
        count = 120
        images = noise_batch(count, 64, 64, seed=7)
        folder = os.path.join(self.out, "race")
        marker_path = os.path.join(folder, "frames.done")
        expected = ["frames_%05d_.png" % i for i in range(1, count + 1)]
        started = threading.Event()
        writer_done = threading.Event()
        polls_without_marker = [0]
        sightings = [0]
        problems = []

        def watcher():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    with open(marker_path, "rb") as fh:
                        data = fh.read()
                except FileNotFoundError:
                    polls_without_marker[0] += 1
                    started.set()
                    if writer_done.is_set() and sightings[0] == 0 and not os.path.exists(marker_path):
                        problems.append("marker missing after the node returned")
                        return
                    time.sleep(0.0002)
                    continue
                sightings[0] += 1
                try:
                    marker = json.loads(data.decode("utf-8"))
                except ValueError:
                    problems.append("invalid JSON: %r" % data[:200])
                    continue
                if marker.get("frames") != expected or marker.get("count") != count:
                    problems.append("marker lists %r frames" % marker.get("count"))
                on_disk = sorted(n for n in os.listdir(folder) if n.endswith("_.png"))
                if on_disk != expected:
                    problems.append("marker visible with %d of %d frames on disk" % (len(on_disk), count))
                elif sightings[0] == 1:
                    # First sight: every frame the marker vouches for must decode completely.
                    for name in expected:
                        try:
                            with Image.open(os.path.join(folder, name)) as image:
                                image.load()
                        except Exception as error:  # noqa: BLE001 - any decode failure is the finding
                            problems.append("%s unreadable when the marker appeared: %s" % (name, error))
                if writer_done.is_set():
                    return

        reader = threading.Thread(target=watcher)
        reader.start()
        self.assertTrue(started.wait(10))
        try:
            self.run_node(images, "race/frames", job_id="race")
        finally:
            writer_done.set()
            reader.join(70)
        self.assertFalse(reader.is_alive())
        self.assertEqual(problems, [])
        self.assertGreater(polls_without_marker[0], 0)
        self.assertGreater(sightings[0], 0)
        self.assertFalse(os.path.exists(marker_path + ".tmp"))

    @unittest.skipUnless(sys.platform.startswith("linux"), "maps fsynced descriptors to paths via /proc")
    def test_marker_is_a_fsynced_tmp_renamed_after_every_frame_is_fsynced(self):
        events = []

        def fsync(fd):
            events.append(("fsync", os.readlink("/proc/self/fd/%d" % fd)))
            return real_fsync(fd)

        def replace(src, dst):
            with open(src, "rb") as fh:
                staged = json.loads(fh.read().decode("utf-8"))
            events.append(("replace", src, dst, os.path.exists(dst), staged["count"]))
            return real_replace(src, dst)

        with mock.patch("os.fsync", side_effect=fsync), mock.patch("os.replace", side_effect=replace):
            self.run_node(noise_batch(4, 8, 8), "order/frames")
        folder = os.path.join(self.out, "order")
        final = os.path.join(folder, "frames.done")
        tmp = final + ".tmp"
        frame_syncs = [("fsync", os.path.join(folder, "frames_%05d_.png" % i)) for i in range(1, 5)]
        self.assertEqual(events[:4], frame_syncs)
        self.assertEqual(events[4], ("fsync", tmp))
        self.assertEqual(events[5], ("replace", tmp, final, False, 4))
        # Then the directory itself, so the rename survives a power cut.
        self.assertEqual(events[6:], [("fsync", folder)])

    def test_failed_frame_write_leaves_no_marker_and_no_partial_frame(self):
        calls = [0]

        def failing_save(image, fp, *args, **kwargs):
            calls[0] += 1
            if calls[0] == 3:
                fp.write(b"\x89PNG\r\n\x1a\n half a frame")
                raise OSError(28, "No space left on device")
            return real_image_save(image, fp, *args, **kwargs)

        with mock.patch.object(Image.Image, "save", failing_save):
            with self.assertRaises(OSError):
                self.run_node(noise_batch(5, 8, 8), "fail/frames")
        # Frames finished before the failure stay, as with SaveImage; the torn one and any marker do not.
        self.assertEqual(sorted(os.listdir(os.path.join(self.out, "fail"))),
                         ["frames_00001_.png", "frames_00002_.png"])

    def test_failed_marker_write_leaves_neither_done_nor_tmp(self):
        def no_rename(src, dst):
            raise OSError(5, "Input/output error")

        fsync_calls = [0]

        def failing_tmp_fsync(fd):
            fsync_calls[0] += 1
            if fsync_calls[0] == 3:  # frames 1 and 2, then the marker's tmp file
                raise OSError(5, "Input/output error")
            return real_fsync(fd)

        for label, patch in (("rename fails", mock.patch("os.replace", side_effect=no_rename)),
                             ("fsync of the tmp fails", mock.patch("os.fsync", side_effect=failing_tmp_fsync))):
            with self.subTest(label):
                subfolder = label.replace(" ", "_")
                with patch:
                    with self.assertRaises(OSError):
                        self.run_node(noise_batch(2, 8, 8), subfolder + "/frames")
                self.assertEqual(sorted(os.listdir(os.path.join(self.out, subfolder))),
                                 ["frames_00001_.png", "frames_00002_.png"])

    def test_stale_tmp_from_a_crashed_run_is_overwritten(self):
        folder = os.path.join(self.out, "stale")
        os.makedirs(folder)
        with open(os.path.join(folder, "frames.done.tmp"), "wb") as fh:
            fh.write(b'{"job_id": "crashed", "fra')
        self.run_node(noise_batch(1, 8, 8), "stale/frames", job_id="fresh")
        self.assertEqual(sorted(os.listdir(folder)), ["frames.done", "frames_00001_.png"])
        with open(os.path.join(folder, "frames.done"), encoding="utf-8") as fh:
            self.assertEqual(json.load(fh)["job_id"], "fresh")

    def test_replace_retries_only_where_sharing_violations_are_transient(self):
        failures = [0]

        def locked_twice(src, dst):
            if failures[0] < 2:
                failures[0] += 1
                raise PermissionError(13, "The process cannot access the file")
            return real_replace(src, dst)

        with mock.patch.object(save_frames, "_RETRY_REPLACE", True), \
                mock.patch.object(save_frames, "_REPLACE_PAUSE_S", 0), \
                mock.patch("os.replace", side_effect=locked_twice):
            self.run_node(noise_batch(1, 8, 8), "win/frames")
        self.assertEqual(sorted(os.listdir(os.path.join(self.out, "win"))), ["frames.done", "frames_00001_.png"])

        failures[0] = 0
        with mock.patch.object(save_frames, "_RETRY_REPLACE", False), \
                mock.patch("os.replace", side_effect=locked_twice):
            with self.assertRaises(PermissionError):
                self.run_node(noise_batch(1, 8, 8), "posix/frames")
        self.assertEqual(failures[0], 1)
        self.assertEqual(sorted(os.listdir(os.path.join(self.out, "posix"))), ["frames_00001_.png"])

    def test_frame_of_a_concurrent_writer_is_never_overwritten(self):
        # Another server sharing the folder took number 2 after our counter was computed.
        folder = os.path.join(self.out, "shared")
        os.makedirs(folder)
        theirs = os.path.join(folder, "frames_00002_.png")
        real_resolve = fake_folder_paths.get_save_image_path

        def racing_resolve(*args, **kwargs):
            resolved = real_resolve(*args, **kwargs)
            with open(theirs, "wb") as fh:
                fh.write(b"other server's frame")
            return resolved

        with mock.patch.object(fake_folder_paths, "get_save_image_path", racing_resolve):
            with self.assertRaises(FileExistsError):
                self.run_node(noise_batch(3, 8, 8), "shared/frames")
        with open(theirs, "rb") as fh:
            self.assertEqual(fh.read(), b"other server's frame")
        self.assertEqual(sorted(os.listdir(folder)), ["frames_00001_.png", "frames_00002_.png"])


if __name__ == "__main__":
    unittest.main()
