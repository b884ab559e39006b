import numpy as np
import pytest

from training import data
from .conftest import synthetic_rows, write_csv


def test_parse_plain_csv_keeps_pixels_labels_and_splits(tiny_csv):
    path, imgs, labels, usages = tiny_csv
    raw = data.parse_csv(path)
    assert raw.images.shape == (70, 48, 48) and raw.images.dtype == np.uint8
    np.testing.assert_array_equal(raw.images, imgs)
    np.testing.assert_array_equal(raw.labels, labels)
    assert [data.SPLITS[s] for s in raw.splits] == usages
    assert raw.problems == []


def test_parse_gzipped_csv_matches_plain(tmp_path):
    lines, imgs, labels, _ = synthetic_rows(10)
    a = data.parse_csv(write_csv(tmp_path / "a.csv", lines))
    b = data.parse_csv(write_csv(tmp_path / "b.csv.gz", lines, gz=True))
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)


def _malformed(tmp_path):
    lines, _, _, _ = synthetic_rows(8)
    good = lines[0]
    lines[1] = "3," + " ".join(["7"] * 100) + ",Training"                  # line 3: too few pixels
    lines[3] = "2," + " ".join(["x"] + ["1"] * 2303) + ",Training"         # line 5: non-numeric
    lines[4] = "9" + good[1:]                                              # line 6: unknown label
    lines[6] = good.rsplit(",", 1)[0] + ",Holdout"                         # line 8: unknown Usage
    return write_csv(tmp_path / "bad.csv", lines)


def test_malformed_rows_are_skipped_and_reported_with_line_numbers(tmp_path):
    path = _malformed(tmp_path)
    raw = data.parse_csv(path)
    assert len(raw.images) == 4
    got = [p.split(":")[1] for p in raw.problems]
    assert got == ["3", "5", "6", "8"]
    assert "2304 pixel values, got 100" in raw.problems[0]
    assert "non-numeric" in raw.problems[1]
    assert "'9'" in raw.problems[2]
    assert "Holdout" in raw.problems[3]


def test_strict_rejects_first_malformed_row(tmp_path):
    path = _malformed(tmp_path)
    with pytest.raises(data.DataError, match=r"bad\.csv:3: expected 2304 pixel values"):
        data.parse_csv(path, strict=True)


def test_missing_file_and_bad_header(tmp_path):
    with pytest.raises(data.DataError, match="no such file"):
        data.parse_csv(tmp_path / "nope.csv")
    (tmp_path / "h.csv").write_text("label,image\n1,2\n")
    with pytest.raises(data.DataError, match=r"h\.csv:1: header"):
        data.parse_csv(tmp_path / "h.csv")


def test_csv_without_usage_is_all_training(tmp_path):
    lines, _, _, _ = synthetic_rows(5)
    (tmp_path / "n.csv").write_text("emotion,pixels\n" + "\n".join(l.rsplit(",", 1)[0] for l in lines) + "\n")
    raw = data.parse_csv(tmp_path / "n.csv")
    assert set(raw.splits.tolist()) == {0}


def test_cache_round_trip(tiny_csv, tmp_path):
    path, imgs, _, _ = tiny_csv
    a = data.load_raw(path, cache_dir=tmp_path / "cache", log=lambda m: None)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    msgs = []
    b = data.load_raw(path, cache_dir=tmp_path / "cache", log=msgs.append)
    assert any("cache" in m for m in msgs)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.splits, b.splits)


def test_default_mapping_is_identity():
    names, m = data.label_mapping()
    assert names == data.FER_LABELS
    assert m == {i: i for i in range(7)}


def test_classes_subset_and_order():
    names, m = data.label_mapping("angry,happy,sad,neutral")
    assert names == ["angry", "happy", "sad", "neutral"]
    assert m == {0: 0, 3: 1, 4: 2, 6: 3}


def test_merge_disgust_into_angry():
    names, m = data.label_mapping(merge="disgust=angry")
    assert names == ["angry", "fear", "happy", "sad", "surprise", "neutral"]
    assert m[1] == m[0] == 0 and m[2] == 1 and m[6] == 5


def test_merge_with_classes_and_chain():
    names, m = data.label_mapping("angry,happy", merge="disgust=fear,fear=angry")
    assert names == ["angry", "happy"]
    assert m == {0: 0, 1: 0, 2: 0, 3: 1}


@pytest.mark.parametrize("classes,merge,msg", [
    ("angry,joy", None, "unknown label 'joy'"),
    ("angry,angry", None, "repeated"),
    ("happy", None, "at least two"),
    (None, "disgust", "expected src=dst"),
    (None, "disgust=disgust", "into itself"),
    ("disgust,happy", "disgust=angry", "merged away"),
])
def test_bad_label_options(classes, merge, msg):
    with pytest.raises(data.DataError, match=msg):
        data.label_mapping(classes, merge)


def test_make_dataset_relabels_and_drops(tiny_csv):
    path, imgs, labels, usages = tiny_csv
    ds = data.make_dataset(data.parse_csv(path), "angry,happy,sad,neutral", "disgust=angry")
    tr = ds.splits["Training"]
    keep = np.array([l in (0, 1, 3, 4, 6) and u == "Training" for l, u in zip(labels, usages)])
    expect = np.array([{0: 0, 1: 0, 3: 1, 4: 2, 6: 3}[l] for l in labels[keep]])
    np.testing.assert_array_equal(tr.labels, expect)
    np.testing.assert_array_equal(tr.images, imgs[keep])
    assert "PrivateTest" not in ds.splits


def test_folder_layout(tmp_path):
    from PIL import Image
    rng = np.random.RandomState(1)
    for split, n in (("train", 3), ("test", 2)):
        for label in ("happy", "sad"):
            d = tmp_path / split / label
            d.mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.randint(0, 255, (64, 64, 3), dtype=np.uint8)).save(d / f"{i}.png")
    (tmp_path / "train" / "bogus").mkdir()
    raw = data.load_raw(tmp_path, log=lambda m: None)
    assert raw.images.shape == (10, 48, 48)
    assert sorted(np.bincount(raw.splits).tolist()) == [4, 6]
    assert any("bogus" in p for p in raw.problems)
    ds = data.make_dataset(raw, "happy,sad")
    assert ds.counts() == {"Training": [3, 3], "PublicTest": [2, 2]}
