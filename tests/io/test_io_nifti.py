"""SMN activity from ICA maps within an SMA mask: real nibabel images and images the tests write."""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
import pytest

from alsstats.errors import DataValidationError
from alsstats.io.nifti import load_mask, smn_activity, smn_activity_stack

AFFINE = np.diag([2.0, 2.0, 2.0, 1.0])


@pytest.fixture(scope="module")
def nifti_dir(reference_path):
    return reference_path("formats/nifti")


def _save(path, data, affine=AFFINE, sform=None):
    img = nib.Nifti1Image(np.asarray(data), affine)
    if sform is not None:
        img.set_sform(affine, code=sform)
        img.set_qform(affine, code=sform)
    nib.save(img, path)
    return path


def _mask(tmp_path, shape=(5, 5, 5), value=255, **kw):
    m = np.zeros(shape, dtype=np.uint8)
    m[1:3, 1:3, 1:3] = value
    return load_mask(_save(tmp_path / "mask.nii.gz", m, **kw))


def test_real_functional_stack_with_mask_on_its_grid(nifti_dir, tmp_path):
    func = nifti_dir / "functional.nii"          # (17, 21, 3, 20), 4x4x8 mm, sform code 2
    img = nib.load(func)
    box = np.zeros(img.shape[:3], dtype=np.uint8)
    box[5:10, 6:12, 1] = 1
    mpath = tmp_path / "mask.nii"
    m = nib.Nifti1Image(box, img.affine)
    m.set_sform(img.affine, code=2)
    m.set_qform(img.affine, code=2)
    nib.save(m, mpath)
    mask = load_mask(mpath)
    v = smn_activity(func, mask, component=7)
    expected = img.get_fdata()[..., 7][box > 0].mean()
    assert v.value == pytest.approx(expected, rel=1e-12)
    assert v.n_voxels == 30 and not v.flipped


def test_real_grid_mismatch_anatomical_vs_functional(nifti_dir):
    mask = load_mask(nifti_dir / "anatomical.nii")   # (33, 41, 25), 2 mm, same space
    with pytest.raises(DataValidationError,
                       match=r"functional\.nii: grid mismatch: map shape \(17, 21, 3\) differs "
                             r"from mask .*anatomical\.nii shape \(33, 41, 25\)"):
        smn_activity(nifti_dir / "functional.nii", mask, component=0)


def test_real_0_255_mask_binarised(nifti_dir):
    path = nifti_dir / "standard.nii.gz"             # (4, 5, 7) uint8 {0, 255}
    raw = np.asanyarray(nib.load(path).dataobj)
    mask = load_mask(path)
    assert mask.voxels.sum() == int((raw == 255).sum()) > 0
    assert mask.voxels.dtype == bool


