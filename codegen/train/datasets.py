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
            "counts": self.counts(),
            "preprocess": self.preprocess.to_json(),
        }

    def counts(self) -> dict[str, dict[str, int]]:
        """Images per class and split: ``{"train": {class: n}, "test": {class: n}}``."""
        out = {}
        for split, y in (("train", self.y_train), ("test", self.y_test)):
            n = np.bincount(y.astype(np.int64), minlength=self.num_classes) if len(y) else np.zeros(self.num_classes)
            out[split] = {c: int(n[i]) for i, c in enumerate(self.class_names)}
        return out


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


def load_dataset(
    spec: str,
    preprocess: Preprocess | None = None,
    subset: Subset | None = None,
    *,
    val_split: float = 0.2,
    split_seed: int = 0,
    data_dir: Path | None = None,
    augment: Augment | None = None,
) -> Dataset:
    """Load the dataset named by ``spec`` and preprocess it (see the module docstring for specs).

    ``val_split`` and ``split_seed`` split folders that have no test split (stratified per class);
    ``data_dir`` is where MNIST/CIFAR files are looked for instead of the Keras cache; ``augment`` adds
    ``augment.copies`` augmented versions of every training image (after the subset is drawn).
    """
    pre = preprocess or Preprocess()
    name = spec.strip()
    if name.startswith("folder:"):
        raw = _load_folder(Path(name[len("folder:") :]).expanduser(), val_split, split_seed)
    elif name == "digits":
        raw = _load_digits()
    elif name in KERAS_DATASETS:
        raw = _load_keras(name, Path(data_dir).expanduser() if data_dir is not None else None)
    else:
        raise CodegenError(f"unknown dataset {spec!r}", hint=f"use one of {', '.join(DATASETS)}")
    x_train, y_train, x_test, y_test, classes, source = raw
    if subset is not None:
        x_train, y_train = _subset(x_train, y_train, subset.train, subset.seed)
        x_test, y_test = _subset(x_test, y_test, subset.test, subset.seed + 1)
    if augment is not None and augment.copies > 0 and augment.ops and len(x_train):
        extra = augment_images(x_train, augment)
        x_train = np.concatenate([x_train, extra])
        y_train = np.concatenate([y_train, np.repeat(y_train, augment.copies)])
        source += f", augmented {augment.describe()}"
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
    """Where the Keras loaders keep dataset files (used when no ``--data-dir`` is given)."""
    return Path("~/.keras/datasets").expanduser()


# What the standard distributions of the Keras datasets look like on disk. Any one alternative is enough.
_IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_EXPECTED: dict[str, tuple[str, ...]] = {
    "mnist": ("mnist.npz", "train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz] + t10k-...[.gz]"),
    "fashion_mnist": (
        "fashion-mnist/train-images-idx3-ubyte.gz (+ the 3 other idx files)",
        "train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz] + t10k-...[.gz]",
    ),
    "cifar10": ("cifar-10-batches-py/ (extracted)", "cifar-10-python.tar.gz", "cifar-10-batches-py.tar.gz"),
    "cifar100": ("cifar-100-python/ (extracted)", "cifar-100-python.tar.gz"),
}


def _find_idx(folder: Path) -> dict[str, Path] | None:
    found = {}
    for stem in _IDX:
        for cand in (folder / stem, folder / f"{stem}.gz", folder / stem.replace("-idx", ".idx")):
            if cand.is_file():
                found[stem] = cand
                break
        else:
            return None
    return found


def _read_idx(path: Path) -> np.ndarray:
    import gzip
    import struct

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:  # type: ignore[operator]
        data = f.read()
    if len(data) < 8 or data[0] != 0 or data[1] != 0:
        raise CodegenError(f"{path} is not an IDX file", hint="use the files from the MNIST distribution")
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    arr = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise CodegenError(f"{path} is truncated", hint="download the file again")
    return arr.reshape(dims)


def _read_idx_legacy(path: Path, header: int) -> np.ndarray:
    """The Keras cache's fashion-mnist files are read by skipping the header (as ``tf_keras`` does)."""
    import gzip

    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=header)


def _unpickle(data: bytes, where: str) -> dict:
    import pickle

    try:
        return pickle.loads(data, encoding="bytes")  # noqa: S301 - the CIFAR distribution format
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a damaged file
        raise CodegenError(f"cannot read {where}: {exc}", hint="the file is damaged; download it again") from exc


