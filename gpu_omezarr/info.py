"""What an OME-Zarr store holds: ``describe`` (a JSON-ready tree) and ``format_tree`` (text)."""

from __future__ import annotations

from typing import Any

import zarr

from .metadata import plain_multiscale, read_ome


def describe(path: str | zarr.Group) -> dict[str, Any]:
    """The tree under ``path``: images (levels with shape, chunks, shards, codecs, dtype, bytes
    stored), their labels, plates (layout, wells, fields) and wells."""
    node = zarr.open(path, mode="r") if isinstance(path, str) else path
    if isinstance(node, zarr.Array):
        return {"kind": "array", **_array(node)}
    version, blocks = read_ome(node.attrs.asdict())
    tree: dict[str, Any] = {
        "path": node.store_path.path or str(path),
        "zarr_format": node.metadata.zarr_format,
        "ome_version": version,
    }
    if "multiscales" in blocks:
        tree.update(_image(node, blocks))
    elif "plate" in blocks:
        tree.update(_plate(node, blocks["plate"]))
    elif "well" in blocks:
        tree.update(kind="well", images=[im["path"] for im in blocks["well"].get("images", [])])
    elif "labels" in blocks:
        tree.update(kind="labels", labels=list(blocks["labels"]))
    elif "bioformats2raw.layout" in blocks:
        series = sorted((k for k in node.group_keys() if k != "OME"), key=lambda k: (len(k), k))
        tree.update(kind="series", series=series)
    else:
        tree.update(kind="group", children=sorted(node.keys()))
    return tree


def _image(group: zarr.Group, blocks: dict[str, Any]) -> dict[str, Any]:
    ms = plain_multiscale(blocks["multiscales"][0])  # 0.6: its coordinate system's axes
    levels = []
    for dataset in ms["datasets"]:
        entry: dict[str, Any] = {"path": dataset["path"]}
        try:
            entry.update(_array(group[dataset["path"]]))
        except KeyError:
            entry["missing"] = True
        scale = next(
            (t["scale"] for t in dataset["coordinateTransformations"] if t["type"] == "scale"),
            None,
        )
        entry["scale"] = scale
        shift = [t["translation"] for t in dataset["coordinateTransformations"][1:]]
        if shift:
            entry["translation"] = shift[0]
        levels.append(entry)
    image: dict[str, Any] = {
        "kind": "label image" if "image-label" in blocks else "image",
        "name": ms.get("name"),
        "axes": [{k: a[k] for k in ("name", "type", "unit") if k in a} for a in ms["axes"]],
        "levels": levels,
    }
    if "type" in ms:
        image["method"] = ms["type"]
    channels = blocks.get("omero", {}).get("channels")
    if channels and any(a.get("type") == "channel" for a in ms["axes"]):
        image["channels"] = [c.get("label", "") for c in channels]
    if "labels" in group:
        _, label_blocks = read_ome(group["labels"].attrs.asdict())
        image["labels"] = [
            {"name": name, **_label(group["labels"], name)}
            for name in label_blocks.get("labels", [])
        ]
    return image


def _label(labels: zarr.Group, name: str) -> dict[str, Any]:
    if name not in labels:
        return {"missing": True}
    described = describe(labels[name])
    return {k: described[k] for k in ("levels",) if k in described}


def _plate(group: zarr.Group, plate: dict[str, Any]) -> dict[str, Any]:
    wells = plate.get("wells", [])
    fields = {}
    for well in wells[:1]:  # fields per well, read off the first well
        if well["path"] in group:
            _, blocks = read_ome(group[well["path"]].attrs.asdict())
            fields = {"fields_per_well": len(blocks.get("well", {}).get("images", []))}
    return {
        "kind": "plate",
        "name": plate.get("name"),
        "rows": [r["name"] for r in plate.get("rows", [])],
        "columns": [c["name"] for c in plate.get("columns", [])],
        "wells": len(wells),
        "acquisitions": len(plate.get("acquisitions", [])),
        **fields,
    }


