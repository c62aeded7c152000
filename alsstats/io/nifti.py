"""Sensorimotor-network (SMN) activity in the SMA from ICA spatial maps (NIfTI, via nibabel).

For a subject's spatial map ``x`` (a 3D map, or volume ``c`` of a 4D
component stack such as FSL ``dr_stage2_subjectNNNNN.nii.gz``) and a binary
SMA mask ``M`` on the same grid, the activity is

    a = s · stat({x_v : v ∈ M, x_v finite})

with ``stat`` the mean (default), median or maximum and ``s`` the sign:
``+1`` (``sign="as_is"``), ``-1`` (``"flip"``), or ``-1`` exactly when the
sample skewness of the map's non-zero finite voxels is negative
(``"positive_skew"``, the usual way to resolve ICA's arbitrary sign).  The
flip is always recorded.  A 4D file whose volumes are *subjects* (FSL
``dr_stage2_icNNNN.nii.gz``) is read with :func:`smn_activity_stack` and an
explicit subject list in the file's order.

Masks are binarised as ``value > threshold`` (default 0: 0/1, 0/255 and
probabilistic masks all work; give a threshold for probabilistic ones).
Maps and mask must share shape and affine (``numpy.allclose``); nothing is
resampled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from alsstats.errors import DataValidationError
from alsstats.io._problems import fail

__all__ = ["SIGN_OPTIONS", "STATISTICS", "Mask", "SmnValue", "load_image", "load_mask",
           "smn_activity", "smn_activity_stack"]

SIGN_OPTIONS = ("as_is", "flip", "positive_skew")
STATISTICS = {"mean": np.mean, "median": np.median, "max": np.max}
# sform/qform codes: 1 scanner, 2 aligned, 3 Talairach, 4 MNI (0 = unknown, not compared).
_SPACES = {1: "scanner", 2: "aligned", 3: "Talairach", 4: "MNI"}


def load_image(path: str | os.PathLike, what: str = "image"):
    """Load a NIfTI/MGH image and its data (float64), or raise a clear error.

    nibabel reads lazily, so the data are read here: a truncated file fails
    now (``OSError``/``EOFError``), not later, and the error names the path.
    """
    import nibabel as nib

    p = Path(path)
    if not p.exists():
        raise fail(p, f"{what}: file not found")
    try:
        img = nib.load(str(p))
        data = np.asarray(img.get_fdata(dtype=np.float64))
    except (OSError, EOFError, ValueError, nib.filebasedimages.ImageFileError) as exc:
        raise fail(p, f"{what}: unreadable NIfTI ({type(exc).__name__}: {exc})") from None
    return img, data


def _space(img) -> int:
    header = img.header
    if "sform_code" not in header:
        return 0
    s, q = int(header["sform_code"]), int(header["qform_code"])
    return s or q


@dataclass(frozen=True)
class Mask:
    """A binarised region mask with its grid."""

    path: Path
    voxels: np.ndarray
    affine: np.ndarray
    space: int
    threshold: float

    @property
    def shape(self) -> tuple[int, ...]:
        return self.voxels.shape

    def check_grid(self, img, path: Path) -> None:
        """Raise if ``img`` is not on this mask's grid (shape, affine, space code)."""
        shape = img.shape[:3]
        if shape != self.shape:
            raise fail(path, f"grid mismatch: map shape {shape} differs from mask {self.path} "
                       f"shape {self.shape} (resample one of them first)")
        if not np.allclose(img.affine, self.affine, atol=1e-4):
            raise fail(path, f"grid mismatch: map affine differs from mask {self.path} affine "
                       f"(max difference {np.max(np.abs(img.affine - self.affine)):.4g} mm)")
        space = _space(img)
        if space and self.space and space != self.space:
            raise fail(path, f"space mismatch: map is in {_SPACES.get(space, space)} space "
                       f"(code {space}), mask {self.path} in "
                       f"{_SPACES.get(self.space, self.space)} space (code {self.space})")


def load_mask(path: str | os.PathLike, threshold: float = 0.0) -> Mask:
    """Load and binarise a 3D mask (``value > threshold``).

    Raises
    ------
    DataValidationError
        Unreadable file, not 3D (a trailing singleton 4th axis is accepted),
        non-finite values, or no voxel above the threshold.
    """
    p = Path(path)
    img, data = load_image(p, "mask")
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise fail(p, f"mask must be 3D, got shape {data.shape}")
    if not np.all(np.isfinite(data)):
        raise fail(p, "mask has NaN or infinite values")
    voxels = data > threshold
    if not voxels.any():
        raise fail(p, f"mask is empty after binarisation: no voxel > {threshold:g} (any value "
                   f"> {threshold:g} counts; values range {data.min():g}..{data.max():g})")
    return Mask(p, voxels, np.asarray(img.affine), _space(img), threshold)


@dataclass(frozen=True)
class SmnValue:
    """One subject's SMN activity and how it was computed."""

    value: float
    n_voxels: int
    nan_fraction: float
    flipped: bool
    notes: tuple[str, ...] = field(default_factory=tuple)


