import json
import os
import struct
import unittest

import torch

from helpers import TempDir
from oicsr_torch import safetensors


class SafeTensorsTests(TempDir):
    def test_round_trip_keeps_names_dtypes_shapes_values_and_metadata(self):
        tensors = {"a.weight": torch.randn(3, 2, 5), "labels": torch.arange(7, dtype=torch.int64),
                   "images": torch.randint(0, 255, (2, 4, 4, 3), dtype=torch.uint8), "empty": torch.zeros(0, 3)}
        path = self.path("x.safetensors")
        safetensors.write(path, tensors, {"k": "v"})
        read, metadata = safetensors.read(path)
        self.assertEqual(list(read), list(tensors))
        for name in tensors:
            self.assertEqual(read[name].dtype, tensors[name].dtype, name)
            self.assertTrue(torch.equal(read[name], tensors[name]), name)
        self.assertEqual(metadata, {"k": "v"})
        self.assertEqual(safetensors.read_metadata(path), {"k": "v"})

    def test_layout_is_the_format(self):
        path = self.path("x.safetensors")
        safetensors.write(path, {"t": torch.tensor([1.0, 2.0])}, {"m": "1"})
        data = open(path, "rb").read()
        (size,) = struct.unpack("<Q", data[:8])
        self.assertEqual((8 + size) % 8, 0, "the buffer starts 8-byte aligned")
        header = json.loads(data[8:8 + size])
        self.assertEqual(header["t"], {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})
        self.assertEqual(data[8 + size:], struct.pack("<2f", 1.0, 2.0))

    def test_a_gap_in_the_buffer_is_an_error_naming_the_tensor(self):
        header = json.dumps({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}).encode()
        path = self.path("bad.safetensors")
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(header)) + header + bytes(8))
        with self.assertRaisesRegex(safetensors.SafeTensorsError, "'a' starts at 4, expected 0"):
            safetensors.read(path)

    def test_a_truncated_file_is_an_error(self):
        path = self.path("short.safetensors")
        safetensors.write(path, {"t": torch.zeros(10)})
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) - 4)
        with self.assertRaisesRegex(safetensors.SafeTensorsError, "'t'"):
            safetensors.read(path)


if __name__ == "__main__":
    unittest.main()
