"""The OpenAPI page at `/schema`, with Swagger UI served by this app from the installed
`swagger-ui-py` package instead of a CDN, so the page works on a machine without internet.

`swagger_assets_router()` serves the few files the page loads, under a path that names the
package's version; `swagger_page_plugin()` is the render plugin whose page loads them and
nothing else (no CDN, no remote favicon, no online validator).
"""

from __future__ import annotations

import functools
import html
import importlib.metadata
import importlib.util
import json
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

PACKAGE = "swagger_ui"
DISTRIBUTION = "swagger-ui-py"
BUNDLE_JS = "swagger-ui-bundle.js"
PRESET_JS = "swagger-ui-standalone-preset.js"
CSS = "swagger-ui.css"
FAVICON = "favicon-32x32.png"
#: The files the page loads; the package holds more (the editor, source maps) we do not serve.
ASSETS = frozenset({BUNDLE_JS, PRESET_JS, CSS, FAVICON})
ONE_YEAR = 365 * 24 * 3600


@functools.cache
def assets_directory() -> Path:
    """The package's `static/` folder, found without importing the package (its `__init__`
    pulls in framework adapters we do not use)."""
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise RuntimeError(f"the {DISTRIBUTION} package is not installed")
    return Path(locations[0]) / "static"


@functools.cache
def assets_path() -> str:
    """Where the assets are served; the version in it lets browsers cache them for good."""
    return f"/schema/assets/{importlib.metadata.version(DISTRIBUTION)}"


def asset_url(name: str) -> str:
    return f"{assets_path()}/{name}"


async def _only_page_assets(request: Request[Any, Any, Any]) -> None:
    if str(request.path_params.get("file_path", "")).strip("/") not in ASSETS:
        raise NotFoundException(f"no such asset: {request.url.path}")


def swagger_assets_router() -> Router:
    """Swagger UI's files for the page, public, immutable for a given package version."""
    return create_static_files_router(
        path=assets_path(),
        directories=[assets_directory()],
        name="swagger-ui-assets",
        before_request=_only_page_assets,
        cache_control=CacheControlHeader(public=True, max_age=ONE_YEAR, immutable=True),
    )


class OfflineSwaggerRenderPlugin(SwaggerRenderPlugin):
    """Litestar's Swagger UI page, rendered here to switch Swagger UI's online validator off
    (the plugin has no option for it) and to load the document by URL rather than inline."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        config = {
            "url": self.get_openapi_json_route(request),
            "dom_id": "#swagger-ui",
            "deepLinking": True,
            "showExtensions": True,
            "showCommonExtensions": True,
            "validatorUrl": None,
        }
        # "<" escaped so no string in the configuration can close the script element
        config_js = json.dumps(config).replace("<", "\\u003c")
        title = html.escape(str(openapi_schema["info"]["title"]))
        page = f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title}</title>
    {self.favicon}
    <link rel="stylesheet" href="{html.escape(self.css_url)}">
    {self.style}
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="{html.escape(self.js_url)}"></script>
    <script src="{html.escape(self.standalone_preset_js_url)}"></script>
    <script>
      window.ui = SwaggerUIBundle(Object.assign({config_js}, {{
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      }}));
    </script>
  </body>
</html>
"""
        return page.encode()


def swagger_page_plugin(path: str = "/") -> OfflineSwaggerRenderPlugin:
    """The page at the OpenAPI path (`/schema`), loading Swagger UI from this app only."""
    return OfflineSwaggerRenderPlugin(
        path=path,
        js_url=asset_url(BUNDLE_JS),
        css_url=asset_url(CSS),
        standalone_preset_js_url=asset_url(PRESET_JS),
        favicon=f'<link rel="icon" type="image/png" href="{asset_url(FAVICON)}">',
    )
