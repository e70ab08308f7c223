"""The <base>.done marker: fields, types, values and where prompt_id / node_id come from."""

import collections
import json
import os
import unittest
from datetime import datetime, timedelta, timezone

from node_support import OutputDirTestCase, fake_comfy_modules, noise_batch

ExecutionContext = collections.namedtuple("ExecutionContext", ["prompt_id", "node_id", "list_index"])

MARKER_KEYS = {"job_id", "prompt_id", "node_id", "frames", "count", "subfolder", "width", "height", "fps",
               "finished_at"}


class DoneMarkerTest(OutputDirTestCase):
    def read_marker(self, subfolder, base):
        with open(os.path.join(self.out, subfolder, base + ".done"), encoding="utf-8") as fh:
            return json.load(fh)

    def test_marker_content_and_types(self):
        before = datetime.now(timezone.utc)
        with fake_comfy_modules(context=ExecutionContext("prompt-abc", "9", None)):
            self.run_node(noise_batch(3, 16, 24), "jobs/job-42/frames", job_id="job-42", fps=12.5,
                          prompt={"9": {}}, unique_id="9")
        after = datetime.now(timezone.utc)
        marker = self.read_marker("jobs/job-42", "frames")
        self.assertEqual(set(marker), MARKER_KEYS)
        self.assertEqual(marker["job_id"], "job-42")
        self.assertEqual(marker["prompt_id"], "prompt-abc")
        self.assertEqual(marker["node_id"], "9")
        self.assertEqual(marker["frames"], ["frames_00001_.png", "frames_00002_.png", "frames_00003_.png"])
        self.assertIs(type(marker["count"]), int)
        self.assertEqual(marker["count"], 3)
        self.assertEqual(marker["subfolder"], "jobs/job-42")
        self.assertIs(type(marker["width"]), int)
        self.assertIs(type(marker["height"]), int)
        self.assertEqual((marker["width"], marker["height"]), (24, 16))
        self.assertIs(type(marker["fps"]), float)
        self.assertEqual(marker["fps"], 12.5)
        # ISO-8601 UTC with a Z suffix, as the sandbox writes it (Qt::ISODateWithMs on a UTC time).
        self.assertRegex(marker["finished_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        finished = datetime.fromisoformat(marker["finished_at"].replace("Z", "+00:00"))
        self.assertEqual(finished.utcoffset(), timedelta(0))
        self.assertGreaterEqual(finished, before - timedelta(milliseconds=1))
        self.assertLessEqual(finished, after)

    def test_defaults_without_optional_and_hidden_inputs(self):
        self.run_node(noise_batch(1, 8, 8), "plain")
        marker = self.read_marker("", "plain")
        self.assertEqual(marker["job_id"], "")
        self.assertEqual(marker["prompt_id"], "")
        self.assertEqual(marker["node_id"], "")
        self.assertEqual(marker["subfolder"], "")
        self.assertEqual(marker["fps"], 24.0)
        self.assertEqual(marker["frames"], ["plain_00001_.png"])

    def test_prompt_and_node_id_sources(self):
        # (executing context, server's last_prompt_id, unique_id input) -> (prompt_id, node_id)
        cases = [
            ("new build: executing context wins", ExecutionContext("p-new", "12", None), "p-old", None,
             "p-new", "12"),
            ("unique_id input wins over the context", ExecutionContext("p-new", "12", None), None, "5",
             "p-new", "5"),
            ("old build: server's last prompt id", None, "p-old", "5", "p-old", "5"),
            ("no prompt being executed: falls back to the server", ExecutionContext(None, None, None), "p-old",
             None, "p-old", ""),
            ("outside ComfyUI", None, None, None, "", ""),
        ]
        for index, (label, context, last_prompt_id, unique_id, prompt_id, node_id) in enumerate(cases):
            with self.subTest(label):
                with fake_comfy_modules(context=context, last_prompt_id=last_prompt_id):
                    self.run_node(noise_batch(1, 4, 4), "ids%d/f" % index, unique_id=unique_id)
                marker = self.read_marker("ids%d" % index, "f")
                self.assertEqual(marker["prompt_id"], prompt_id)
                self.assertEqual(marker["node_id"], node_id)

    def test_non_ascii_job_id_round_trips(self):
        self.run_node(noise_batch(1, 4, 4), "utf/f", job_id="Szene \u00e4 \u2013 \u718a")
        self.assertEqual(self.read_marker("utf", "f")["job_id"], "Szene \u00e4 \u2013 \u718a")

    def test_empty_batch_publishes_a_zero_count_marker(self):
        # A model that produced nothing still finished: the marker tells the app at once (it then
        # requeues on zero frames) instead of letting it wait out the stability window.
        result = self.run_node(noise_batch(0, 16, 24), "empty/f")
        self.assertEqual(result["ui"]["images"], [])
        marker = self.read_marker("empty", "f")
        self.assertEqual((marker["frames"], marker["count"]), ([], 0))
        self.assertEqual((marker["width"], marker["height"]), (24, 16))
        self.assertEqual(sorted(os.listdir(os.path.join(self.out, "empty"))), ["f.done"])


if __name__ == "__main__":
    unittest.main()