def _skewness(x: np.ndarray) -> float:
    d = x - x.mean()
    m2 = np.mean(d ** 2)
    return float(np.mean(d ** 3) / m2 ** 1.5) if m2 > 0 else 0.0


def _activity(vol: np.ndarray, mask: Mask, path: Path, label: str, statistic: str,
              sign: str) -> SmnValue:
    inside = vol[mask.voxels]
    finite = np.isfinite(inside)
    nan_fraction = 1.0 - float(finite.mean())
    if not finite.any() or not np.any(inside[finite] != 0):
        raise fail(path, f"{label}: all values inside the mask {mask.path.name} are NaN or zero "
                   f"(NaN fraction {nan_fraction:.3f}, {inside.size} mask voxels)")
    flipped = sign == "flip"
    notes = []
    if sign == "positive_skew":
        whole = vol[np.isfinite(vol) & (vol != 0)]
        skew = _skewness(whole)
        flipped = skew < 0
        notes.append(f"{label}: map skewness {skew:.3f}; sign "
                     f"{'flipped' if flipped else 'kept'} (positive_skew)")
    elif flipped:
        notes.append(f"{label}: sign flipped (sign='flip')")
    if nan_fraction > 0:
        notes.append(f"{label}: NaN fraction inside the mask {nan_fraction:.3f}")
    value = float(STATISTICS[statistic](inside[finite]))
    return SmnValue(-value if flipped else value, int(finite.sum()), nan_fraction, flipped,
                    tuple(notes))


def _check_options(statistic: str, sign: str) -> None:
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {', '.join(STATISTICS)}, got {statistic!r}")
    if sign not in SIGN_OPTIONS:
        raise ValueError(f"sign must be one of {', '.join(SIGN_OPTIONS)}, got {sign!r}")


def smn_activity(map_path: str | os.PathLike, mask: Mask, *, component: int | None = None,
                 statistic: str = "mean", sign: str = "as_is") -> SmnValue:
    """SMN activity of one subject's map within ``mask``.

    Parameters
    ----------
    map_path
        3D map, or 4D stack of components (x, y, z, C).
    mask
        From :func:`load_mask`.
    component
        0-based volume index; required for a 4D stack, must be ``None`` or 0
        for a 3D map.
    statistic, sign
        See the module docstring.

    Raises
    ------
    DataValidationError
        Unreadable map, grid/affine/space mismatch, a 3D map where a component
        was requested, a component index ≥ C, all-NaN/zero values in the mask.
    """
    _check_options(statistic, sign)
    p = Path(map_path)
    img, data = load_image(p, "ICA map")
    mask.check_grid(img, p)
    if data.ndim == 3:
        if component not in (None, 0):
            raise fail(p, f"a 3D map has no component {component}; expected a 4D component "
                       "stack (x, y, z, C)")
        vol = data
    elif data.ndim == 4:
        if component is None:
            raise fail(p, f"4D stack of {data.shape[3]} components: the sensorimotor component "
                       "index must be given")
        if not 0 <= component < data.shape[3]:
            raise fail(p, f"component {component} out of range: the stack has {data.shape[3]} "
                       "components (0-based indices)")
        vol = data[..., component]
    else:
        raise fail(p, f"ICA map must be 3D or 4D, got shape {data.shape}")
    label = p.name if component is None else f"{p.name} component {component}"
    return _activity(vol, mask, p, label, statistic, sign)


def smn_activity_stack(stack_path: str | os.PathLike, mask: Mask, subjects: list[str], *,
                       statistic: str = "mean", sign: str = "as_is"
                       ) -> tuple[dict[str, SmnValue], dict[str, DataValidationError]]:
    """SMN activity per subject from one 4D file whose volumes are subjects, in list order.

    Returns
    -------
    values, failures
        Per-subject results, and per-subject errors (e.g. an all-NaN volume)
        so that one bad subject can be reported without losing the others.

    Raises
    ------
    DataValidationError
        As :func:`smn_activity` for the file as a whole; also a repeated
        subject in ``subjects`` or a volume count different from the number of
        subjects.
    """
    _check_options(statistic, sign)
    p = Path(stack_path)
    seen: dict[str, int] = {}
    for i, s in enumerate(subjects):
        if s in seen:
            raise fail(p, f"subject list repeats {s!r} (entries {seen[s] + 1} and {i + 1})")
        seen[s] = i
    img, data = load_image(p, "ICA subject stack")
    mask.check_grid(img, p)
    if data.ndim != 4:
        raise fail(p, f"expected a 4D stack (x, y, z, subjects), got shape {data.shape}")
    if data.shape[3] != len(subjects):
        raise fail(p, f"{data.shape[3]} volumes but the subject list has {len(subjects)} entries")
    values, failures = {}, {}
    for i, s in enumerate(subjects):
        try:
            values[s] = _activity(data[..., i], mask, p, f"{p.name} volume {i} ({s})",
                                  statistic, sign)
        except DataValidationError as exc:
            failures[s] = exc
    return values, failures
