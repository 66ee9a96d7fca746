"""Check an OME-Zarr store, ours or anyone's: the schemas (through ome-zarr-models, when
installed) and the rules no schema can express, which need the arrays themselves."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import zarr

from .metadata import read_ome, validate_axes, validate_datasets


@dataclass
class Report:
    """Problems found (empty: valid) and what was checked."""

    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(path: str | zarr.Group) -> Report:
    """Validate the OME-Zarr image, label image, plate or well at ``path``."""
    report = Report()
    try:
        node = zarr.open(path, mode="r") if isinstance(path, str) else path
    except Exception as exc:  # not a zarr store at all
        report.problems.append(f"{path}: not a Zarr group ({type(exc).__name__}: {exc})")
        return report
    if not isinstance(node, zarr.Group):
        report.problems.append(f"{path}: a Zarr array, not an OME-Zarr group")
        return report
    _schema(node, report)
    _rules(node, "", report)
    return report


def _schema(group: zarr.Group, report: Report) -> None:
    try:
        import ome_zarr_models
    except ImportError:
        report.checked.append("schemas: skipped (pip install ome-zarr-models)")
        return
    version, blocks = read_ome(group.attrs.asdict())
    model = _model(version, blocks)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if model is None:
                found = type(ome_zarr_models.open_ome_zarr(group)).__name__
            else:
                model.from_zarr(group)
                found = model.__name__
    except Exception as exc:  # pydantic's ValidationError and friends
        lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
        what = model.__name__ if model is not None else "any OME-Zarr model"
        report.problems.append(f"/: ome-zarr-models ({what}): " + " / ".join(lines[:8]))
        return
    report.checked.append(f"schemas: ome-zarr-models reads it as {found}")


def _model(version: str | None, blocks: dict[str, Any]) -> Any:
    """The ome-zarr-models class for what the metadata says the group is, so its error
    names the real problem (the generic opener tries every model and reports the last)."""
    if version not in ("0.4", "0.5"):
        return None
    import importlib

    models = importlib.import_module(f"ome_zarr_models.v0{version[-1]}")
    if "multiscales" in blocks:
        return models.ImageLabel if "image-label" in blocks else models.Image
    if "plate" in blocks:
        return models.HCS
    if "well" in blocks:
        return models.Well
    if "bioformats2raw.layout" in blocks:
        return models.BioFormats2Raw
    return None


def _rules(group: zarr.Group, where: str, report: Report) -> None:
    version, blocks = read_ome(group.attrs.asdict())
    if version is None and not blocks:
        report.problems.append(f"{where or '/'}: no OME-NGFF metadata")
        return
    if "multiscales" in blocks:
        levels = _image(group, where, blocks, report)
        if levels is not None and "labels" in group:
            _labels(group["labels"], f"{where}labels/", levels, report)
    elif "plate" in blocks:
        _plate(group, where, blocks["plate"], report)
    elif "well" in blocks:
        _well(group, where, blocks["well"], report)
    elif "bioformats2raw.layout" in blocks:
        _series(group, where, report)


def _image(group: zarr.Group, where: str, blocks: dict[str, Any], report: Report) -> int | None:
    """Check one image; return its number of levels (None where it cannot be read)."""
    ms = blocks["multiscales"][0]
    here = where or "/"
    try:
        validate_axes(ms["axes"])
        validate_datasets(ms["datasets"], len(ms["axes"]))
    except (KeyError, TypeError, ValueError) as exc:
        report.problems.append(f"{here}: multiscales: {exc}")
        return None
    names = [a["name"] for a in ms["axes"]]
    previous = None
    for dataset in ms["datasets"]:
        path = dataset["path"]
        if path not in group or not isinstance(group[path], zarr.Array):
            report.problems.append(f"{where}{path}: dataset listed in multiscales is missing")
            previous = None
            continue
        array = group[path]
        if array.ndim != len(names):
            report.problems.append(f"{where}{path}: {array.ndim}-D array, but the axes are {names}")
        dims = getattr(array.metadata, "dimension_names", None)
        if dims is not None and list(dims) != names:
            report.problems.append(
                f"{where}{path}: dimension_names {list(dims)} differ from the axes {names}"
            )
        if previous is not None and any(n > p for n, p in zip(array.shape, previous, strict=False)):
            report.problems.append(
                f"{where}{path}: shape {array.shape} is larger than the level before "
                f"{previous}: levels must go from fine to coarse"
            )
        previous = array.shape
    if "image-label" in blocks:
        dtype = (
            group[ms["datasets"][0]["path"]].dtype if ms["datasets"][0]["path"] in group else None
        )
        if dtype is not None and dtype.kind not in "iub":
            report.problems.append(f"{here}: label image of dtype {dtype}: labels are integers")
    report.checked.append(f"{here}: image with {len(ms['datasets'])} levels")
    return len(ms["datasets"])


def _labels(labels: zarr.Group, where: str, image_levels: int, report: Report) -> None:
    _, blocks = read_ome(labels.attrs.asdict())
    names = blocks.get("labels")
    if names is None:
        report.problems.append(f"{where}: a labels group without a 'labels' list")
        return
    if len(set(names)) != len(names):
        report.problems.append(f"{where}: the labels list names some labels twice: {names}")
    for name in names:
        if name not in labels or not isinstance(labels[name], zarr.Group):
            report.problems.append(f"{where}{name}: listed in labels but missing")
            continue
        _, label_blocks = read_ome(labels[name].attrs.asdict())
        if "image-label" not in label_blocks:
            report.problems.append(f"{where}{name}: no image-label metadata")
        if "multiscales" not in label_blocks:
            report.problems.append(f"{where}{name}: no multiscales metadata")
            continue
        levels = _image(labels[name], f"{where}{name}/", label_blocks, report)
        if levels is not None and levels != image_levels:
            report.problems.append(
                f"{where}{name}: {levels} levels, the image has {image_levels}: "
                "a label image should have as many levels as its image"
            )


def _plate(group: zarr.Group, where: str, plate: dict[str, Any], report: Report) -> None:
    wells = plate.get("wells", [])
    paths = [w.get("path") for w in wells]
    if len(set(paths)) != len(paths):
        report.problems.append(f"{where or '/'}: plate lists some wells twice")
    for path in paths:
        if path not in group:
            report.problems.append(f"{where}{path}: well listed in the plate is missing")
            continue
        _rules(group[path], f"{where}{path}/", report)
    report.checked.append(f"{where or '/'}: plate with {len(wells)} wells")


def _well(group: zarr.Group, where: str, well: dict[str, Any], report: Report) -> None:
    for image in well.get("images", []):
        path = image.get("path")
        if path not in group:
            report.problems.append(f"{where}{path}: field listed in the well is missing")
            continue
        _rules(group[path], f"{where}{path}/", report)


def _series(group: zarr.Group, where: str, report: Report) -> None:
    """A bioformats2raw layout: the images ``OME/series`` lists (else ``0``, ``1``...)."""
    listed = None
    if "OME" in group:
        ome = group["OME"].attrs.asdict()
        listed = ome.get("ome", ome).get("series")
    if listed is None:
        listed = sorted((k for k in group.group_keys() if k.isdigit()), key=int)
    if not listed:
        report.problems.append(f"{where or '/'}: bioformats2raw layout with no series")
    for path in listed:
        if path not in group:
            report.problems.append(f"{where}{path}: series listed in OME/series is missing")
            continue
        _rules(group[path], f"{where}{path}/", report)
    report.checked.append(f"{where or '/'}: bioformats2raw layout with {len(listed)} series")
