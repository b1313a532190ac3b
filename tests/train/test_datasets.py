"""Datasets: bundled digits, preprocessing, subsets, offline Keras datasets, folders, extra samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from codegen.errors import CodegenError
from codegen.train.datasets import (
    Augment,
    Preprocess,
    Subset,
    augment_images,
    load_dataset,
    merge_extra_samples,
    parse_size,
)


def test_digits_default_split_is_fixed_and_scaled_to_unit_range() -> None:
    a = load_dataset("digits")
    b = load_dataset("digits")
    assert a.x_train.shape == (1442, 8, 8, 1) and a.x_test.shape == (355, 8, 8, 1)
    assert a.class_names == tuple(str(i) for i in range(10))
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert a.x_train.dtype == np.float32
    assert a.x_train.min() == 0.0 and a.x_train.max() == pytest.approx(1.0)
    assert set(np.unique(a.y_test)) == set(range(10))


def test_digits_resize_rgb_bgr_and_per_channel_mean_scale() -> None:
    pre = Preprocess(size=(32, 24), channels=3, bgr=True, mean=(10.0, 20.0, 30.0), scale=(1.0, 0.5, 0.25))
    ds = load_dataset("digits", pre, Subset(train=20, test=5, seed=3))
    assert ds.input_shape == (32, 24, 3)
    assert len(ds.x_train) == 20 and len(ds.x_test) == 5
    gray = load_dataset(
        "digits",
        Preprocess(size=(32, 24), channels=1, mean=(0.0,), scale=(1.0,)),
        Subset(train=20, test=5, seed=3),
    )
    # grey replicated to 3 channels, BGR reversed, then per-channel (x - mean) * scale
    np.testing.assert_allclose(ds.x_train[..., 0], (gray.x_train[..., 0] - 10.0) * 1.0, atol=1e-4)
    np.testing.assert_allclose(ds.x_train[..., 2], (gray.x_train[..., 0] - 30.0) * 0.25, atol=1e-4)


def test_center_crop_keeps_aspect_ratio() -> None:
    image = np.zeros((1, 10, 20, 1), np.float32)
    image[:, :, 5:15] = 255.0  # bright centre band, dark left/right borders
    from codegen.train.datasets import apply_preprocess

    out = apply_preprocess(image, Preprocess(size=(10, 10), crop="center", mean=(0.0,), scale=(1.0,)))
    assert out.shape == (1, 10, 10, 1)
    assert out.min() > 200.0  # the crop kept only the bright centre
    squashed = apply_preprocess(image, Preprocess(size=(10, 10), mean=(0.0,), scale=(1.0,)))
    assert squashed.min() < 50.0


def test_subset_is_repeatable_and_seed_dependent() -> None:
    a = load_dataset("digits", subset=Subset(train=50, test=10, seed=1))
    b = load_dataset("digits", subset=Subset(train=50, test=10, seed=1))
    c = load_dataset("digits", subset=Subset(train=50, test=10, seed=2))
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)


def test_offline_keras_dataset_names_the_exact_cache_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(CodegenError) as err:
        load_dataset("cifar10")
    assert str(tmp_path / ".keras" / "datasets" / "cifar-10-batches-py.tar.gz") in str(err.value)
    with pytest.raises(CodegenError) as err:
        load_dataset("mnist")
    assert str(tmp_path / ".keras" / "datasets" / "mnist.npz") in str(err.value)


def test_unknown_dataset_and_missing_folder_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CodegenError, match="unknown dataset"):
        load_dataset("imagenet")
    missing = tmp_path / "nope"
    with pytest.raises(CodegenError, match=f"dataset folder {missing} does not exist"):
        load_dataset(f"folder:{missing}")
    (tmp_path / "empty" / "train" / "a").mkdir(parents=True)
    with pytest.raises(CodegenError, match="no images found"):
        load_dataset(f"folder:{tmp_path / 'empty'}")
    (tmp_path / "nothing").mkdir()
    with pytest.raises(CodegenError, match="has no <class>/ sub-folders"):
        load_dataset(f"folder:{tmp_path / 'nothing'}")


def _write_images(root: Path, classes: dict[str, int], size: tuple[int, int] = (12, 16)) -> None:
    rng = np.random.default_rng(0)
    for cls, n in classes.items():
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            arr = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / cls / f"{i}.png")


def test_folder_dataset_reads_class_folders(tmp_path: Path) -> None:
    _write_images(tmp_path / "train", {"cat": 3, "dog": 2})
    _write_images(tmp_path / "validation", {"cat": 1, "dog": 1})
    ds = load_dataset(f"folder:{tmp_path}", Preprocess(size=(8, 8)))
    assert ds.class_names == ("cat", "dog")
    assert ds.x_train.shape == (5, 8, 8, 3) and ds.x_test.shape == (2, 8, 8, 3)
    assert ds.y_train.tolist() == [0, 0, 0, 1, 1]


def test_extra_samples_are_augmented_and_merged(tmp_path: Path) -> None:
    base = load_dataset("digits", Preprocess(size=(16, 16), channels=1), Subset(train=30, test=5))
    _write_images(tmp_path, {"3": 2, "7": 1}, size=(20, 20))
    merged = merge_extra_samples(base, tmp_path, Augment(copies=4, seed=1))
    assert len(merged.x_train) == 30 + 3 * 5
    assert merged.x_train.shape[1:] == (16, 16, 1)
    assert merged.y_train[30:].tolist().count(3) == 10 and merged.y_train[30:].tolist().count(7) == 5
    with pytest.raises(CodegenError, match="not classes"):
        (tmp_path / "zebra").mkdir()
        merge_extra_samples(base, tmp_path)


def test_augmentation_changes_images_repeatably() -> None:
    img = np.random.default_rng(0).uniform(0, 255, (1, 16, 16, 1)).astype(np.float32)
    a = augment_images(img, Augment(copies=3, seed=5))
    b = augment_images(img, Augment(copies=3, seed=5))
    assert a.shape == (3, 16, 16, 1)
    np.testing.assert_array_equal(a, b)
    assert all(not np.allclose(x, img[0]) for x in a)


def test_parse_size() -> None:
    assert parse_size("32") == (32, 32)
    assert parse_size("24x32") == (24, 32)
    with pytest.raises(CodegenError):
        parse_size("big")


def test_cached_keras_dataset_loads_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import gzip

    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / ".keras" / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("t10k", 3)):
        labels = np.arange(n, dtype=np.uint8)
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        with gzip.open(folder / f"{split}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\0" * 8 + labels.tobytes())
        with gzip.open(folder / f"{split}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\0" * 16 + images.tobytes())
    ds = load_dataset("fashion_mnist", Preprocess(size=(32, 32), channels=3))
    assert ds.x_train.shape == (6, 32, 32, 3) and ds.x_test.shape == (3, 32, 32, 3)
    assert ds.y_test.tolist() == [0, 1, 2]
    assert ds.class_names[0] == "t-shirt" and len(ds.class_names) == 10
