"""The front door cannot drift: the README's API overview names exactly the operations of /openapi.json,
and docs/API.md is the contract the clients are written against."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHARED_API = ROOT.parent / "shared" / "API.md"
METHODS = ("get", "post", "put", "patch", "delete")
ENDPOINT = re.compile(r"`((?:GET|POST|PUT|PATCH|DELETE)(?:/(?:GET|POST|PUT|PATCH|DELETE))*) (/[^`\s]*)`")


def shape(path: str) -> str:
    """Parameter names aside: /orders/{id} and /orders/{order_id} are one path."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def overview() -> set[tuple[str, str]]:
    """(METHOD, path) of every endpoint in the table of the README's "API overview" section."""
    section = README.read_text().split("\n## API overview\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return {(method, path) for row in rows for methods, path in ENDPOINT.findall(row) for method in methods.split("/")}


def test_the_overview_parser_reads_the_table():
    assert ("GET", "/reports/payments") in overview()
    assert {("GET", "/users/{id}"), ("PATCH", "/users/{id}"), ("DELETE", "/users/{id}")} <= overview()


def test_the_readme_api_overview_and_openapi_name_the_same_operations(client):
    spec = client.get("/openapi.json").json
    operations = {(method.upper(), shape(path)) for path, item in spec["paths"].items() for method in item
                  if method in METHODS}
    listed = set()
    for method, path in overview():
        full = shape(path if shape(path) in {shape(p) for p in spec["paths"]} else f"/api/v1{path}")
        listed.add((method, full))
    missing_in_readme = sorted(f"{m} {p}" for m, p in operations - listed)
    missing_in_openapi = sorted(f"{m} {p}" for m, p in listed - operations)
    assert not missing_in_readme, f"add to the README's API overview: {', '.join(missing_in_readme)}"
    assert not missing_in_openapi, f"the README's API overview names operations /openapi.json lacks: " \
                                   f"{', '.join(missing_in_openapi)}"


def test_the_readme_is_a_front_door():
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    assert "../shared" not in text
    for command in ("make run", "make test", "make test-fast", "make lint", "make bench", "make mutation"):
        assert f"`{command}" in text or f"\n{command} " in text, command
    for link in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / link).exists(), link


@pytest.mark.skipif(not SHARED_API.exists(), reason=f"{SHARED_API} is not beside the repository")
def test_docs_api_md_is_the_shared_contract():
    assert (ROOT / "docs" / "API.md").read_text() == SHARED_API.read_text(), (
        f"docs/API.md differs from {SHARED_API}: copy it (cp {SHARED_API} docs/API.md)")


def test_nothing_in_the_repository_points_outside_it():
    texts = [*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md"), *(ROOT / "app").rglob("*.py")]
    offenders = [str(path.relative_to(ROOT)) for path in texts if "shared/API.md" in path.read_text()]
    assert offenders == []
