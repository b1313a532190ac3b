"""Dataset layouts on disk: flat class folders with a stratified split, train/ + val|validation|test/, the Intel
seg_train/ + seg_test/ layout, image formats, MNIST/CIFAR files at --data-dir, and training-set augmentation."""

from __future__ import annotations

import gzip
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from codegen.errors import CodegenError
from codegen.train.datasets import Preprocess, load_dataset, parse_augment

RAW = Preprocess(mean=(0.0,), scale=(1.0,))


def _images(folder: Path, n: int, value: int, suffix: str = ".png", size: tuple[int, int] = (6, 8)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        arr = np.full((*size, 3), value, np.uint8)
        arr[0, 0] = i  # distinct images
        Image.fromarray(arr).save(folder / f"img{i}{suffix}")


def test_flat_class_folders_get_a_stratified_seeded_split(tmp_path: Path) -> None:
    _images(tmp_path / "cat", 10, 10)
    _images(tmp_path / "dog", 5, 200)
    a = load_dataset(f"folder:{tmp_path}", RAW, val_split=0.2, split_seed=1)
    assert a.counts() == {"train": {"cat": 8, "dog": 4}, "test": {"cat": 2, "dog": 1}}
    assert "flat class folders" in a.source
    b = load_dataset(f"folder:{tmp_path}", RAW, val_split=0.2, split_seed=1)
    c = load_dataset(f"folder:{tmp_path}", RAW, val_split=0.2, split_seed=2)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_test, c.x_test)
    # labels follow the folders: cats are dark, dogs bright
    assert np.all(a.x_train[a.y_train == 0][:, 1:, 1:] == 10) and np.all(a.x_test[a.y_test == 1][:, 1:] == 200)
    assert load_dataset(f"folder:{tmp_path}", RAW, val_split=0.5).counts()["test"] == {"cat": 5, "dog": 2}
    with pytest.raises(CodegenError, match="--val-split"):
        load_dataset(f"folder:{tmp_path}", RAW, val_split=1.5)


@pytest.mark.parametrize("test_name", ["validation", "val", "test"])
def test_train_plus_validation_val_or_test(tmp_path: Path, test_name: str) -> None:
    _images(tmp_path / "train" / "a", 3, 1)
    _images(tmp_path / "train" / "b", 2, 2)
    _images(tmp_path / test_name / "b", 1, 2)
    ds = load_dataset(f"folder:{tmp_path}", RAW)
    assert ds.counts() == {"train": {"a": 3, "b": 2}, "test": {"a": 0, "b": 1}}
    assert f"train/ + {test_name}/" in ds.source


def test_intel_seg_train_seg_test_layout_with_nested_folders(tmp_path: Path) -> None:
    _images(tmp_path / "seg_train" / "seg_train" / "forest", 2, 50, ".jpg")
    _images(tmp_path / "seg_train" / "seg_train" / "sea", 3, 150, ".jpg")
    _images(tmp_path / "seg_test" / "seg_test" / "forest", 1, 50, ".jpg")
    _images(tmp_path / "seg_test" / "seg_test" / "sea", 1, 150, ".jpg")
    (tmp_path / "seg_pred" / "seg_pred").mkdir(parents=True)
    ds = load_dataset(f"folder:{tmp_path}", Preprocess(size=(4, 4)))
    assert ds.class_names == ("forest", "sea")
    assert ds.counts() == {"train": {"forest": 2, "sea": 3}, "test": {"forest": 1, "sea": 1}}


def test_every_pillow_format_is_read(tmp_path: Path) -> None:
    for i, suffix in enumerate((".png", ".jpg", ".bmp", ".gif", ".tiff", ".webp", ".ppm")):
        _images(tmp_path / "x", 1, 100, suffix)
        (tmp_path / "x" / f"img0{suffix}").rename(tmp_path / "x" / f"f{i}{suffix}")
        _images(tmp_path / "y", 1, 30, suffix)
        (tmp_path / "y" / f"img0{suffix}").rename(tmp_path / "y" / f"f{i}{suffix}")
    (tmp_path / "x" / "notes.txt").write_text("not an image")
    ds = load_dataset(f"folder:{tmp_path}", RAW, val_split=0.3)
    assert sum(ds.counts()["train"].values()) + sum(ds.counts()["test"].values()) == 14