def _cifar_arrays(parts: list[dict], label_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([np.asarray(p[b"data"], np.uint8).reshape(-1, 3, 32, 32) for p in parts])
    y = np.concatenate([np.asarray(p[label_key], np.int64) for p in parts])
    return x.transpose(0, 2, 3, 1).astype(np.float32), y


def _read_cifar(name: str, folder: Path | None, archive: Path | None) -> tuple[np.ndarray, ...]:
    """CIFAR-10/100 from the extracted python folder or the .tar.gz archive (read without extracting)."""
    if name == "cifar10":
        members = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        key = b"labels"
    else:
        members = ["train", "test"]
        key = b"fine_labels"
    blobs: dict[str, bytes] = {}
    if folder is not None:
        for m in members:
            f = folder / m
            if not f.is_file():
                raise CodegenError(f"{f} is missing", hint=f"{folder} must hold {', '.join(members)}")
            blobs[m] = f.read_bytes()
    else:
        import tarfile

        if archive is None:
            raise CodegenError("no dataset folder or archive was given", hint="pass --data-dir")
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar.getmembers():
                    base = member.name.rsplit("/", 1)[-1]
                    if base in members and member.isfile():
                        fobj = tar.extractfile(member)
                        if fobj is not None:
                            blobs[base] = fobj.read()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise CodegenError(
                f"cannot read the archive {archive}: {exc}", hint="the file is incomplete; download it again"
            ) from exc
        missing = [m for m in members if m not in blobs]
        if missing:
            raise CodegenError(
                f"the archive {archive} lacks {', '.join(missing)}", hint="download the complete archive again"
            )
    parts = [_unpickle(blobs[m], m) for m in members]
    x_tr, y_tr = _cifar_arrays(parts[:-1], key)
    x_te, y_te = _cifar_arrays(parts[-1:], key)
    return x_tr, y_tr, x_te, y_te


def _load_keras(name: str, data_dir: Path | None = None) -> _Raw:
    """MNIST, Fashion-MNIST, CIFAR-10/100 from files on disk: ``data_dir`` if given, else the Keras cache.

    Nothing is downloaded. Accepted files (any one alternative): see ``_EXPECTED``.
    """
    roots = [data_dir] if data_dir is not None else [keras_cache_dir()]
    if data_dir is not None and not data_dir.is_dir():
        raise CodegenError(f"--data-dir {data_dir} does not exist", hint="give the folder holding the dataset files")
    for root in roots:
        raw = _try_keras_files(name, root)
        if raw is not None:
            x_train, y_train, x_test, y_test = raw
            if x_train.ndim == 3:
                x_train, x_test = x_train[..., None], x_test[..., None]
            num = int(max(y_train.max(), y_test.max())) + 1
            classes = {"cifar10": _CIFAR10_CLASSES, "fashion_mnist": _FASHION_CLASSES}.get(
                name, tuple(str(i) for i in range(num))
            )
            return (
                x_train.astype(np.float32),
                y_train.reshape(-1).astype(np.int64),
                x_test.astype(np.float32),
                y_test.reshape(-1).astype(np.int64),
                classes,
                f"{name} ({root})",
            )
    root = roots[0]
    expected = " or ".join(str(root / f) for f in _EXPECTED[name])
    raise CodegenError(
        f"dataset {name} is not available offline: expected {expected}",
        hint="download it on a connected machine and copy it there, pass --data-dir DIR, or use --dataset digits",
    )


def _try_keras_files(name: str, root: Path) -> tuple[np.ndarray, ...] | None:
    if name == "mnist":
        npz = root / "mnist.npz"
        if npz.is_file():
            try:
                with np.load(npz, allow_pickle=False) as f:
                    return f["x_train"], f["y_train"], f["x_test"], f["y_test"]
            except (OSError, KeyError, ValueError, EOFError) as exc:
                raise CodegenError(f"cannot read {npz}: {exc}", hint="the file is damaged; download it again") from exc
        idx = _find_idx(root)
        if idx is not None:
            return tuple(_read_idx(idx[k]) for k in _IDX)  # type: ignore[return-value]
        return None
    if name == "fashion_mnist":
        for folder in (root / "fashion-mnist", root):
            idx = _find_idx(folder)
            if idx is not None:
                return tuple(_read_idx_or_legacy(idx[k], k) for k in _IDX)  # type: ignore[return-value]
        return None
    extracted = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}[name]
    archives = {"cifar10": ("cifar-10-python.tar.gz", "cifar-10-batches-py.tar.gz"), "cifar100": (
        "cifar-100-python.tar.gz",)}[name]
    for folder in (root / extracted, root):
        if (folder / ("test_batch" if name == "cifar10" else "test")).is_file():
            return _read_cifar(name, folder, None)
    for a in archives:
        if (root / a).is_file():
            return _read_cifar(name, None, root / a)
    return None


