"""Omniglot: 1,623 handwritten characters from 50 alphabets, 20 drawings each, as 105 x 105 PNG images.

Layout: ``root/omniglot-py/images_background.zip`` (or ``images_evaluation.zip``) and the folder it unpacks,
``root/omniglot-py/images_background/<alphabet>/<character>/<drawing>.png``.
"""
import http.client
import operator
import os
import urllib.error
from os.path import join

from .utils import (_offline_error, check_integrity, download_and_extract_archive, extract_archive, list_dir,
                    list_files)
from .vision import VisionDataset

__all__ = ["Omniglot"]


class Omniglot(VisionDataset):
    """The Omniglot drawings; the target is the index of the character (alphabets and characters in sorted order).

    Args:
        root: folder holding ``omniglot-py/``.
        background: the "background" set (964 characters) when True, else the "evaluation" set (659).
        transform: applied to each PIL image (mode "L").
        target_transform: applied to each int character index.
        download: fetch the set's zip (md5-checked) into ``root/omniglot-py`` and unpack it.
    """

    folder = "omniglot-py"
    download_url_prefix = "https://raw.githubusercontent.com/brendenlake/omniglot/master/python"
    zips_md5 = {"images_background": "68d2efa1b9178cc56df9314c21c6e718",
                "images_evaluation": "6b91aef0f799c5bb55b94e3f2daec811"}

    def __init__(self, root, background=True, transform=None, target_transform=None, download=False):
        super().__init__(join(os.fspath(root), self.folder), transform=transform, target_transform=target_transform)
        self.background = background
        if download:
            self.download()
        if not self._check_integrity():
            name = self._get_target_folder()
            raise _offline_error(self.__class__.__name__, [f"{name}.zip (md5 {self.zips_md5[name]})"], self.root,
                                 f"{self.download_url_prefix}/{name}.zip", f" Or unpack it there as {name}/.")
        self.target_folder = join(self.root, self._get_target_folder())
        self._alphabets = list_dir(self.target_folder)
        self._characters = [join(a, c) for a in self._alphabets for c in list_dir(join(self.target_folder, a))]
        self._character_images = [[(image, idx) for image in list_files(join(self.target_folder, character), ".png")]
                                  for idx, character in enumerate(self._characters)]
        self._flat_character_images = sum(self._character_images, [])

    def __len__(self):
        return len(self._flat_character_images)

    def __getitem__(self, index):
        from PIL import Image

        image_name, character_class = self._flat_character_images[operator.index(index)]
        path = join(self.target_folder, self._characters[character_class], image_name)
        with open(path, "rb") as f:
            image = Image.open(f).convert("L")
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            character_class = self.target_transform(character_class)
        return image, character_class

    def _check_integrity(self):
        """The set's folder is unpacked, or its zip is here with the published md5 (it is then unpacked)."""
        name = self._get_target_folder()
        if os.path.isdir(join(self.root, name)):
            return True
        zip_path = join(self.root, name + ".zip")
        if check_integrity(zip_path, self.zips_md5[name]):
            extract_archive(zip_path, self.root)
            return os.path.isdir(join(self.root, name))
        return False

    def download(self):
        name = self._get_target_folder()
        if os.path.isdir(join(self.root, name)):
            print("Files already downloaded and verified")
            return
        url = f"{self.download_url_prefix}/{name}.zip"
        try:
            download_and_extract_archive(url, self.root, filename=name + ".zip", md5=self.zips_md5[name])
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            raise RuntimeError(f"Could not download {url}: {e}\nPut {name}.zip (md5 {self.zips_md5[name]}) in "
                               f"{os.path.abspath(self.root)} and load again.") from e

    def _get_target_folder(self):
        return "images_background" if self.background else "images_evaluation"
