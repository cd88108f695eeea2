"""Contract fixtures: the contract tools (their own venv and node_modules), the live OpenAPI document,
and the app served over real HTTP.

The tools live apart from the app's venv because their pins may clash with the app's:
`make contract-tools` creates `.venv-tools/` (tools/contract/requirements.txt: openapi-python-client,
schemathesis) and runs `npm ci` in tools/contract (openapi-typescript, typescript, Spectral). Without
them these tests skip, unless CONTRACT_REQUIRE_TOOLS is set (.ci/run sets it): then they fail.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "tools" / "contract"
TOOLS_BIN = ROOT / ".venv-tools" / "bin"
NODE_BIN = CONTRACT / "node_modules" / ".bin"


def need(*tools: Path) -> None:
    """Skip (or fail, under CONTRACT_REQUIRE_TOOLS) when a contract tool is not installed."""
    missing = [str(tool) for tool in tools if not tool.exists()]
    if missing:
        reason = f"{', '.join(missing)} missing: run `make contract-tools`"
        if os.environ.get("CONTRACT_REQUIRE_TOOLS"):
            pytest.fail(reason)
        pytest.skip(reason)


def run(args: list[str], *, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """Run a tool; its output is shown when it fails."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)  # noqa: S603
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture
def spec_file(client, tmp_path) -> Path:
    """The live /openapi.json, written to a file for the generators."""
    response = client.get("/openapi.json")
    assert response.status_code == 200
    path = tmp_path / "openapi.json"
    path.write_bytes(response.data)
    return path
