"""The docs page (/docs): the OpenAPI document as a plain HTML page, drawn here with no
script and nothing fetched from elsewhere (the usual Swagger page loads from a CDN), and
the request bodies of /send and /upload, which are read by hand (two content types)."""

from __future__ import annotations

import html
import json
from typing import Any

_OPTIONS = {
    "template": {"type": "string", "description": "message text: {column} placeholders, {Hi|Hello} spintax"},
    "name": {"type": "string", "description": "job name (default: the file's name)"},
    "phone_column": {"type": "string", "description": "the column holding the numbers (default: found by itself)"},
    "region": {"type": "string", "description": "region of numbers without a country code, e.g. IN"},
    "start_at": {"type": "string", "description": "not before this local time, e.g. 2026-12-01T09:00"},
    "window": {
        "type": "string",
        "description": "each contact's local hours, e.g. 09:00-20:00 (default: any time; no overnight window)",
    },
    "timezone": {
        "type": "string",
        "description": "the job's IANA zone for numbers without one, e.g. America/Sao_Paulo (default: the server's)",
    },
    "account": {"type": "string", "description": "only this account may send it (repeat for several)"},
    "dry_run": {"type": "boolean", "description": "create nothing: the plan and the first messages"},
}

_MULTIPART: dict[str, Any] = {
    "type": "object",
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "contacts: .csv, .txt, .tsv, .xlsx or .vcf"},
        "contacts": {"type": "string", "description": "or the contacts as a JSON list of objects"},
        "attachment": {"type": "string", "format": "binary", "description": "sent with every message"},
        **_OPTIONS,
    },
    "required": ["template"],
}

SEND_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": _MULTIPART},
            "application/json": {"schema": {"$ref": "#/components/schemas/SendJson"}},
        },
    },
    "responses": {"201": {"description": "the job was created: its id, the plan's summary and problem rows"}},
}

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": _MULTIPART["properties"]["file"],
                        **{k: _OPTIONS[k] for k in ("template", "phone_column", "region")},
                    },
                    "required": ["file"],
                }
            }
        },
    }
}


def render(spec: dict[str, Any]) -> str:
    """The API's docs page: the OpenAPI document drawn by a small local page (no CDN)."""
    info = spec.get("info", {})
    rows = []
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            params = ", ".join(
                f"{p['name']} ({p['in']})" + ("" if p.get("required") else "?") for p in op.get("parameters", [])
            )
            body = ", ".join(op.get("requestBody", {}).get("content", {}))
            locked = "" if not op.get("security") else "token"
            rows.append(
                f"<tr><td><b>{html.escape(method.upper())}</b></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(op.get('summary', ''))}</td><td>{html.escape(params)}</td>"
                f"<td>{html.escape(body)}</td><td>{locked}</td></tr>"
            )
    schemas = json.dumps(spec.get("components", {}).get("schemas", {}), indent=2)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(info.get("title", "API"))}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}}
table{{border-collapse:collapse}}pre{{background:#f6f6f6;padding:1em}}</style></head><body>
<h1>{html.escape(info.get("title", "API"))} <small>{html.escape(str(info.get("version", "")))}</small></h1>
<p>{html.escape(info.get("description", ""))} The machine-readable document: <a href="/openapi.json">/openapi.json</a>;
the guide: docs/api.md.</p>
<table><tr><th>method</th><th>path</th><th>what</th><th>parameters</th><th>body</th><th>auth</th></tr>
{"".join(rows)}</table><h2>Schemas</h2><pre>{html.escape(schemas)}</pre></body></html>"""
