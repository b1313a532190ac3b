"""Datasets behind one interface: ``load_dataset(spec, preprocess) -> Dataset``.

Specs:

* ``digits`` - scikit-learn's bundled 8x8 handwritten digits (1797 images, always available offline);
* ``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100`` - the Keras loaders, read from the Keras cache
  (``~/.keras/datasets``); nothing is downloaded, a missing file is a :class:`CodegenError` naming where to
  put it;
* ``folder:PATH`` - ``PATH/train/<class>/*`` and ``PATH/validation/<class>/*`` image files.

Every image goes through the same :class:`Preprocess` (resize and crop, grayscale or RGB, BGR order,
per-channel mean and scale). Pixels are first brought to the 0..255 range, then
``x = (pixel - mean[c]) * scale[c]``; the default maps them to 0..1. Extra camera-collected samples (class
folders) can be merged into the training split with augmentation (:func:`merge_extra_samples`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from codegen.errors import CodegenError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff", ".webp")
KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")
DATASETS = ("digits", *KERAS_DATASETS, "folder:PATH")

# Files the Keras loaders look for in the cache (``~/.keras/datasets``): either is enough.
_KERAS_FILES: dict[str, tuple[str, ...]] = {
    "mnist": ("mnist.npz",),
    "fashion_mnist": (
        "fashion-mnist/train-images-idx3-ubyte.gz",
        "fashion-mnist/train-labels-idx1-ubyte.gz",
        "fashion-mnist/t10k-images-idx3-ubyte.gz",
        "fashion-mnist/t10k-labels-idx1-ubyte.gz",
    ),
    "cifar10": ("cifar-10-batches-py.tar.gz",),
    "cifar100": ("cifar-100-python.tar.gz",),
}
_KERAS_EXTRACTED = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}

_CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_FASHION_CLASSES = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle-boot",
)


@dataclass(frozen=True)
class Preprocess:
    """How raw images become network inputs.

    size: (height, width) after resizing, None keeps the native size.
    crop: "none" resizes straight to ``size``; "center" keeps the aspect ratio, resizes the shorter side and
        crops the centre.
    channels: 1 (grayscale) or 3 (RGB; grayscale sources are replicated).
    bgr: reverse the channel order (for models trained on OpenCV-style BGR images).
    mean, scale: per-channel (or one value for all channels), applied to 0..255 pixels.
    """

    size: tuple[int, int] | None = None
    crop: str = "none"
    channels: int | None = None
    bgr: bool = False
    mean: tuple[float, ...] = (0.0,)
    scale: tuple[float, ...] = (1.0 / 255.0,)

    def __post_init__(self) -> None:
        if self.crop not in ("none", "center"):
            raise CodegenError(f"unknown crop mode {self.crop!r}", hint="use 'none' or 'center'")
        if self.channels not in (None, 1, 3):
            raise CodegenError(
                f"unsupported channel count {self.channels}", hint="use 1 (grayscale) or 3 (RGB)"
            )
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 1):
            raise CodegenError(f"bad image size {self.size}", hint="give height and width, e.g. 32x32")
        if not self.mean or not self.scale:
            raise CodegenError(
                "mean and scale need at least one value", hint="e.g. --mean 127.5 --scale 0.0078"
            )

    def to_json(self) -> dict[str, object]:
        return {
            "size": list(self.size) if self.size else None,
            "crop": self.crop,
            "channels": self.channels,
            "bgr": self.bgr,
            "mean": list(self.mean),
            "scale": list(self.scale),
        }


@dataclass(frozen=True)
class Subset:
    """A fixed random subset: at most ``train``/``test`` samples, drawn with ``seed`` (not stratified)."""

    train: int | None = None
    test: int | None = None
    seed: int = 0


@dataclass(frozen=True)
class Dataset:
    """Preprocessed arrays (NHWC float32 images, int64 labels) plus where they came from."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    preprocess: Preprocess = field(default_factory=Preprocess)
    source: str = ""

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.x_train.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def summary(self) -> dict[str, object]:
        return {
            "name": self.name,
            "source": self.source,
            "train": int(len(self.x_train)),
            "test": int(len(self.x_test)),
            "input_shape": list(self.input_shape),
            "classes": list(self.class_names),
            "preprocess": self.preprocess.to_json(),
        }