def test_real_truncated_file_is_a_clear_error(nifti_dir, tmp_path):
    data = (nifti_dir / "functional.nii").read_bytes()
    cut = tmp_path / "cut.nii"
    cut.write_bytes(data[: len(data) * 2 // 3])
    mask = load_mask(nifti_dir / "standard.nii.gz")
    with pytest.raises(DataValidationError, match=r"cut\.nii: ICA map: unreadable NIfTI "
                                                  r"\(OSError: Expected"):
        smn_activity(cut, mask)
    gz = tmp_path / "cut.nii.gz"
    gz.write_bytes(gzip.compress(data)[:5000])
    with pytest.raises(DataValidationError, match=r"cut\.nii\.gz: ICA map: unreadable NIfTI "
                                                  r"\(EOFError"):
        smn_activity(gz, mask)
    junk = tmp_path / "junk.nii"
    junk.write_bytes(b"not an image at all")
    with pytest.raises(DataValidationError, match=r"junk\.nii: mask: unreadable NIfTI"):
        load_mask(junk)


def test_mean_median_and_sign_options(tmp_path):
    mask = _mask(tmp_path)
    data = np.zeros((5, 5, 5))
    data[1:3, 1:3, 1:3] = np.arange(8).reshape(2, 2, 2) + 1.0  # 1..8 inside the mask
    p = _save(tmp_path / "map.nii.gz", data)
    assert smn_activity(p, mask).value == 4.5
    assert smn_activity(p, mask, statistic="median").value == 4.5
    assert smn_activity(p, mask, statistic="max").value == 8.0
    flipped = smn_activity(p, mask, sign="flip")
    assert flipped.value == -4.5 and flipped.flipped
    # A map dominated by a long negative tail: negative skew -> flipped under positive_skew.
    neg = -np.abs(np.random.default_rng(0).exponential(1.0, (5, 5, 5))) - 0.1
    q = _save(tmp_path / "neg.nii.gz", neg)
    v = smn_activity(q, mask, sign="positive_skew")
    assert v.flipped and v.value == pytest.approx(-neg[1:3, 1:3, 1:3].mean())
    assert "sign flipped (positive_skew)" in v.notes[0]
    pos = _save(tmp_path / "pos.nii.gz", -neg)
    kept = smn_activity(pos, mask, sign="positive_skew")
    assert not kept.flipped and kept.value == pytest.approx(v.value)  # same map, same sign


def test_components_and_dimensionality(tmp_path):
    mask = _mask(tmp_path)
    stack = np.random.default_rng(1).normal(size=(5, 5, 5, 4))
    p = _save(tmp_path / "dr_stage2_subject00000.nii.gz", stack)
    v = smn_activity(p, mask, component=3)
    assert v.value == pytest.approx(stack[1:3, 1:3, 1:3, 3].mean())
    with pytest.raises(DataValidationError, match="component 4 out of range: the stack has 4"):
        smn_activity(p, mask, component=4)
    with pytest.raises(DataValidationError, match="the sensorimotor component index must be "
                                                  "given"):
        smn_activity(p, mask)
    q = _save(tmp_path / "map3d.nii.gz", stack[..., 0])
    with pytest.raises(DataValidationError, match=r"map3d\.nii\.gz: a 3D map has no component 2"):
        smn_activity(q, mask, component=2)


def test_mask_checks(tmp_path):
    empty = _save(tmp_path / "empty.nii.gz", np.zeros((4, 4, 4), dtype=np.uint8))
    with pytest.raises(DataValidationError, match=r"empty\.nii\.gz: mask is empty after "
                                                  r"binarisation: no voxel > 0 \(any value > 0 "
                                                  "counts"):
        load_mask(empty)
    prob = np.zeros((4, 4, 4))
    prob[0, 0, 0], prob[1, 1, 1] = 0.3, 0.9
    path = _save(tmp_path / "prob.nii.gz", prob)
    assert load_mask(path).voxels.sum() == 2
    assert load_mask(path, threshold=0.5).voxels.sum() == 1
    four = _save(tmp_path / "four.nii.gz", np.ones((4, 4, 4, 2)))
    with pytest.raises(DataValidationError, match=r"four\.nii\.gz: mask must be 3D"):
        load_mask(four)


def test_affine_and_space_mismatch(tmp_path):
    mask = _mask(tmp_path, sform=4)
    shifted = AFFINE.copy()
    shifted[0, 3] = 2.0
    p = _save(tmp_path / "shifted.nii.gz", np.ones((5, 5, 5)), shifted)
    with pytest.raises(DataValidationError, match=r"shifted\.nii\.gz: grid mismatch: map affine "
                                                  r"differs .* \(max difference 2 mm\)"):
        smn_activity(p, mask)
    q = _save(tmp_path / "scanner.nii.gz", np.ones((5, 5, 5)), sform=1)
    with pytest.raises(DataValidationError, match=r"space mismatch: map is in scanner space "
                                                  r"\(code 1\), mask .* in MNI space \(code 4\)"):
        smn_activity(q, mask)


def test_all_nan_or_zero_in_mask(tmp_path):
    mask = _mask(tmp_path)
    data = np.ones((5, 5, 5))
    data[1:3, 1:3, 1:3] = np.nan
    p = _save(tmp_path / "nan.nii.gz", data)
    with pytest.raises(DataValidationError, match=r"nan\.nii\.gz: nan\.nii\.gz: all values inside "
                                                  r"the mask mask\.nii\.gz are NaN or zero \(NaN "
                                                  r"fraction 1\.000, 8 mask voxels\)"):
        smn_activity(p, mask)
    data[1, 1, 1] = 2.0
    v = smn_activity(_save(tmp_path / "partial.nii.gz", data), mask)
    assert v.value == 2.0 and v.nan_fraction == pytest.approx(7 / 8)


def test_stack_of_subjects(tmp_path):
    mask = _mask(tmp_path)
    data = np.random.default_rng(2).normal(size=(5, 5, 5, 3))
    data[..., 2] = 0.0
    p = _save(tmp_path / "dr_stage2_ic0003.nii.gz", data)
    values, failures = smn_activity_stack(p, mask, ["sub-01", "sub-02", "sub-03"])
    assert values["sub-02"].value == pytest.approx(data[1:3, 1:3, 1:3, 1].mean())
    assert list(failures) == ["sub-03"]
    with pytest.raises(DataValidationError, match="3 volumes but the subject list has 2 entries"):
        smn_activity_stack(p, mask, ["sub-01", "sub-02"])
    with pytest.raises(DataValidationError, match=r"subject list repeats 'sub-01' \(entries 1 "
                                                  "and 3\\)"):
        smn_activity_stack(p, mask, ["sub-01", "sub-02", "sub-01"])
