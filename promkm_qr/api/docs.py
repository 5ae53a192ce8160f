"""The API reference page: the OpenAPI document rendered on the server (no script, no CDN)."""

from flask import Blueprint, current_app, render_template

bp = Blueprint("api_reference", __name__, url_prefix="/api/v1")

METHODS = ("get", "post", "put", "patch", "delete")


def _type(schema: dict) -> str:
    """A short type text for a parameter or field schema."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = " | ".join(kind)
    if "items" in schema:
        kind += f" of {_type(schema['items'])}"
    for key in ("format", "pattern", "enum", "minimum", "maximum"):
        if key in schema:
            kind += f", {key} {schema[key]}"
    return kind


def _body(op: dict) -> str | None:
    """The schema name of an operation's JSON request body, if it takes one."""
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    return _type(content.get("schema", {})) if content else None


def operations(spec: dict) -> list[dict]:
    """Every operation of the document with its parameters, scope and answers."""
    found = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "scope": op.get("x-scope"),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": _type(p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in [*item.get("parameters", []), *op.get("parameters", [])]
                    ],
                    "body": _body(op),
                    "responses": sorted(op.get("responses", {})),
                }
            )
    return found


def schemas(spec: dict) -> list[dict]:
    """The named schemas with their fields."""
    return [
        {
            "name": name,
            "description": schema.get("description", ""),
            "fields": [
                {
                    "name": field,
                    "type": _type(value),
                    "required": field in schema.get("required", []),
                    "description": value.get("description", ""),
                }
                for field, value in schema.get("properties", {}).items()
            ],
        }
        for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items())
    ]


@bp.route("/docs")
def reference():
    """The reference page any integrator can read without a token."""
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template(
        "api/reference.html", info=spec["info"], operations=operations(spec), schemas=schemas(spec)
    )
