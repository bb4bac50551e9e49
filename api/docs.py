"""The interactive API documentation, served by the service itself.

Swagger UI (`/docs`) and ReDoc (`/redoc`) load their scripts and styles from `/docs/assets/`,
files shipped in the `fastapi-offline` package (Swagger UI 5 and ReDoc 2, as released), so the
pages work on a machine without internet and an admin's browser makes no third-party request.
Each page carries a Content-Security-Policy that allows only this origin: the one inline script
of Swagger UI is allowed by its SHA-256 hash (CSP Level 2 §4.2.4), not by 'unsafe-inline'.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs/assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _csp(html: str) -> str:
    """Only this origin; inline scripts only by hash. Both UIs set style attributes and ReDoc
    injects <style> elements (styled-components), so styles allow 'unsafe-inline' — styles run
    no code. ReDoc runs its search index in a blob: worker; images include data: icons."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {hashes}".rstrip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _page(response: HTMLResponse) -> HTMLResponse:
    html = bytes(response.body).decode()
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": _csp(html),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def install(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    """Mount the assets and add `/docs` and `/redoc` (create the app with docs_url=None)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _page(
            get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{title} — API (Swagger UI)",
                swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
                # Swagger UI would otherwise send the contract to validator.swagger.io.
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _page(
            get_redoc_html(
                openapi_url=root + openapi_url,
                title=f"{title} — API (ReDoc)",
                redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
                with_google_fonts=False,
            )
        )
