"""/docs works without any CDN: the page names only lifeboat's own /static files."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lifeboat.api.docs import mount_docs

ASSET_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
ANY_HTTP_URL = re.compile(r"https?://", re.IGNORECASE)


@pytest.fixture
def client() -> TestClient:
    app = FastAPI(title="lifeboat", docs_url=None, redoc_url=None)

    @app.get("/api/v1/status")
    def status() -> dict[str, str]:
        return {"status": "ok"}

    mount_docs(app)
    return TestClient(app)


def test_docs_page_loads_only_local_static_files(client):
    page = client.get("/docs")

    assert page.status_code == 200
    assets = ASSET_URL.findall(page.text)
    assert "/static/swagger-ui/swagger-ui-bundle.js" in assets
    assert "/static/swagger-ui/swagger-ui.css" in assets
    assert all(url.startswith("/static/") for url in assets), assets
    assert not ANY_HTTP_URL.search(page.text), "the page must not reach any other host"
    assert "'/openapi.json'" in page.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/swagger-ui/swagger-ui-bundle.js", "javascript"),
        ("/static/swagger-ui/swagger-ui.css", "text/css"),
        ("/static/swagger-ui/favicon-32x32.png", "image/png"),
        ("/static/htmx/htmx.min.js", "javascript"),
    ],
)
def test_vendored_files_are_served(client, path, content_type):
    response = client.get(path)

    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    assert len(response.content) > 500


def test_every_file_the_docs_page_names_is_served(client):
    page = client.get("/docs").text

    for url in ASSET_URL.findall(page):
        assert client.get(url).status_code == 200, url


def test_docs_page_is_not_part_of_the_api_schema(client):
    schema = client.get("/openapi.json").json()

    assert "/docs" not in schema["paths"]
    assert "/api/v1/status" in schema["paths"]


def test_docs_follow_a_proxy_prefix():
    app = FastAPI(docs_url=None, redoc_url=None)
    mount_docs(app)

    page = TestClient(app, root_path="/lifeboat").get("/docs").text

    assert "/lifeboat/static/swagger-ui/swagger-ui-bundle.js" in page
    assert "'/lifeboat/openapi.json'" in page
