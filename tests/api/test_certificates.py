"""Certificates of study: a parent gets one signed by the node; anyone holding the link checks
it without logging in; a forged or missing signature shows nothing; only parents request."""
import base64
import datetime
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


# ---- the list, one number per request, the Russian text, who may ------------------------------

MONTHS = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
          "октября", "ноября", "декабря"]


def words(iso):
    y, m, d = (int(x) for x in iso.split("-"))
    return f"{d} {MONTHS[m - 1]} {y} г."


def child(parent, prefix):
    return next(c["id"] for c in parent.user["children"] if c["name"].startswith(prefix))


def listed(client, student):
    r = client.get(f"/api/v1/students/{student}/certificates")
    assert r.status == 200, r
    return r.json()["items"]


def test_the_same_request_on_the_same_day_is_one_certificate(node):
    parent = node.login("parent")
    artem = child(parent, "Иванов Артём")
    before = listed(parent, artem)
    r = parent.post(f"/api/v1/students/{artem}/certificates", {"purpose": "по месту требования"})
    assert r.status == 201, r
    first = r.json()
    today = datetime.date.today().isoformat()  # the node runs on this machine, in its time zone
    assert first["number"] == first["id"] and first["purpose"] == "по месту требования"
    assert first["issued_on"] == today
    # Again, and with other spaces: the same certificate, 200, no new number.
    for purpose in ("по месту требования", "  по месту   требования "):
        again = parent.post(f"/api/v1/students/{artem}/certificates", {"purpose": purpose})
        assert again.status == 200, again
        assert again.json() == first
    # Another purpose, or the other child: new ones.
    other = parent.post(f"/api/v1/students/{artem}/certificates", {"purpose": "в поликлинику"})
    assert other.status == 201 and other.json()["id"] > first["id"]
    maria = child(parent, "Иванова Мария")
    sister = parent.post(f"/api/v1/students/{maria}/certificates", {"purpose": "по месту требования"})
    assert sister.status == 201 and sister.json()["id"] not in (first["id"], other.json()["id"])
    # The list: newest first, with purpose, day, number, link and who asked.
    items = listed(parent, artem)
    assert len(items) == len(before) + 2
    assert [i["id"] for i in items[:2]] == [other.json()["id"], first["id"]]
    top = items[1]
    assert top["purpose"] == "по месту требования" and top["issued_on"] == today
    assert top["number"] == first["id"] and top["url"] == first["url"]
    assert top["requested_by"] == {"id": parent.user["person_id"], "name": "Иванова Елена Викторовна"}
    assert all(i["id"] != sister.json()["id"] for i in items)
    assert [i["id"] for i in listed(parent, maria)][0] == sister.json()["id"]
    # The link in the list opens the certificate.
    sig = top["url"].split("s=")[1]
    assert Client(node.base).get(f"/api/v1/certificates/{top['id']}?s={sig}").json()["valid"] is True


def test_the_text_in_russian(node):
    parent = node.login("parent")
    admin = node.login("admin")
    for prefix, dative, pronoun in (("Иванов Артём", "Иванову Артёму Сергеевичу", "он"),
                                    ("Иванова Мария", "Ивановой Марии Сергеевне", "она")):
        sid = child(parent, prefix)
        student = admin.get(f"/api/v1/students/{sid}").json()
        cert = parent.post(f"/api/v1/students/{sid}/certificates", {"purpose": "в бассейн"}).json()
        c = Client(node.base).get(f"/api/v1/certificates/{cert['id']}?s={cert['signature']}").json()
        body = c["certificate"]
        grade, letter = student["class"]["name"][:-1], student["class"]["name"][-1]
        assert body["text"] == (
            f"Дана {dative} (дата рождения: {words(student['birth_date'])}) в том, что {pronoun} "
            f"действительно обучается в {grade} «{letter}» классе данной образовательной "
            f"организации в {body['year']} учебном году."), body["text"]
        assert body["issued_words"] == words(body["issued_on"])
        # What is shown is what is signed.
        assert dative in c["signed_text"] and body["issued_words"] in c["signed_text"]
        assert c["valid"] is True


