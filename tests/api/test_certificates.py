"""Certificates of study: a parent gets one signed by the node; anyone holding the link checks
it without logging in; a forged or missing signature shows nothing; only parents request."""
import base64
import subprocess

from conftest import Client, decode_qr


def test_issue_and_verify(node):
    parent = node.login("parent")
    artem = next(c["id"] for c in parent.user["children"] if c["name"].startswith("Иванов Артём"))
    r = parent.post(f"/api/v1/students/{artem}/certificates", {"purpose": "в бассейн"})
    assert r.status == 201, r
    cert = r.json()
    anyone = Client(node.base)  # no login
    v = anyone.get(f"/api/v1/certificates/{cert['id']}?s={cert['signature']}")
    assert v.status == 200
    body = v.json()
    assert body["valid"] is True and body["algorithm"] == "Ed25519"
    c = body["certificate"]
    assert c["student"] == "Иванов Артём Сергеевич" and c["class"] == "5А" and c["purpose"] == "в бассейн"
    assert c["number"] == cert["id"]
    # The signature checks against the published key, independently of the node's own answer.
    key = anyone.get("/api/v1/certificates/key").json()["public_key"]
    assert key == body["public_key"]
    pk = base64.b64decode(key)
    sig = base64.urlsafe_b64decode(cert["signature"] + "=" * (-len(cert["signature"]) % 4))
    assert verify_ed25519(pk, sig, body["signed_text"].encode())
    assert not verify_ed25519(pk, sig, body["signed_text"].replace("5А", "6А").encode())
    # A wrong or missing signature: nothing there.
    bad = cert["signature"][:-2] + ("AA" if not cert["signature"].endswith("AA") else "BB")
    assert anyone.get(f"/api/v1/certificates/{cert['id']}?s={bad}").status == 404
    assert anyone.get(f"/api/v1/certificates/{cert['id']}").status == 404
    assert anyone.get(f"/api/v1/certificates/{cert['id'] + 1}?s={cert['signature']}").status == 404


def test_only_parents_of_the_child(node):
    parent = node.login("parent")
    artem = next(c["id"] for c in parent.user["children"] if c["name"].startswith("Иванов Артём"))
    assert node.login("student").post(f"/api/v1/students/{artem}/certificates", {"purpose": "x"}).status == 403
    assert node.login("teacher").post(f"/api/v1/students/{artem}/certificates", {"purpose": "x"}).status == 403
    classmates = node.login("admin").get(
        f"/api/v1/classes/{parent.user['children'][0]['class']['id']}/students").json()["items"]
    other = next(s["id"] for s in classmates if s["id"] != artem and not s["name"].startswith("Иванова Мария"))
    assert parent.post(f"/api/v1/students/{other}/certificates", {"purpose": "x"}).status == 403
    assert parent.post(f"/api/v1/students/{artem}/certificates", {"purpose": ""}).status == 400


def verify_ed25519(pk, sig, msg):
    """Checks a signature with the openssl command line (independent of libsodium)."""
    import os
    import tempfile
    der = bytes.fromhex("302a300506032b6570032100") + pk
    with tempfile.TemporaryDirectory() as d:
        paths = {name: os.path.join(d, name) for name in ("pk.der", "sig", "msg")}
        open(paths["pk.der"], "wb").write(der)
        open(paths["sig"], "wb").write(sig)
        open(paths["msg"], "wb").write(msg)
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["pk.der"],
                            "-keyform", "DER", "-rawin", "-in", paths["msg"], "-sigfile", paths["sig"]],
                           capture_output=True)
        return r.returncode == 0


def test_qr_code_decodes_to_the_public_link(node, tmp_path):
    parent = node.login("parent")
    artem = next(c["id"] for c in parent.user["children"] if c["name"].startswith("Иванов Артём"))
    cert = parent.post(f"/api/v1/students/{artem}/certificates", {"purpose": "в кружок"}).json()
    anyone = Client(node.base)
    r = anyone.get(f"/api/v1/certificates/{cert['id']}/qr?s={cert['signature']}")
    assert r.status == 200 and r.headers["Content-Type"].startswith("image/svg+xml")
    # The demo sets no http.public_url: links are built on http.listen and the port bound.
    link = f"{node.base}/certificates/{cert['id']}?s={cert['signature']}"
    assert decode_qr(r.body.decode(), tmp_path) == link
    assert cert["link"] == link
    assert anyone.get(f"/api/v1/certificates/{cert['id']}?s={cert['signature']}").json()["link"] == link
    # The request's Host and X-Forwarded-Proto never move the link (anyone could send them).
    r2 = anyone.get(f"/api/v1/certificates/{cert['id']}/qr?s={cert['signature']}",
                    headers={"Host": "evil.example", "X-Forwarded-Proto": "https"})
    assert r2.status == 200 and r2.body == r.body
    v = anyone.get(f"/api/v1/certificates/{cert['id']}?s={cert['signature']}", headers={"Host": "evil.example"})
    assert v.json()["link"] == link
    # No QR code for a certificate that does not exist or a forged link.
    bad = cert["signature"][:-2] + ("AA" if not cert["signature"].endswith("AA") else "BB")
    assert anyone.get(f"/api/v1/certificates/{cert['id']}/qr?s={bad}").status == 404
    assert anyone.get(f"/api/v1/certificates/{cert['id']}/qr").status == 404
