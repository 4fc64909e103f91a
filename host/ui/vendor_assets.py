"""Refresh the vendored third-party assets under static/vendor/ (run by hand; pip install needs no Node).

    python -m host.ui.vendor_assets        # needs npm and the npm registry

Fetches the pinned tarballs with ``npm pack``, copies the files the pages use (and their licences),
and points redoc's sidebar logo at a local file so /redoc makes no request to another host.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
PACKAGES = {
    "swagger-ui-dist@5.36.0": ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"],
    "redoc@2.5.4": ["bundles/redoc.standalone.js", "bundles/redoc.standalone.js.LICENSE.txt", "LICENSE"],
}
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
LOCAL_LOGO = "/ui/vendor/redoc-2.5.4/logo-mini.svg"


def fetch(spec: str, files: list[str], work: Path) -> Path:
    name, version = spec.rsplit("@", 1)
    out = subprocess.run(["npm", "pack", spec, "--silent"], cwd=work, check=True, capture_output=True, text=True,
                         timeout=300)
    with tarfile.open(work / out.stdout.strip().splitlines()[-1]) as tar:
        tar.extractall(work / name, filter="data")
    target = VENDOR / f"{name}-{version}"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for rel in files:
        shutil.copy(work / name / "package" / rel, target / Path(rel).name)
    return target


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        for spec, files in PACKAGES.items():
            logger.info("vendored %s into %s", spec, fetch(spec, files, Path(tmp)))
    bundle = VENDOR / "redoc-2.5.4" / "redoc.standalone.js"
    bundle.write_text(bundle.read_text(encoding="utf-8").replace(REDOC_LOGO, LOCAL_LOGO), encoding="utf-8")
    (VENDOR / "redoc-2.5.4" / "logo-mini.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#c33"/></svg>\n')


if __name__ == "__main__":
    main()
