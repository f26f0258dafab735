"""`/docs`: the API reference, rendered on the server from the OpenAPI description.

FastAPI's own /docs page loads Swagger UI from a CDN; the console must work
without the internet, so it renders the same description as plain HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from bastion.web.console.view import View

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    type: str
    description: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Parameter]
    body: str | None
    responses: list[tuple[str, str, str | None]]
    anchor: str


@dataclass(frozen=True)
class Schema:
    name: str
    description: str
    properties: list[Parameter] = field(default_factory=list)


def type_of(schema: dict[str, Any]) -> str:
    """Describe a JSON schema in a few words: ``string``, ``list of Contact``, ``integer ≤ 500``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_of(s) for s in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    limits = [
        f"{word} {schema[key]}"
        for key, word in (
            ("minimum", "≥"),
            ("maximum", "≤"),
            ("minLength", "length ≥"),
            ("maxLength", "length ≤"),
        )
        if key in schema
    ]
    return f"{kind} ({', '.join(limits)})" if limits else kind


def operations(spec: dict[str, Any]) -> list[Operation]:
    """List the API's operations in path order, each with its parameters and answers."""
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            body_schema = (
                op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ).get("schema")
            responses = []
            for code, answer in op.get("responses", {}).items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                responses.append(
                    (
                        str(code),
                        str(answer.get("description", "")),
                        type_of(schema) if schema else None,
                    )
                )
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=str(op.get("summary", "")),
                    description=str(op.get("description", "")),
                    parameters=[
                        Parameter(
                            name=str(p["name"]),
                            location=str(p.get("in", "")),
                            required=bool(p.get("required", False)),
                            type=type_of(p.get("schema", {})),
                            description=str(p.get("description", "")),
                        )
                        for p in op.get("parameters", [])
                    ],
                    body=type_of(body_schema) if body_schema else None,
                    responses=responses,
                    anchor=str(op.get("operationId", f"{method}-{path}")),
                )
            )
    return found


def schemas(spec: dict[str, Any]) -> list[Schema]:
    """List the API's named schemas with their properties."""
    found = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        found.append(
            Schema(
                name=name,
                description=str(schema.get("description", "")),
                properties=[
                    Parameter(
                        name=prop,
                        location="",
                        required=prop in required,
                        type=type_of(sub),
                        description=str(sub.get("description", "")),
                    )
                    for prop, sub in schema.get("properties", {}).items()
                ],
            )
        )
    return found


def reference(view: View, spec: dict[str, Any]) -> Markup:
    """Return the operations and schemas of ``spec`` as HTML, rendered once per description
    (the app's, kept by FastAPI) and kept on the app: the same for every reader, and some
    20,000 pieces of template output a request otherwise, whose garbage set off full
    collections."""
    state = view.request.app.state
    kept = getattr(state, "api_reference", None)
    if kept is None or kept[0] is not spec:
        html = view.templates.get_template("apidocs_reference.html").render(
            operations=operations(spec), schemas=schemas(spec)
        )
        kept = state.api_reference = (spec, Markup(html))  # escaped by the template
    return kept[1]


@router.get("/docs", name="api_docs")
def api_docs(view: Annotated[View, Depends(View.of("api"))]) -> HTMLResponse:
    """Show the API reference: every operation, its parameters, answers and schemas."""
    spec = view.request.app.openapi()
    return view.render(
        "apidocs.html",
        title=spec.get("info", {}).get("title", "API"),
        api_version=spec.get("info", {}).get("version", ""),
        reference=reference(view, spec),
    )
