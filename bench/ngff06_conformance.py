"""Run ``gpu-omezarr validate`` over the OME-NGFF 0.6 conformance cases through the spec's own
runner (``conformance/0.6/ome_zarr_conformance.py``, unmodified) and write the table of
verdicts as Markdown.

    python bench/ngff06_conformance.py [--spec ../shared/ngff-spec] [--out docs/ngff-0.6-conformance.md]

The runner looks for its cases in ``../tests`` beside its own folder, which in the copied
spec layout (``conformance/0.6/``) is ``conformance/tests``; so it is copied, unchanged, into
a temporary folder next to a link to ``conformance/0.6/tests``. Cases under ``spec/`` run
``gpu-omezarr validate --json --metadata-only``; cases under ``strict/`` add ``--strict``
(the strict cases test the SHOULDs). ``--metadata-only``: the cases hold metadata alone, no
arrays, so the array checks are left out. Exit status 1 (problems found) is a verdict, not
an error, for the runner.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHY = {
    "attributes/spec/valid/image/mismatch_axes_units": (
        "its scale has 2 values for 3 axes (the case is about units; the length is a slip)"
    ),
    "attributes/strict/valid/image/image_omero": (
        "its multiscale-level transform starts at 'intrinsic', a system it does not declare"
    ),
    "attributes/strict/valid/image/multiscales_example": (
        "dataset '1' maps from input {'path': 's1'}: not the dataset's own array"
    ),
}
STRING_REFS = "writes input/output as strings ('0', 'physical'); the released schemas want objects"
PREAMBLE = """# OME-NGFF 0.6 conformance: `gpu-omezarr validate` on the spec's own cases

The spec's conformance cases (`conformance/0.6/tests`: attribute documents and whole stores,
from ome/ngff-spec commit 277f209, tag 0.6rc0) run through the spec's runner
`ome_zarr_conformance.py`, unmodified, with `gpu-omezarr validate` as the validator
(`spec/` cases: `--json --metadata-only`; `strict/` cases: `--json --metadata-only --strict`;
the stores hold metadata alone, no arrays, hence `--metadata-only`). Written by

    python bench/ngff06_conformance.py   # needs ../shared/ngff-spec and jsonschema

`tests/test_ngff06.py::test_conformance_cases_agree_with_the_expected_verdict` checks the
same verdicts in-process on every run (and that the cases we differ on are exactly these).

## Where we differ, and why

We hold to the released 0.6 schemas and to RFC-5's rules; each case below breaks one of them
although it is filed as valid:

- **10 store cases** (`zarr/.../valid/image/*`) write a transformation's `input` and `output`
  as strings (`"input": "0", "output": "physical"`), a pre-release form: the released schemas
  (and the tag's own schemas, and the attribute cases of the same names) require objects
  (`{"path": "0"}`, `{"name": "physical"}`). The spec's own `jsonschema_dingus.py` refuses
  them too.
- `attributes/spec/valid/image/mismatch_axes_units`: its scale has 2 values for 3 axes; the
  case is about an axis' unit, the length is a slip (no schema counts values per axis).
- `attributes/strict/valid/image/image_omero`: its multiscale-level transformation has
  `input: {"name": "intrinsic"}`, a coordinate system the entry does not declare (it declares
  `world` and `physical`).
- `attributes/strict/valid/image/multiscales_example`: dataset `"1"` maps from
  `input: {"path": "s1"}`; a dataset's transformation must start at its own array.

`zarr/spec/valid/image/mismatch_axes_units` also has 2 scale values for 3 axes. Two invalid
store cases (`colors_rgba_length`, `zero_field_count`) hold a `zarr.json` that is no JSON (a
string cut short): we answer invalid ("not a Zarr group"), as expected; the spec's
`jsonschema_dingus.py` crashes on them.

Without `--metadata-only`, every valid image, plate and well store also fails for the arrays
and groups it names but does not hold (the cases carry a `zarr.json` alone).

For comparison, the spec's own `jsonschema_dingus.py` (the generic `ome_zarr.schema` alone,
through the same runner, run from a layout where it finds the schemas) agrees on 141 of the
143 attribute cases (it misses the 2 strict-invalid label/plate ones) and on 69 of the 85
store cases (14 differ, 2 errors).

## Every case

"""


def run_cases(runner: Path, mode: str, strict: bool) -> dict[str, str]:
    flags = "--json --metadata-only" + (" --strict" if strict else "")
    validator = [
        "sh",
        "-c",
        f'"{sys.executable}" -m gpu_omezarr validate {flags} "$0"; test $? -le 1',
    ]
    select = ["-p", "^strict/"] if strict else ["-P", "^strict/"]
    done = subprocess.run(
        [sys.executable, str(runner), mode, "-X", *select, "--", *validator],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line.split("\t") for line in done.stdout.splitlines() if "\t" in line]
    return {f"{mode}/{name}": status for name, status in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT.parent / "shared" / "ngff-spec")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "ngff-0.6-conformance.md")
    args = parser.parse_args()
    cases = args.spec / "conformance" / "0.6"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "bin").mkdir()
        runner = Path(shutil.copy(cases / "ome_zarr_conformance.py", Path(tmp) / "bin"))
        (Path(tmp) / "tests").symlink_to(cases / "tests")
        results: dict[str, str] = {}
        for mode in ("attributes", "zarr"):
            for strict in (False, True):
                results.update(run_cases(runner, mode, strict))
    lines = [
        "| case | expected | gpu-omezarr | agrees | why we differ |",
        "|---|---|---|---|---|",
    ]
    counts = {"pass": 0, "fail": 0, "error": 0}
    for name in sorted(results):
        status = results[name]
        counts[status] = counts.get(status, 0) + 1
        expected = name.split("/")[2]
        ours = {"pass": expected, "fail": "in" * (expected == "valid") + "valid"}.get(
            status, "error"
        )
        why = ""
        if status != "pass":
            why = WHY.get(name, STRING_REFS if name.startswith("zarr/") else "?")
        lines.append(
            f"| {name} | {expected} | {ours} | {'yes' if status == 'pass' else '**no**'} | {why} |"
        )
    summary = (
        f"{len(results)} cases: {counts['pass']} agree, {counts['fail']} differ, "
        f"{counts['error']} errors."
    )
    args.out.write_text(PREAMBLE + summary + "\n\n" + "\n".join(lines) + "\n")
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
