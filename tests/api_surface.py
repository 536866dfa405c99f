"""What generated clients depend on in the OpenAPI schema, and which changes to it break them.

`surface(schema)` keeps the names and types clients are generated from (operations with
their ids, parameters, bodies and answers; components with their properties, required
fields and enum values; webhooks) and drops prose. `breaking_changes(released, current)`
lists the changes docs/api.md reserves for a new API version. The surface of the released
v1 is committed as clients/api-v1-surface.json; tests/test_api_clients.py compares with it.
"""

import json

METHODS = ("get", "post", "put", "patch", "delete")


def _sig(schema: dict):
    """A schema's type, without its prose: what a generated type is made of."""
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return "$ref:" + schema["$ref"].rsplit("/", 1)[1]
    sig = {}
    for key in ("type", "format", "const"):
        if key in schema:
            sig[key] = schema[key]
    if sig.get("format") in ("int32", "int64", "double", "float"):
        del sig["format"]  # the database's integer sizes; clients read every one as int or number
    if "enum" in schema:
        sig["enum"] = sorted(map(str, schema["enum"]))
    for key in ("oneOf", "anyOf", "allOf"):
        if key in schema:
            sig[key] = [_sig(sub) for sub in schema[key]]
    if "items" in schema:
        sig["items"] = _sig(schema["items"])
    if isinstance(schema.get("additionalProperties"), dict):
        sig["additionalProperties"] = _sig(schema["additionalProperties"])
    if "properties" in schema:
        sig["properties"] = {name: _sig(sub) for name, sub in sorted(schema["properties"].items())}
        sig["required"] = sorted(schema.get("required", []))
    return sig


def _bodies(content: dict) -> dict:
    return {media: _sig(body.get("schema", {})) for media, body in sorted(content.items())}


def _operation(operation: dict) -> dict:
    return {
        "operationId": operation.get("operationId"),
        "parameters": {
            f"{p['in']}:{p['name']}": {"required": p.get("required", False), "schema": _sig(p.get("schema", {}))}
            for p in operation.get("parameters", [])
        },
        "request": _bodies(operation.get("requestBody", {}).get("content", {})),
        "responses": {code: _bodies(r.get("content", {})) for code, r in sorted(operation["responses"].items())},
    }


def surface(schema: dict) -> dict:
    return {
        "operations": {
            f"{method.upper()} {path}": _operation(item[method])
            for path, item in sorted(schema["paths"].items())
            for method in METHODS
            if method in item
        },
        "webhooks": {
            f"{method.upper()} {name}": _operation(item[method])
            for name, item in sorted(schema.get("webhooks", {}).items())
            for method in METHODS
            if method in item
        },
        "components": {name: _sig(c) for name, c in sorted(schema["components"]["schemas"].items())},
    }


def dumps(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def _is_request(component: str) -> bool:
    # drf-spectacular names the request side of a serializer "…Request" (COMPONENT_SPLIT_REQUEST)
    return component.endswith("Request")


def _compare_type(where: str, old, new, problems: list[str], *, request: bool):
    """A type may only change by gaining enum values (answers) or properties (answers, optional in requests)."""
    if old == new:
        return
    if not (isinstance(old, dict) and isinstance(new, dict)):
        problems.append(f"{where}: type changed from {old} to {new}")
        return
    for key in sorted(set(old) | set(new)):
        if key in ("properties", "required"):
            continue
        if key == "enum" and key in old and key in new:
            lost = sorted(set(old["enum"]) - set(new["enum"]))
            if lost:
                problems.append(f"{where}: enum values removed: {', '.join(lost)}")
            continue
        if key in ("oneOf", "anyOf") and key in old and key in new:
            lost = [sub for sub in old[key] if sub not in new[key]]
            if lost:
                problems.append(f"{where}: {key} lost {lost}")
            continue
        if key in ("items", "additionalProperties") and key in old and key in new:
            _compare_type(f"{where}[{key}]", old[key], new[key], problems, request=request)
            continue
        if old.get(key) != new.get(key):
            problems.append(f"{where}: {key} changed from {old.get(key)!r} to {new.get(key)!r}")
    if "properties" in old:
        new_props = new.get("properties", {})
        for name, prop in old["properties"].items():
            if name not in new_props:
                problems.append(f"{where}.{name}: removed")
            else:
                _compare_type(f"{where}.{name}", prop, new_props[name], problems, request=request)
        old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
        if request:
            added = sorted(new_req - old_req)
            if added:
                problems.append(f"{where}: newly required: {', '.join(added)}")
        else:
            dropped = sorted((old_req - new_req) & set(new_props))
            if dropped:
                problems.append(f"{where}: no longer always sent: {', '.join(dropped)}")


def _compare_operation(where: str, old: dict, new: dict, problems: list[str]):
    if old["operationId"] != new["operationId"]:
        problems.append(f"{where}: operation id changed from {old['operationId']} to {new['operationId']}")
    for name, param in old["parameters"].items():
        if name not in new["parameters"]:
            problems.append(f"{where}: parameter {name} removed")
        elif new["parameters"][name]["required"] and not param["required"]:
            problems.append(f"{where}: parameter {name} became required")
        else:
            _compare_type(f"{where} {name}", param["schema"], new["parameters"][name]["schema"], problems, request=True)
    for name, param in new["parameters"].items():
        if name not in old["parameters"] and param["required"]:
            problems.append(f"{where}: new required parameter {name}")
    for media, body in old["request"].items():
        if media not in new["request"]:
            problems.append(f"{where}: request body {media} no longer taken")
        else:
            _compare_type(f"{where} request", body, new["request"][media], problems, request=True)
    for code, bodies in old["responses"].items():
        if code not in new["responses"]:
            problems.append(f"{where}: answer {code} removed")
            continue
        for media, body in bodies.items():
            if media not in new["responses"][code]:
                problems.append(f"{where} {code}: {media} no longer sent")
            else:
                _compare_type(f"{where} {code}", body, new["responses"][code][media], problems, request=False)


def breaking_changes(released: dict, current: dict) -> list[str]:
    """Return what in `current` breaks a client generated from `released` (both surfaces)."""
    problems: list[str] = []
    for section in ("operations", "webhooks"):
        for key, operation in released[section].items():
            if key not in current[section]:
                problems.append(f"{key}: removed")
            else:
                _compare_operation(key, operation, current[section][key], problems)
    for name, component in released["components"].items():
        if name not in current["components"]:
            problems.append(f"component {name}: removed")
        else:
            _compare_type(f"component {name}", component, current["components"][name], problems, request=_is_request(name))
    return problems


if __name__ == "__main__":  # python -m tests.api_surface SCHEMA.json > clients/api-v1-surface.json
    import sys

    with open(sys.argv[1]) as file:
        sys.stdout.write(dumps(surface(json.load(file))))
