"""Check an OME-Zarr store, ours or anyone's: the schemas (0.4/0.5 through ome-zarr-models,
0.6 through the released JSON schemas with jsonschema, when installed) and the rules no
schema can express, most of which need the arrays themselves."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zarr

from .metadata import (
    SUPPORTED_VERSIONS,
    jsonschemas,
    plain_multiscale,
    read_ome,
    validate_axes,
    validate_datasets,
    validate_multiscale_06,
)

KNOWN_VERSIONS = (*SUPPORTED_VERSIONS, "0.6rc0")  # 0.1-0.3 stores are not checked here


@dataclass
class Report:
    """Problems found (empty: valid) and what was checked. ``strict`` adds the SHOULDs (the
    spec's strict schemas); ``metadata_only`` checks the metadata without the arrays and
    groups it names (for attribute documents and stores holding metadata alone)."""

    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    strict: bool = False
    metadata_only: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(
    path: str | zarr.Group, *, strict: bool = False, metadata_only: bool = False
) -> Report:
    """Validate the OME-Zarr image, label image, plate or well at ``path``, or a group's
    attributes document (a ``.json`` file: ``zarr.json`` or its ``attributes`` alone)."""
    report = Report(strict=strict, metadata_only=metadata_only)
    if isinstance(path, str) and path.endswith(".json") and Path(path).is_file():
        return _document(path, report)
    try:
        node = zarr.open(path, mode="r") if isinstance(path, str) else path
    except Exception as exc:  # not a zarr store at all
        report.problems.append(f"{path}: not a Zarr group ({type(exc).__name__}: {exc})")
        return report
    if not isinstance(node, zarr.Group):
        report.problems.append(f"{path}: a Zarr array, not an OME-Zarr group")
        return report
    version, _ = read_ome(node.attrs.asdict())
    if version not in jsonschemas.SCHEMA_VERSIONS and version != "0.6rc0":
        _schema(node, report)
    _rules(node, "", report)
    return report


def _document(path: str, report: Report) -> Report:
    """An attributes document: its schemas and metadata rules (it names no real arrays)."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        report.problems.append(f"{path}: not a JSON document ({exc})")
        return report
    if isinstance(doc, dict) and isinstance(doc.get("attributes"), dict):
        doc = doc["attributes"]  # a whole zarr.json
    if not isinstance(doc, dict):
        report.problems.append(f"{path}: not a JSON object")
        return report
    report.metadata_only = True
    _rules(None, "", report, doc)
    return report


def _schema_06(attributes: dict[str, Any], where: str, report: Report) -> None:
    if not jsonschemas.available():
        if not any(line.startswith("schemas:") for line in report.checked):
            report.checked.append("schemas: skipped (pip install jsonschema)")
        return
    problems = jsonschemas.check(attributes, "0.6", strict=report.strict)
    report.problems += [f"{where or '/'}: {p}" for p in problems]
    names = ", ".join(jsonschemas.schema_names(attributes.get("ome") or {}, report.strict))
    report.checked.append(f"{where or '/'}: OME-NGFF 0.6 schemas ({names or 'none apply'})")


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


def _rules(
    group: zarr.Group | None, where: str, report: Report, attributes: dict | None = None
) -> None:
    """One group's rules (and its children's, unless ``report.metadata_only``); ``group`` is
    None for an attributes document alone."""
    if attributes is None:
        attributes = group.attrs.asdict()
    version, blocks = read_ome(attributes)
    if version is None and not blocks:
        report.problems.append(f"{where or '/'}: no OME-NGFF metadata")
        return
    if version is None and (group is None or group.metadata.zarr_format == 3):
        report.problems.append(f"{where or '/'}: no OME-NGFF version (ome.version)")
    elif version is not None and version not in KNOWN_VERSIONS:
        report.problems.append(f"{where or '/'}: {version!r} is no OME-NGFF version")
    if version in ("0.6", "0.6rc0"):
        _schema_06(attributes, where, report)
    if group is None or report.metadata_only:
        if "multiscales" in blocks:
            _image_metadata(where, blocks, report, version)
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
    elif "scene" in blocks:
        _scene(group, where, blocks["scene"], report)


def _scene(group: zarr.Group, where: str, scene: dict[str, Any], report: Report) -> None:
    """Each placed image exists and declares the system its placement starts at; each
    placement leads to a system of the scene."""
    names = {s.get("name") for s in scene.get("coordinateSystems") or []}
    for i, transform in enumerate(scene.get("coordinateTransformations") or []):
        here = f"{where or '/'}: scene.coordinateTransformations[{i}]"
        source, output = transform.get("input") or {}, transform.get("output") or {}
        if output.get("name") not in names:
            report.problems.append(f"{here}: output {output} is no system of the scene")
        path = source.get("path")
        if not path:
            continue
        if path not in group or not isinstance(group[path], zarr.Group):
            report.problems.append(f"{where}{path}: image placed in the scene is missing")
            continue
        _, blocks = read_ome(group[path].attrs.asdict())
        systems = [
            s.get("name")
            for ms in blocks.get("multiscales", [])
            for s in ms.get("coordinateSystems", [])
        ]
        if source.get("name") not in systems:
            report.problems.append(f"{here}: {path} declares no system {source.get('name')!r}")
        _rules(group[path], f"{where}{path}/", report)
    report.checked.append(f"{where or '/'}: scene of {len(names)} system(s)")


def _image_metadata(
    where: str, blocks: dict[str, Any], report: Report, version: str | None
) -> dict | None:
    """The image's multiscale entry (in the 0.4/0.5 shape) when its metadata obeys the rules,
    else None (the problem reported)."""
    try:
        ms = blocks["multiscales"][0]
        if version in ("0.6", "0.6rc0"):
            validate_multiscale_06(ms)  # the axes too, by 0.6's rules
            ms = plain_multiscale(ms)
        else:
            validate_axes(ms["axes"])
        validate_datasets(ms["datasets"], len(ms["axes"]))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        report.problems.append(f"{where or '/'}: multiscales: {exc}")
        return None
    return ms


def _image(group: zarr.Group, where: str, blocks: dict[str, Any], report: Report) -> int | None:
    """Check one image; return its number of levels (None where it cannot be read)."""
    here = where or "/"
    ms = _image_metadata(where, blocks, report, read_ome(group.attrs.asdict())[0])
    if ms is None:
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
    version, blocks = read_ome(labels.attrs.asdict())
    if version in ("0.6", "0.6rc0"):
        _schema_06(labels.attrs.asdict(), where, report)
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
        label_version, label_blocks = read_ome(labels[name].attrs.asdict())
        if label_version in ("0.6", "0.6rc0"):
            _schema_06(labels[name].attrs.asdict(), f"{where}{name}/", report)
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