def parse_size(text: str) -> tuple[int, int]:
    """``"32"`` or ``"32x32"`` -> (32, 32)."""
    parts = text.lower().split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or min(values) < 1:
        raise CodegenError(f"bad image size {text!r}", hint="write HEIGHTxWIDTH, e.g. 32x32, or one number")
    return values[0], values[1]


def load_dataset(spec: str, preprocess: Preprocess | None = None, subset: Subset | None = None) -> Dataset:
    """Load the dataset named by ``spec`` and preprocess it (see the module docstring for specs)."""
    pre = preprocess or Preprocess()
    name = spec.strip()
    if name.startswith("folder:"):
        raw = _load_folder(Path(name[len("folder:") :]).expanduser())
    elif name == "digits":
        raw = _load_digits()
    elif name in KERAS_DATASETS:
        raw = _load_keras(name)
    else:
        raise CodegenError(f"unknown dataset {spec!r}", hint=f"use one of {', '.join(DATASETS)}")
    x_train, y_train, x_test, y_test, classes, source = raw
    if subset is not None:
        x_train, y_train = _subset(x_train, y_train, subset.train, subset.seed)
        x_test, y_test = _subset(x_test, y_test, subset.test, subset.seed + 1)
    ds = Dataset(
        name=name,
        x_train=apply_preprocess(x_train, pre),
        y_train=y_train.astype(np.int64),
        x_test=apply_preprocess(x_test, pre),
        y_test=y_test.astype(np.int64),
        class_names=classes,
        preprocess=pre,
        source=source,
    )
    log.info(
        "dataset %s: %d train, %d test, input %s, %d classes",
        name,
        len(ds.x_train),
        len(ds.x_test),
        ds.input_shape,
        ds.num_classes,
    )
    return ds


# -- raw loaders: uint8-range float32 NHWC images ------------------------------------------------------------

_Raw = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...], str]