def test_a_broken_image_is_named(tmp_path: Path) -> None:
    _images(tmp_path / "a", 2, 1)
    (tmp_path / "a" / "bad.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(CodegenError, match="bad.png"):
        load_dataset(f"folder:{tmp_path}", RAW)


# -- MNIST / CIFAR from files ---------------------------------------------------------------------------------


def _cifar_batch(n: int, label_key: bytes, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return pickle.dumps({b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         label_key: list(range(n))})


def _write_cifar10(folder: Path) -> None:
    folder.mkdir(parents=True)
    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(_cifar_batch(2, b"labels", i))
    (folder / "test_batch").write_bytes(_cifar_batch(3, b"labels", 9))


def test_extracted_cifar10_folder_loads_without_any_download(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import socket

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    _write_cifar10(tmp_path / "cifar-10-batches-py")
    ds = load_dataset("cifar10", RAW, data_dir=tmp_path)
    assert ds.x_train.shape == (10, 32, 32, 3) and ds.x_test.shape == (3, 32, 32, 3)
    assert ds.y_test.tolist() == [0, 1, 2] and ds.class_names[0] == "airplane"
    # channel-first rows of the pickle become HWC pixels
    raw = pickle.loads((tmp_path / "cifar-10-batches-py" / "test_batch").read_bytes())[b"data"]
    assert ds.x_test[1, 0, 2].tolist() == [raw[1][2], raw[1][1024 + 2], raw[1][2048 + 2]]
    # the same from the Keras cache, where the extracted folder sits beside the archive
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    _write_cifar10(tmp_path / "home" / ".keras" / "datasets" / "cifar-10-batches-py")
    assert load_dataset("cifar10", RAW).x_train.shape == (10, 32, 32, 3)


def test_cifar_archives_are_read_without_extracting(tmp_path: Path) -> None:
    _write_cifar10(tmp_path / "src" / "cifar-10-batches-py")
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    assert load_dataset("cifar10", RAW, data_dir=tmp_path).x_test.shape == (3, 32, 32, 3)
    assert not (tmp_path / "cifar-10-batches-py").exists()
    folder = tmp_path / "c100" / "cifar-100-python"
    folder.mkdir(parents=True)
    (folder / "train").write_bytes(_cifar_batch(4, b"fine_labels", 1))
    (folder / "test").write_bytes(_cifar_batch(2, b"fine_labels", 2))
    with tarfile.open(tmp_path / "cifar-100-python.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar-100-python")
    ds = load_dataset("cifar100", RAW, data_dir=tmp_path)
    assert ds.x_train.shape == (4, 32, 32, 3) and ds.y_train.tolist() == [0, 1, 2, 3]
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "cifar-100-python.tar.gz").write_bytes(b"\x1f\x8b truncated")
    with pytest.raises(CodegenError, match="cannot read the archive"):
        load_dataset("cifar100", RAW, data_dir=tmp_path / "broken")


def test_mnist_from_npz_or_idx_files_at_data_dir(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), "y_train": np.arange(5) % 10,
              "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8), "y_test": np.array([7, 1])}
    np.savez(tmp_path / "mnist.npz", **arrays)
    ds = load_dataset("mnist", RAW, data_dir=tmp_path)
    assert ds.x_train.shape == (5, 28, 28, 1) and ds.y_test.tolist() == [7, 1]
    np.testing.assert_array_equal(ds.x_test[..., 0], arrays["x_test"])
    idx = tmp_path / "idx"
    idx.mkdir()
    for split, xs, ys in (("train", arrays["x_train"], arrays["y_train"]), ("t10k", arrays["x_test"],
                                                                              arrays["y_test"])):
        with gzip.open(idx / f"{split}-images-idx3-ubyte.gz", "wb") as f:
            f.write(bytes([0, 0, 8, 3]) + np.array(xs.shape, ">u4").tobytes() + xs.tobytes())
        (idx / f"{split}-labels-idx1-ubyte").write_bytes(
            bytes([0, 0, 8, 1]) + np.array([len(ys)], ">u4").tobytes() + ys.astype(np.uint8).tobytes())
    ds2 = load_dataset("mnist", RAW, data_dir=idx)
    np.testing.assert_array_equal(ds2.x_test, ds.x_test)
    assert ds2.y_train.tolist() == ds.y_train.tolist()


@pytest.mark.parametrize(
    ("name", "expected"),
    [("mnist", "mnist.npz"), ("fashion_mnist", "fashion-mnist/train-images-idx3-ubyte.gz"),
     ("cifar10", "cifar-10-batches-py/"), ("cifar100", "cifar-100-python.tar.gz")],
)
def test_missing_dataset_files_are_named_exactly(tmp_path: Path, name: str, expected: str) -> None:
    with pytest.raises(CodegenError) as err:
        load_dataset(name, data_dir=tmp_path)
    assert str(tmp_path / expected) in err.value.message
    with pytest.raises(CodegenError, match="does not exist"):
        load_dataset(name, data_dir=tmp_path / "missing")


# -- augmentation of the training set --------------------------------------------------------------------------


def test_augment_spec_turns_on_only_the_named_operations() -> None:
    aug = parse_augment("crop,scale=0.2,flip", copies=2, seed=3)
    assert aug.ops == ("crop", "scale", "flip") and aug.scale == 0.2 and aug.crop == 0.1
    assert parse_augment("rotate=15,brightness").ops == ("rotate", "brightness")
    for bad in ("zoom", "crop=2", "rotate=x"):
        with pytest.raises(CodegenError):
            parse_augment(bad)


@pytest.mark.parametrize("op", ["crop", "scale", "flip", "rotate", "brightness"])
def test_each_augmentation_changes_training_images_reproducibly(op: str) -> None:
    from codegen.train.datasets import Subset

    pre = Preprocess(size=(16, 16), channels=1)
    plain = load_dataset("digits", pre, Subset(train=20, test=5, seed=0))
    a = load_dataset("digits", pre, Subset(train=20, test=5, seed=0), augment=parse_augment(op, 2, seed=7))
    b = load_dataset("digits", pre, Subset(train=20, test=5, seed=0), augment=parse_augment(op, 2, seed=7))
    assert len(a.x_train) == 60 and a.y_train[20:].tolist() == np.repeat(plain.y_train, 2).tolist()
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.x_train[:20], plain.x_train)  # originals kept as they were
    np.testing.assert_array_equal(a.x_test, plain.x_test)  # the test split is never augmented
    changed = [not np.allclose(x, plain.x_train[i // 2]) for i, x in enumerate(a.x_train[20:])]
    assert sum(changed) >= 10, op
