"""Runs OASIS's medallion (reference TAXII 2.1 server) with its memory backend:
``python -m tests.sharing.medallion_server CONFIG PORT``."""

from __future__ import annotations

import sys

from medallion import load_app


def main() -> None:
    app = load_app(sys.argv[1])
    app.run(host="127.0.0.1", port=int(sys.argv[2]), threaded=True)


if __name__ == "__main__":
    main()