def _load_digits() -> _Raw:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images.astype(np.float32) * (255.0 / 16.0))[..., None]
    labels = bunch.target.astype(np.int64)
    # fixed, stratified 80/20 split so every run and every tool sees the same test images
    rng = np.random.default_rng(1797)
    test_idx: list[int] = []
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        test_idx.extend(rng.choice(idx, size=len(idx) // 5, replace=False).tolist())
    test_mask = np.zeros(len(labels), dtype=bool)
    test_mask[test_idx] = True
    return (
        images[~test_mask],
        labels[~test_mask],
        images[test_mask],
        labels[test_mask],
        tuple(str(i) for i in range(10)),
        "sklearn.datasets.load_digits (bundled)",
    )


def keras_cache_dir() -> Path:
    """Where the Keras loaders look for dataset files."""
    return Path("~/.keras/datasets").expanduser()


def _load_keras(name: str) -> _Raw:
    cache = keras_cache_dir()
    files = _KERAS_FILES[name]
    extracted = _KERAS_EXTRACTED.get(name)
    have_extracted = extracted is not None and (cache / extracted).is_dir()
    missing = [f for f in files if not (cache / f).is_file()]
    if missing and not have_extracted:
        where = ", ".join(str(cache / f) for f in missing)
        raise CodegenError(
            f"dataset {name} is not available offline: missing {where}",
            hint=f"download it on a connected machine (tf_keras.datasets.{name}.load_data()) and copy the "
            f"file(s) to exactly that path, or use --dataset digits",
        )
    from codegen.train.tfenv import keras

    loader = getattr(keras().datasets, name)
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as exc:  # noqa: BLE001 - any loader failure becomes a user-facing error
        raise CodegenError(
            f"dataset {name} could not be read from {cache}: {exc}",
            hint="the cached file is probably incomplete or corrupted; replace it with a fresh copy",
        ) from exc
    x_train = x_train.astype(np.float32)
    x_test = x_test.astype(np.float32)
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., None], x_test[..., None]
    num = int(max(y_train.max(), y_test.max())) + 1
    classes = {"cifar10": _CIFAR10_CLASSES, "fashion_mnist": _FASHION_CLASSES}.get(
        name, tuple(str(i) for i in range(num))
    )
    return (x_train, y_train.reshape(-1), x_test, y_test.reshape(-1), classes, f"keras {name} ({cache})")


def _class_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _load_folder(root: Path) -> _Raw:
    if not root.is_dir():
        raise CodegenError(
            f"dataset folder {root} does not exist",
            hint="give folder:PATH where PATH holds train/<class>/ and validation/<class>/ images",
        )
    splits = {}
    for split in ("train", "validation"):
        d = root / split
        if not d.is_dir() or not _class_dirs(d):
            raise CodegenError(
                f"dataset folder {root} has no {split}/<class>/ sub-folders",
                hint=f"put images in {d}/<class name>/ (one folder per class)",
            )
        splits[split] = d
    classes = tuple(p.name for p in _class_dirs(splits["train"]))
    val_classes = tuple(p.name for p in _class_dirs(splits["validation"]))
    unknown = sorted(set(val_classes) - set(classes))
    if unknown:
        raise CodegenError(
            f"validation classes {unknown} have no training folder in {splits['train']}",
            hint="use the same class folder names in train/ and validation/",
        )
    x_tr, y_tr = read_class_folders(splits["train"], classes)
    x_te, y_te = read_class_folders(splits["validation"], classes)
    return x_tr, y_tr, x_te, y_te, classes, f"folder {root}"


def read_class_folders(root: Path, classes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read ``root/<class>/*`` images (native size, RGB 0..255) in sorted order; labels index ``classes``."""
    from PIL import Image

    images: list[np.ndarray] = []
    labels: list[int] = []
    for label, cls in enumerate(classes):
        folder = root / cls
        if not folder.is_dir():
            continue
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                with Image.open(f) as im:
                    images.append(np.asarray(im.convert("RGB"), dtype=np.float32))
            except OSError as exc:
                raise CodegenError(
                    f"cannot read image {f}: {exc}", hint="remove or re-save the file"
                ) from exc
            labels.append(label)
    if not images:
        raise CodegenError(
            f"no images found in {root}/<class>/",
            hint=f"add {', '.join(IMAGE_SUFFIXES[:4])} files to the class folders",
        )
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        # different native sizes: bring everything to the most common size; Preprocess resizes afterwards
        target = max(shapes, key=lambda s: sum(im.shape == s for im in images))
        images = [_resize(im, (target[0], target[1]), "none") for im in images]
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def _subset(x: np.ndarray, y: np.ndarray, n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if n is None or n >= len(x):
        return x, y
    idx = np.sort(np.random.default_rng(seed).choice(len(x), size=n, replace=False))
    return x[idx], y[idx]


# -- preprocessing -------------------------------------------------------------------------------------------


def _resize(image: np.ndarray, size: tuple[int, int], crop: str) -> np.ndarray:
    """Resize one HWC 0..255 image (bilinear) to ``size``; ``crop='center'`` keeps the aspect ratio."""
    from PIL import Image

    h, w = size
    chans = image.shape[2]
    planes = []
    for c in range(chans):
        im = Image.fromarray(image[..., c].astype(np.float32), mode="F")
        if crop == "center":
            s = max(h / im.height, w / im.width)
            nh, nw = max(h, math.ceil(im.height * s)), max(w, math.ceil(im.width * s))
            im = im.resize((nw, nh), Image.Resampling.BILINEAR)
            top, left = (nh - h) // 2, (nw - w) // 2
            im = im.crop((left, top, left + w, top + h))
        else:
            im = im.resize((w, h), Image.Resampling.BILINEAR)
        planes.append(np.asarray(im, dtype=np.float32))
    return np.stack(planes, axis=-1)


def apply_preprocess(images: np.ndarray, pre: Preprocess) -> np.ndarray:
    """Raw NHWC 0..255 images -> network inputs (float32) following ``pre``."""
    x = images.astype(np.float32)
    if pre.size is not None and tuple(x.shape[1:3]) != tuple(pre.size):
        x = (
            np.stack([_resize(im, pre.size, pre.crop) for im in x])
            if len(x)
            else np.zeros((0, *pre.size, x.shape[3]), np.float32)
        )
    if pre.channels == 1 and x.shape[3] == 3:
        x = (x @ np.asarray([0.299, 0.587, 0.114], np.float32))[..., None]
    elif pre.channels == 3 and x.shape[3] == 1:
        x = np.repeat(x, 3, axis=3)
    if pre.bgr and x.shape[3] == 3:
        x = x[..., ::-1]
    x = np.clip(x, 0.0, 255.0)
    c = x.shape[3]
    mean = _per_channel(pre.mean, c, "mean")
    scale = _per_channel(pre.scale, c, "scale")
    return np.ascontiguousarray((x - mean) * scale, dtype=np.float32)


def _per_channel(values: tuple[float, ...], channels: int, what: str) -> np.ndarray:
    if len(values) == 1:
        return np.full(channels, values[0], np.float32)
    if len(values) != channels:
        raise CodegenError(
            f"{what} has {len(values)} values but the images have {channels} channels",
            hint=f"give one {what} value or one per channel",
        )
    return np.asarray(values, np.float32)


# -- augmentation of extra samples ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Augment:
    """Random augmentation for extra (e.g. camera-collected) samples."""

    copies: int = 8
    hflip: bool = True
    vflip: bool = False
    max_rotation_deg: float = 10.0
    brightness: float = 0.2
    scale_range: tuple[float, float] = (0.9, 1.1)
    seed: int = 0


def augment_images(images: np.ndarray, aug: Augment) -> np.ndarray:
    """``copies`` randomly augmented versions of each raw 0..255 NHWC image (originals not included)."""
    from PIL import Image

    rng = np.random.default_rng(aug.seed)
    out = []
    for image in images:
        h, w, chans = image.shape
        for _ in range(aug.copies):
            img = image
            if aug.hflip and rng.random() < 0.5:
                img = img[:, ::-1]
            if aug.vflip and rng.random() < 0.5:
                img = img[::-1]
            angle = float(rng.uniform(-aug.max_rotation_deg, aug.max_rotation_deg))
            s = float(rng.uniform(*aug.scale_range))
            nh, nw = max(1, round(h * s)), max(1, round(w * s))
            planes = []
            for c in range(chans):
                im = Image.fromarray(np.ascontiguousarray(img[..., c]).astype(np.float32), mode="F")
                im = im.rotate(angle, resample=Image.Resampling.BILINEAR)
                im = im.resize((nw, nh), Image.Resampling.BILINEAR)
                planes.append(np.asarray(im, np.float32))
            scaled = np.stack(planes, -1)
            canvas = np.zeros((h, w, chans), np.float32)
            if s >= 1.0:  # random crop back to the original size
                top = int(rng.integers(0, nh - h + 1))
                left = int(rng.integers(0, nw - w + 1))
                canvas = scaled[top : top + h, left : left + w]
            else:  # random placement on a black canvas
                top = int(rng.integers(0, h - nh + 1))
                left = int(rng.integers(0, w - nw + 1))
                canvas[top : top + nh, left : left + nw] = scaled
            factor = 1.0 + float(rng.uniform(-aug.brightness, aug.brightness))
            out.append(np.clip(canvas * factor, 0.0, 255.0))
    return np.stack(out) if out else np.zeros((0, *images.shape[1:]), np.float32)


def merge_extra_samples(ds: Dataset, folder: Path, augment: Augment | None = None) -> Dataset:
    """Add images from ``folder/<class>/*`` (class names as in ``ds``) to the training split, each original +
    ``augment.copies`` augmented versions, preprocessed like the rest of the dataset."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise CodegenError(
            f"extra samples folder {folder} does not exist",
            hint="give a folder with one sub-folder per class, named like the dataset classes",
        )
    found = [p.name for p in _class_dirs(folder)]
    unknown = sorted(set(found) - set(ds.class_names))
    if unknown:
        raise CodegenError(
            f"extra sample classes {unknown} are not classes of dataset {ds.name}",
            hint=f"name the sub-folders after the classes: {', '.join(ds.class_names)}",
        )
    raw, labels = read_class_folders(folder, ds.class_names)
    aug = augment or Augment()
    augmented = augment_images(raw, aug)
    all_raw = np.concatenate([raw, augmented]) if len(augmented) else raw
    all_labels = np.concatenate([labels, np.repeat(labels, aug.copies)]) if len(augmented) else labels
    size = ds.input_shape[:2]
    pre = replace(ds.preprocess, size=(int(size[0]), int(size[1])), channels=ds.input_shape[2])
    x_extra = apply_preprocess(all_raw, pre)
    log.info("merged %d extra samples (%d with augmentation) from %s", len(raw), len(all_raw), folder)
    return replace(
        ds,
        x_train=np.concatenate([ds.x_train, x_extra]),
        y_train=np.concatenate([ds.y_train, all_labels]),
        source=f"{ds.source} + extra {folder}",
    )
