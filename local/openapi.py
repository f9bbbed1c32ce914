"""Writes functions/docs/openapi.json from the routes of every function, with the template's auth.

`python -m local.openapi` writes it; `--check` fails when it is out of date (the tests run that).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from local.handlers import load_function_module
from local.template import REPO, http_routes, load_template

DOCUMENT = REPO / "functions" / "docs" / "openapi.json"
SECURITY_SCHEMES = {
    "member": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "Cognito member token"},
    "operator": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "AWS SigV4 (IAM)"},
}


def build() -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "layers" / "cashback" / "python"))
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    routes = http_routes(load_template())
    auth = {(route.method.lower(), route.path): route.auth for route in routes}
    for code_uri in sorted({route.code_uri for route in routes}):
        app = getattr(load_function_module(REPO / code_uri), "app", None)
        if app is None:  # a function without a resolver (the docs function itself)
            continue
        schema = json.loads(app.get_openapi_json_schema())
        schemas.update(schema.get("components", {}).get("schemas", {}))
        for route_path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                kind = auth.get((method, route_path), "none")
                if kind != "none":
                    operation["security"] = [{"operator" if kind == "iam" else "member": []}]
                paths.setdefault(route_path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Cashback programme API", "version": "1.0.0"},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": SECURITY_SCHEMES},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the committed document is out of date")
    args = parser.parse_args()
    text = json.dumps(build(), indent=2, sort_keys=False) + "\n"
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
            print(f"{DOCUMENT.relative_to(REPO)} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(REPO)} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