def test_who_may_list_and_request(node):
    admin = node.login("admin")
    parent = node.login("parent")
    artem = child(parent, "Иванов Артём")
    schools = {s["short_name"]: s["id"] for s in admin.get("/api/v1/institutions").json()["items"]}
    path = f"/api/v1/students/{artem}/certificates"
    count = len(listed(parent, artem))

    def person(last, first, login, roles):
        r = admin.post("/api/v1/persons", {"last_name": last, "first_name": first, "middle_name": "Иванович",
                                           "account": {"login": login, "password": "12345678", "roles": roles}})
        assert r.status == 201, r
        return r.json()["id"], node.login(login, "12345678")

    # Another parent: a classmate's.
    classmates = admin.get(f"/api/v1/classes/{parent.user['children'][0]['class']['id']}/students").json()["items"]
    mate = next(s["id"] for s in classmates if s["id"] != artem and not s["name"].startswith("Иванова Мария"))
    pid, other_parent = person("Сидоров", "Пётр", "certparent", [{"role": "parent"}])
    assert admin.post("/api/v1/guardians", {"guardian_id": pid, "student_id": mate, "relation": "father"}).status == 201
    assert other_parent.post(f"/api/v1/students/{mate}/certificates", {"purpose": "в бассейн"}).status == 201
    assert [i["purpose"] for i in listed(other_parent, mate)] == ["в бассейн"]
    # A teacher of another school, a school admin of another school.
    _, gym_teacher = person("Учитель", "Гимназии", "certgymteacher",
                            [{"role": "teacher", "institution_id": schools["Гимназия № 2"]}])
    _, gym_admin = person("Директор", "Гимназии", "certgymadmin",
                          [{"role": "school_admin", "institution_id": schools["Гимназия № 2"]}])
    denied = {"another parent": other_parent, "teacher of another school": gym_teacher,
              "school admin of another school": gym_admin}
    for who in ("teacher", "classteacher", "medic", "student"):
        denied[who] = node.login(who)
    for who, c in denied.items():
        assert c.get(path).status == 403, who
        assert c.post(path, {"purpose": "в бассейн"}).status == 403, who
    anon = node.client()
    assert anon.get(path).status == 401 and anon.post(path, {"purpose": "в бассейн"}).status == 401
    assert len(listed(parent, artem)) == count  # none of them made one
    # The school's admin lists and requests; a student that does not exist is 404.
    sa = node.login("schooladmin")
    assert len(listed(sa, artem)) == count
    r = sa.post(path, {"purpose": "для военкомата"})
    assert r.status == 201, r
    assert listed(parent, artem)[0]["requested_by"]["name"].startswith("Петров Андрей")
    assert sa.get("/api/v1/students/999999/certificates").status == 404
    assert parent.get("/api/v1/students/999999/certificates").status == 404


def test_bad_purpose_changes_nothing(node):
    parent = node.login("parent")
    artem = child(parent, "Иванов Артём")
    path = f"/api/v1/students/{artem}/certificates"
    count = len(listed(parent, artem))
    for body in ({"purpose": ""}, {"purpose": "   "}, {"purpose": "я" * 201}, {"purpose": "a\u0001b"}):
        r = parent.post(path, body)
        assert r.status == 400, body
        assert r.json()["error"]["code"] == "bad_request" and r.json()["error"]["field"] == "purpose", r
    for body in ({}, {"purpose": 5}, {"purpose": "в бассейн", "copies": 2}):
        assert parent.post(path, body).status == 400, body
    assert parent.post(path, {"purpose": "я" * 200}).status == 201
    assert len(listed(parent, artem)) == count + 1


def test_simultaneous_requests_make_one_certificate(node):
    """Clicks that arrive together (a double click, two tabs) still make one number."""
    import concurrent.futures
    parent = node.login("parent")
    artem = child(parent, "Иванов Артём")
    count = len(listed(parent, artem))
    path = f"/api/v1/students/{artem}/certificates"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: parent.post(path, {"purpose": "в спортивную секцию"}), range(8)))
    assert sorted(a.status for a in answers) == [200] * 7 + [201], [a.status for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(listed(parent, artem)) == count + 1


def test_a_name_that_does_not_tell_the_gender_stays_in_the_nominative(node):
    """«Ким Марат», no patronymic, no birth date: the nominative and «он(а)», never a guess."""
    sa = node.login("schooladmin")
    parent = node.login("parent")
    class_id = parent.user["children"][0]["class"]["id"]
    for last, first, middle, dative, pronoun in (
            ("Ким", "Марат", "", "Ким Марат", "он(а)"),
            ("Магомедова", "Патимат", "Магомедовна", "Магомедовой Патимат Магомедовне", "она"),
            ("Алиев", "Руслан", "Ильхам оглы", "Алиеву Руслану Ильхам оглы", "он")):
        r = sa.post("/api/v1/persons", {"last_name": last, "first_name": first, "middle_name": middle})
        assert r.status == 201, r
        pid = r.json()["id"]
        r = sa.post("/api/v1/enrollments", {"student_id": pid, "class_id": class_id,
                                            "enrolled_on": datetime.date.today().isoformat()})
        assert r.status in (200, 201), r
        cert = sa.post(f"/api/v1/students/{pid}/certificates", {"purpose": "по месту требования"})
        assert cert.status == 201, cert
        cert = cert.json()
        c = Client(node.base).get(f"/api/v1/certificates/{cert['id']}?s={cert['signature']}").json()["certificate"]
        assert c["birth_date"] == ""  # none given: no «дата рождения» in the text
        assert c["text"].startswith(f"Дана {dative} в том, что {pronoun} действительно обучается"), c["text"]
