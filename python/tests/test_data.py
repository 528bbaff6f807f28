import json
import os
import unittest

import torch
from PIL import Image

from helpers import TempDir, run_cli
from oicsr_torch import safetensors
from oicsr_torch.data import DataError, export_data


class DataExportTests(TempDir):
    def test_fake_data_round_trip(self):
        path = self.path("fake.safetensors")
        status, stdout, stderr = run_cli("export-data", "fake", "--input", "3x64x64", "--train", "6", "--test", "4",
                                         "--out", path)
        self.assertEqual(status, 0, stderr)
        tensors, metadata = safetensors.read(path)
        self.assertEqual(tensors["train.images"].shape, (6, 64, 64, 3))
        self.assertEqual(tensors["train.images"].dtype, torch.uint8)
        self.assertEqual(tensors["train.labels"].shape, (6,))
        self.assertEqual(tensors["train.labels"].dtype, torch.int64)
        self.assertEqual(tensors["test.images"].shape, (4, 64, 64, 3))
        self.assertEqual(metadata["oicsr.dataset"], "fake")
        self.assertEqual(json.loads(metadata["oicsr.class_names"]), [str(i) for i in range(10)])
        self.assertGreater(int(tensors["train.images"].float().std()), 10)

    def make_folder(self, root, classes, per_class, size=(40, 30)):
        for c, name in enumerate(classes):
            os.makedirs(os.path.join(root, name), exist_ok=True)
            for i in range(per_class):
                colour = (40 * c + 10, 5 * i, 200 - 30 * c)
                Image.new("RGB", size, colour).save(os.path.join(root, name, f"{i}.png"))

    def test_image_folder_is_resized_center_cropped_and_labelled(self):
        root = self.path("pets")
        self.make_folder(root, ["cat", "dog", "emu"], 4)
        path = self.path("pets.safetensors")
        tensors, metadata = export_data(f"imagefolder:{root}", (3, 16, 16), 8, 4, path)
        self.assertEqual(json.loads(metadata["oicsr.class_names"]), ["cat", "dog", "emu"])
        self.assertEqual(metadata["oicsr.dataset"], "pets")
        read, _ = safetensors.read(path)
        images, labels = torch.cat([read["train.images"], read["test.images"]]), torch.cat([read["train.labels"], read["test.labels"]])
        self.assertEqual(images.shape, (12, 16, 16, 3))
        self.assertEqual(sorted(labels.tolist()), [0] * 4 + [1] * 4 + [2] * 4)
        for image, label in zip(images, labels):   # each image is one flat colour: its class's red and blue
            self.assertEqual(int(image[8, 8, 0]), 40 * int(label) + 10)
            self.assertEqual(int(image[8, 8, 2]), 200 - 30 * int(label))

    def test_image_folder_with_train_and_test_folders_and_grey_images(self):
        root = self.path("digits")
        self.make_folder(os.path.join(root, "train"), ["0", "1"], 3)
        self.make_folder(os.path.join(root, "test"), ["0", "1"], 2)
        tensors, _ = export_data(f"imagefolder:{root}", (1, 8, 8), 6, 4, self.path("d.safetensors"))
        self.assertEqual(tensors["train.images"].shape, (6, 8, 8, 1))
        self.assertEqual(sorted(tensors["test.labels"].tolist()), [0, 0, 1, 1])

    def test_asking_for_more_images_than_there_are_is_an_error(self):
        root = self.path("few")
        self.make_folder(os.path.join(root, "train"), ["a", "b"], 1)
        self.make_folder(os.path.join(root, "test"), ["a", "b"], 1)
        with self.assertRaisesRegex(DataError, "5 train images asked for, the train split has 2"):
            export_data(f"imagefolder:{root}", (3, 8, 8), 5, 1, self.path("x.safetensors"))
        self.assertFalse(os.path.exists(self.path("x.safetensors")))

    def test_a_torchvision_data_set_is_never_downloaded(self):
        status, _, stderr = run_cli("export-data", "torchvision:CIFAR10", "--root", self.path("none"), "--input", "3x32x32",
                                    "--train", "1", "--test", "1", "--out", self.path("c.safetensors"))
        self.assertEqual(status, 1)
        self.assertIn("torchvision:CIFAR10", stderr)


if __name__ == "__main__":
    unittest.main()
