"""docs/openapi.yaml documents every route of `mesnode routes`, with the same operationId,
access kind and roles, so that a route added without docs (or docs that drift) fails here."""
import os
import subprocess

import yaml

from conftest import MESNODE

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
ALL_ROLES = "admin,school_admin,teacher,class_teacher,student,parent,medic,methodologist,operator,ministry"


def routes():
    out = subprocess.run([MESNODE, "routes"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        method, path, access, name, _writes, who = line.split()
        # "{id}" stays; a trailing star is a file name in the document.
        yield method.lower(), path.replace("*", "{file}"), access, name, who


def test_every_route_is_documented():
    with open(os.path.join(ROOT, "docs", "openapi.yaml")) as f:
        doc = yaml.safe_load(f)
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops if m != "parameters"}
    seen = set()
    for method, path, access, name, who in routes():
        seen.add((method, path))
        op = doc["paths"].get(path, {}).get(method)
        assert op is not None, f"{method.upper()} {path} is not in docs/openapi.yaml"
        assert op["operationId"] == name, path
        assert op["x-access"] == access, path
        if access != "public":
            roles = ",".join(op["x-roles"])
            assert (ALL_ROLES if roles == "any" else roles) == who, f"{path}: {roles} vs {who}"
    assert documented == seen, f"documented but not served: {documented - seen}"