def _array(array: zarr.Array) -> dict[str, Any]:
    shards = array.shards
    return {
        "shape": list(array.shape),
        "dtype": str(array.dtype),
        "chunks": list(array.chunks),
        "shards": list(shards) if shards else None,
        "codecs": [_codec(c) for c in (*array.filters, *array.compressors)],
        "bytes": array.nbytes,
        "bytes_stored": array.nbytes_stored(),
    }


def _codec(codec: Any) -> str:
    if hasattr(codec, "to_dict"):  # zarr v3 codec
        spec = codec.to_dict()
        name, config = spec["name"], spec.get("configuration", {})
    else:  # numcodecs (zarr v2)
        config = dict(codec.get_config())
        name = config.pop("id")
    args = ", ".join(f"{k}={v}" for k, v in config.items())
    return f"{name}({args})" if args else name


def format_tree(tree: dict[str, Any], indent: str = "") -> str:
    """``describe``'s tree as text for a person."""
    lines = [indent + _headline(tree)]
    if "levels" in tree:
        lines += [indent + "  " + row for row in _level_table(tree["levels"])]
    for label in tree.get("labels", []):
        levels = label.get("levels", [])
        stored = sum(lv.get("bytes_stored", 0) for lv in levels)
        dtype = levels[0].get("dtype", "?") if levels else "?"
        lines.append(
            f"{indent}  label {label['name']!r}: {len(levels)} levels, {dtype}, "
            f"{_size(stored)} stored" + (" (MISSING)" if label.get("missing") else "")
        )
    return "\n".join(lines)


def _headline(tree: dict[str, Any]) -> str:
    kind = tree["kind"]
    where = f"{tree.get('path', '')}: " if tree.get("path") else ""
    version = f"OME-NGFF {tree['ome_version']}, " if tree.get("ome_version") else ""
    zarr_format = f"Zarr v{tree['zarr_format']}" if "zarr_format" in tree else ""
    if kind in ("image", "label image"):
        axes = " ".join(
            a["name"] + (f" ({a['unit']})" if a.get("unit") else "") for a in tree["axes"]
        )
        extra = f", channels {tree['channels']}" if tree.get("channels") else ""
        name = f" {tree['name']!r}" if tree.get("name") else ""
        return f"{where}{kind}{name} ({version}{zarr_format}); axes {axes}{extra}"
    if kind == "plate":
        fields = tree.get("fields_per_well")
        return (
            f"{where}plate {tree.get('name') or ''} ({version}{zarr_format}): "
            f"{len(tree['rows'])} rows x {len(tree['columns'])} columns, {tree['wells']} wells"
            + (f", {fields} fields per well" if fields is not None else "")
            + f", {tree['acquisitions']} acquisitions"
        )
    if kind == "well":
        return f"{where}well ({version}{zarr_format}): fields {tree['images']}"
    if kind == "series":
        return f"{where}{len(tree['series'])} series (bioformats2raw layout): {tree['series']}"
    if kind == "labels":
        return f"{where}labels group: {tree['labels']}"
    if kind == "array":
        return f"array {tuple(tree['shape'])} {tree['dtype']}, chunks {tuple(tree['chunks'])}"
    return f"{where}group ({zarr_format}), no OME-NGFF metadata; children {tree['children']}"


def _level_table(levels: list[dict[str, Any]]) -> list[str]:
    header = ("level", "shape", "chunks", "shards", "dtype", "codecs", "stored", "ratio")
    rows = [header]
    for lv in levels:
        if lv.get("missing"):
            rows.append((lv["path"], "MISSING", "", "", "", "", "", ""))
            continue
        ratio = lv["bytes"] / lv["bytes_stored"] if lv["bytes_stored"] else 0
        rows.append(
            (
                lv["path"],
                " x ".join(map(str, lv["shape"])),
                "x".join(map(str, lv["chunks"])),
                "x".join(map(str, lv["shards"])) if lv["shards"] else "-",
                lv["dtype"],
                ", ".join(lv["codecs"]) or "none",
                _size(lv["bytes_stored"]),
                f"{ratio:.1f}x" if ratio else "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def _size(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:,.0f} {unit}" if unit == "B" else f"{nbytes:,.1f} {unit}"
        nbytes /= 1024
    raise AssertionError("unreachable")