def _read_idx_or_legacy(path: Path, stem: str) -> np.ndarray:
    """IDX with a proper header, or the raw-offset reading for files whose header was not kept."""
    try:
        return _read_idx(path)
    except CodegenError:
        header = 8 if "labels" in stem else 16
        arr = _read_idx_legacy(path, header)
        return arr if "labels" in stem else arr.reshape(-1, 28, 28)


def _class_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


TEST_SPLITS = ("validation", "val", "test")
FOLDER_LAYOUTS = (
    "PATH/train/<class>/ + PATH/validation|val|test/<class>/, PATH/seg_train/ + PATH/seg_test/ (Intel), "
    "or flat PATH/<class>/ (split with --val-split)"
)


def _unnest(folder: Path) -> Path:
    """Kaggle archives often repeat the split folder inside itself (seg_train/seg_train/<class>/)."""
    inner = folder / folder.name
    subdirs = _class_dirs(folder)
    return inner if len(subdirs) == 1 and subdirs[0] == inner and _class_dirs(inner) else folder


def _folder_splits(root: Path) -> tuple[Path | None, Path | None, str]:
    """(train folder, test folder or None, layout name) for a dataset folder; (None, None, "flat") for flat."""
    for train_name, test_names in (("train", TEST_SPLITS), ("seg_train", ("seg_test",))):
        train = root / train_name
        if train.is_dir():
            for t in test_names:
                if (root / t).is_dir():
                    return _unnest(train), _unnest(root / t), f"{train_name}/ + {t}/"
            return _unnest(train), None, f"{train_name}/ (split with --val-split)"
    return None, None, "flat class folders (split with --val-split)"


def _load_folder(root: Path, val_split: float = 0.2, seed: int = 0) -> _Raw:
    if not root.is_dir():
        raise CodegenError(
            f"dataset folder {root} does not exist",
            hint=f"give folder:PATH with one of these layouts: {FOLDER_LAYOUTS}",
        )
    train_dir, test_dir, layout = _folder_splits(root)
    source_root = train_dir or root
    if not _class_dirs(source_root):
        raise CodegenError(
            f"dataset folder {source_root} has no <class>/ sub-folders",
            hint=f"use one of these layouts: {FOLDER_LAYOUTS}",
        )
    classes = tuple(p.name for p in _class_dirs(source_root))
    if test_dir is not None:
        test_classes = tuple(p.name for p in _class_dirs(test_dir))
        unknown = sorted(set(test_classes) - set(classes))
        if unknown:
            raise CodegenError(
                f"{test_dir.name}/ classes {unknown} have no training folder in {source_root}",
                hint=f"use the same class folder names in {source_root.name}/ and {test_dir.name}/",
            )
        x_tr, y_tr = read_class_folders(source_root, classes)
        x_te, y_te = read_class_folders(test_dir, classes)
    else:
        if not 0.0 < val_split < 1.0:
            raise CodegenError(
                f"--val-split must be between 0 and 1, got {val_split}", hint="e.g. --val-split 0.2"
            )
        x, y = read_class_folders(source_root, classes)
        test_mask = stratified_test_mask(y, val_split, seed)
        x_tr, y_tr, x_te, y_te = x[~test_mask], y[~test_mask], x[test_mask], y[test_mask]
        if not len(x_te) or not len(x_tr):
            raise CodegenError(
                f"{root} has too few images for a {val_split:.0%} validation split ({len(x)} images)",
                hint="add images or change --val-split",
            )
    return x_tr, y_tr, x_te, y_te, classes, f"folder {root} ({layout})"


