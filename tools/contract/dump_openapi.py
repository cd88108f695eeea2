"""Write the live OpenAPI document (what GET /openapi.json serves) to a file: `python dump_openapi.py OUT`.

Built with the app factory and the testing configuration, so no database or secret is needed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import create_app  # noqa: E402


def main(out: str) -> None:
    app = create_app("testing")
    response = app.test_client().get("/openapi.json")
    if response.status_code != 200:
        raise SystemExit(f"GET /openapi.json answered {response.status_code}")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(response.data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tools/contract/build/openapi.json")
