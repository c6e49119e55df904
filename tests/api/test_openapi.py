"""docs/openapi.yaml documents every route of `mesnode routes`, with the same operationId,
access kind, roles and security, so that a route added without docs (or docs that drift)
fails here. Also checks the document's own consistency: every $ref resolves and every path
placeholder is declared as a parameter."""
import os
import re
import subprocess

import pytest
import yaml

from conftest import MESNODE

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
ALL_ROLES = "admin,school_admin,teacher,class_teacher,student,parent,medic,methodologist,operator,ministry,canteen"
METHODS = ("get", "post", "put", "patch", "delete")


def routes():
    """(method, path, access, name, writes, who) of every served route. "{id}" and other
    "{name}" placeholders stay as they are (OpenAPI spells them the same way); a trailing
    star is a file name in the document."""
    out = subprocess.run([MESNODE, "routes"], capture_output=True, text=True, check=True).stdout
    result = []
    for line in out.splitlines():
        method, path, access, name, writes, who = line.split()
        result.append((method.lower(), path.replace("*", "{file}"), access, name,
                       writes == "writes", who))
    assert len(result) > 20, out
    return result


@pytest.fixture(scope="module")
def doc():
    with open(os.path.join(ROOT, "docs", "openapi.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method in METHODS:
                yield path, method, op


def test_every_route_is_documented(doc):
    documented = {(m, p) for p, m, _ in operations(doc)}
    seen = set()
    missing = []
    for method, path, access, name, _writes, who in routes():
        seen.add((method, path))
        op = doc["paths"].get(path, {}).get(method)
        if op is None:
            missing.append(f"{method.upper()} {path}")
            continue
        assert op["operationId"] == name, path
        assert op["x-access"] == access, path
        if access == "node-signed":
            assert op["x-signer"] == who, path
        elif access != "public":
            roles = ",".join(op["x-roles"])
            assert (ALL_ROLES if roles == "any" else roles) == who, f"{path}: {roles} vs {who}"
    assert not missing, f"not in docs/openapi.yaml: {missing}"
    assert documented == seen, f"documented but not served: {documented - seen}"


def test_operation_ids_are_unique(doc):
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))


def test_roles_and_security_per_route(doc):
    schemes = doc["components"]["securitySchemes"]
    assert schemes["cookie"] == {**schemes["cookie"], "type": "apiKey", "in": "cookie",
                                 "name": "mes_session"}
    assert schemes["csrf"]["in"] == "header" and schemes["csrf"]["name"] == "X-CSRF-Token"
    assert schemes["bearer"]["scheme"] == "bearer" and schemes["device"]["scheme"] == "bearer"
    default = doc["security"]
    for method, path, access, name, writes, who in routes():
        op = doc["paths"][path][method]
        security = op.get("security", default)
        where = f"{method.upper()} {path}"
        if access == "public":
            assert security == [], where
            continue
        description = op.get("description", "")
        if access == "node-signed":
            assert security == [{"node": []}], where
            continue
        if access == "device":
            assert security == [{"device": []}], where
            assert all(s in description for s in who.split(",")), where
            continue
        # The roles are spelled out for readers of the description, not only in x-roles.
        m = re.search(r"Roles: ([^.]*)\.", description)
        assert m, f"{where}: no 'Roles: ...' in the description"
        if who == ALL_ROLES:
            assert m.group(1) == "any logged-in account", where
        else:
            assert m.group(1).split(", ") == who.split(","), where
        assert {"bearer": []} in security, where
        cookie = next(s for s in security if "cookie" in s)
        assert ("csrf" in cookie) == writes, f"{where}: CSRF must be required exactly on writes"


def test_refs_resolve(doc):
    def resolve(ref):
        assert ref.startswith("#/"), ref
        node = doc
        for part in ref[2:].split("/"):
            assert part in node, f"dangling $ref {ref}"
            node = node[part]

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "$ref":
                    resolve(v)
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(doc)


def param(doc, p):
    if "$ref" in p:
        return doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
    return p


def test_path_placeholders_are_declared(doc):
    for path, method, op in operations(doc):
        declared = [param(doc, p) for p in doc["paths"][path].get("parameters", [])]
        declared += [param(doc, p) for p in op.get("parameters", [])]
        names = {p["name"] for p in declared if p["in"] == "path"}
        wanted = set(re.findall(r"{(\w+)}", path))
        assert names == wanted, f"{method.upper()} {path}: path parameters {names} vs {wanted}"


def test_error_object_and_responses(doc):
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(error["properties"]["error"]["required"]) == {"code", "message"}
    for path, method, op in operations(doc):
        assert op.get("responses"), f"{method.upper()} {path} has no responses"
        if method in ("post", "put", "patch") and path.startswith("/api/"):
            # Every JSON write documents its body, and bodies refuse unknown fields.
            body = op.get("requestBody")
            if body is not None and "application/json" not in body["content"]:
                # An upload: the body is the file itself.
                assert body["content"]["application/octet-stream"]["schema"]["format"] == "binary"
                assert any(p["name"] == "name" for p in op["parameters"]), f"{method} {path}"
            elif body is not None:
                schema = body["content"]["application/json"]["schema"]
                if "$ref" not in schema and schema.get("type") == "object":
                    assert schema.get("additionalProperties") is False, f"{method} {path}"