def stratified_test_mask(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A boolean mask choosing ``fraction`` of each class (rounded, at least one when the class has two or more
    images) with ``seed``: the same labels, fraction and seed always give the same split."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n = int(round(len(idx) * fraction))
        if len(idx) >= 2:
            n = min(max(n, 1), len(idx) - 1)
        else:
            n = 0
        mask[rng.choice(idx, size=n, replace=False)] = True
    return mask


def image_suffixes() -> tuple[str, ...]:
    """File suffixes Pillow can open on this installation (PNG, JPEG, BMP, GIF, TIFF, WebP, PPM ...)."""
    from PIL import Image

    return tuple(sorted(set(Image.registered_extensions()) | set(IMAGE_SUFFIXES)))


def read_class_folders(root: Path, classes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read ``root/<class>/*`` images (native size, RGB 0..255) in sorted order; labels index ``classes``."""
    from PIL import Image

    suffixes = image_suffixes()
    images: list[np.ndarray] = []
    labels: list[int] = []
    for label, cls in enumerate(classes):
        folder = root / cls
        if not folder.is_dir():
            continue
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() not in suffixes or not f.is_file():
                continue
            try:
                with Image.open(f) as im:
                    images.append(np.asarray(im.convert("RGB"), dtype=np.float32))
            except (OSError, ValueError, Image.DecompressionBombError) as exc:
                raise CodegenError(
                    f"cannot read image {f}: {exc}", hint="remove or re-save the file"
                ) from exc
            labels.append(label)
    if not images:
        raise CodegenError(
            f"no images found in {root}/<class>/",
            hint="add image files (png, jpg, bmp, gif, tiff, webp ... anything Pillow reads) to the class folders",
        )
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        # different native sizes: bring everything to the most common size; Preprocess resizes afterwards
        target = max(shapes, key=lambda s: sum(im.shape == s for im in images))
        images = [im if im.shape == target else _resize(im, (target[0], target[1]), "none") for im in images]
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


AUGMENT_DEFAULTS: dict[str, float] = {
    "crop": 0.1,  # random shift of up to 10 % of the size (a random crop of a zero-padded image)
    "scale": 0.1,  # zoom in or out by up to 10 %
    "flip": 1.0,  # horizontal flip with probability 1/2
    "vflip": 1.0,  # vertical flip with probability 1/2
    "rotate": 10.0,  # rotation by up to 10 degrees either way
    "brightness": 0.2,  # pixel values times 1 +- 0.2
}


@dataclass(frozen=True)
class Augment:
    """Random augmentation of raw 0..255 images: ``copies`` new versions per image, reproducible by ``seed``.

    A strength of 0 (or False) turns an operation off. The defaults are the ones used for ``--extra`` samples;
    :func:`parse_augment` builds one from ``--augment crop,scale=0.2,flip``.
    """

    copies: int = 8
    hflip: bool = True
    vflip: bool = False
    max_rotation_deg: float = 10.0
    brightness: float = 0.2
    scale: float = 0.1
    crop: float = 0.0
    seed: int = 0

    @property
    def ops(self) -> tuple[str, ...]:
        on = {
            "crop": self.crop > 0,
            "scale": self.scale > 0,
            "flip": self.hflip,
            "vflip": self.vflip,
            "rotate": self.max_rotation_deg > 0,
            "brightness": self.brightness > 0,
        }
        return tuple(k for k, v in on.items() if v)

    def describe(self) -> str:
        strength = {
            "crop": self.crop,
            "scale": self.scale,
            "rotate": self.max_rotation_deg,
            "brightness": self.brightness,
        }
        parts = [f"{op}={strength[op]:g}" if op in strength else op for op in self.ops]
        return f"{','.join(parts) or 'none'} x{self.copies} (seed {self.seed})"

    def to_json(self) -> dict[str, object]:
        return {
            "ops": list(self.ops),
            "copies": self.copies,
            "crop": self.crop,
            "scale": self.scale,
            "rotate": self.max_rotation_deg,
            "brightness": self.brightness,
            "seed": self.seed,
        }


def parse_augment(text: str, copies: int = 1, seed: int = 0) -> Augment:
    """``"crop,scale=0.2,flip,rotate=15,brightness"`` -> an :class:`Augment` with only those operations on
    (strengths default to :data:`AUGMENT_DEFAULTS`)."""
    chosen: dict[str, float] = {}
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name not in AUGMENT_DEFAULTS:
            raise CodegenError(
                f"unknown augmentation {name!r}", hint=f"use some of {', '.join(AUGMENT_DEFAULTS)}, e.g. crop,flip"
            )
        try:
            strength = float(value) if value.strip() else AUGMENT_DEFAULTS[name]
        except ValueError as exc:
            raise CodegenError(f"bad strength in --augment {item!r}", hint="write e.g. rotate=15") from exc
        if strength < 0 or (name in ("crop", "scale", "brightness") and strength >= 1):
            raise CodegenError(
                f"augmentation strength {item!r} is out of range",
                hint="crop, scale and brightness take fractions in [0, 1), rotate takes degrees",
            )
        chosen[name] = strength
    if copies < 0:
        raise CodegenError("--augment-copies must not be negative", hint="e.g. --augment-copies 1")
    return Augment(
        copies=copies,
        hflip=chosen.get("flip", 0) > 0,
        vflip=chosen.get("vflip", 0) > 0,
        max_rotation_deg=chosen.get("rotate", 0.0),
        brightness=chosen.get("brightness", 0.0),
        scale=chosen.get("scale", 0.0),
        crop=chosen.get("crop", 0.0),
        seed=seed,
    )


def _augment_one(image: np.ndarray, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    from PIL import Image

    h, w, chans = image.shape
    # draw every random number, used or not, so that turning one operation on does not reshuffle the others
    flip_h, flip_v = rng.random() < 0.5, rng.random() < 0.5
    angle = float(rng.uniform(-1.0, 1.0)) * aug.max_rotation_deg
    s = 1.0 + float(rng.uniform(-1.0, 1.0)) * aug.scale
    u_top, u_left = float(rng.random()), float(rng.random())
    dy, dx = (float(v) * aug.crop for v in rng.uniform(-1.0, 1.0, 2))
    factor = 1.0 + float(rng.uniform(-1.0, 1.0)) * aug.brightness
    img = image
    if aug.hflip and flip_h:
        img = img[:, ::-1]
    if aug.vflip and flip_v:
        img = img[::-1]
    if angle or s != 1.0:
        nh, nw = max(1, round(h * s)), max(1, round(w * s))
        planes = []
        for c in range(chans):
            im = Image.fromarray(np.ascontiguousarray(img[..., c]).astype(np.float32), mode="F")
            if angle:
                im = im.rotate(angle, resample=Image.Resampling.BILINEAR)
            if (nh, nw) != (h, w):
                im = im.resize((nw, nh), Image.Resampling.BILINEAR)
            planes.append(np.asarray(im, np.float32))
        scaled = np.stack(planes, -1)
        canvas = np.zeros((h, w, chans), np.float32)
        if nh >= h and nw >= w:  # random crop back to the original size
            top, left = int(u_top * (nh - h + 1)), int(u_left * (nw - w + 1))
            canvas = scaled[top : top + h, left : left + w]
        else:  # random placement on a black canvas
            top, left = int(u_top * (h - min(nh, h) + 1)), int(u_left * (w - min(nw, w) + 1))
            part = scaled[: min(nh, h), : min(nw, w)]
            canvas[top : top + part.shape[0], left : left + part.shape[1]] = part
        img = canvas
    if aug.crop:
        sy, sx = int(round(dy * h)), int(round(dx * w))
        shifted = np.zeros_like(img)
        src = img[max(0, -sy) : h - max(0, sy), max(0, -sx) : w - max(0, sx)]
        shifted[max(0, sy) : max(0, sy) + src.shape[0], max(0, sx) : max(0, sx) + src.shape[1]] = src
        img = shifted
    return np.clip(np.asarray(img, np.float32) * factor, 0.0, 255.0)


def augment_images(images: np.ndarray, aug: Augment) -> np.ndarray:
    """``copies`` randomly augmented versions of each raw 0..255 NHWC image (originals not included), in order
    image 0 copy 0, image 0 copy 1, ...; the same images and ``aug`` always give the same result."""
    rng = np.random.default_rng(aug.seed)
    out = [_augment_one(image, aug, rng) for image in images for _ in range(aug.copies)]
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
