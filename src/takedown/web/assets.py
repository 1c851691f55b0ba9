"""Copy the npm-installed front-end assets into the package's static folder.

Run by ``make run``/``make test`` after ``npm ci``. The copies are git-ignored:
third-party assets are installed at build time, never committed, never loaded
from a CDN (deployments are often air-gapped).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

STATIC = Path(__file__).parent / "static" / "vendor"
# (package-relative source in node_modules, file name served under /static/vendor/)
ASSETS: list[tuple[str, str]] = [
    ("htmx.org/dist/htmx.min.js", "htmx.min.js"),
    # The API's documentation pages, /docs and /redoc (web/apidocs.py).
    ("swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-bundle.js"),
    ("swagger-ui-dist/swagger-ui.css", "swagger-ui.css"),
    ("redoc/bundles/redoc.standalone.js", "redoc.standalone.js"),
    # ReDoc's bundle writes this file's rules inline as it loads, before it knows the
    # page's style nonce (web/apidocs.py), so the CSP drops that copy: serve the file.
    ("perfect-scrollbar/css/perfect-scrollbar.css", "perfect-scrollbar.css"),
]


def build(node_modules: Path) -> list[Path]:
    STATIC.mkdir(parents=True, exist_ok=True)
    written = []
    for src, name in ASSETS:
        source = node_modules / src
        if not source.is_file():
            raise SystemExit(f"missing front-end asset {source}: run `npm ci` first")
        target = STATIC / name
        shutil.copyfile(source, target)
        written.append(target)
    return written


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd() / "node_modules"
    for path in build(root):
        print(f"asset: {path.name}")


if __name__ == "__main__":
    main()
