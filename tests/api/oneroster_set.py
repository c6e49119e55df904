"""Writes OneRoster CSV sets (1.1 or 1.2) as the node reads them (docs/roster.md), for the
roster's tests and for measuring the import at scale:

    python3 tests/api/oneroster_set.py DIR --schools 40 --classes 10 --students 25

A set is a dict of file name -> list of rows (dicts); `write` puts it in a directory. Tests
change the dict (drop a row, point a row at a missing class) before writing it.
"""
import argparse
import csv
import os

LAST = ["Иванов", "Петров", "Сидоров", "Алиев", "Магомедов", "Гасанов", "Кузнецов", "Смирнов",
        "Абдуллаев", "Рамазанов", "Омаров", "Исаев"]
FIRST_M = ["Артём", "Иван", "Магомед", "Али", "Руслан", "Тимур", "Сергей", "Арсен"]
FIRST_F = ["Мария", "Анна", "Патимат", "Зарема", "Елена", "Амина", "Ольга", "Саида"]
MIDDLE_M = ["Сергеевич", "Магомедович", "Алиевич", "Русланович"]
MIDDLE_F = ["Сергеевна", "Магомедовна", "Алиевна", "Руслановна"]
LETTERS = "АБВГДЕЖЗ"
SUBJECTS = [("math", "Математика"), ("rus", "Русский язык"), ("eng", "Английский язык")]

COLUMNS = {
    "orgs.csv": ["sourcedId", "status", "dateLastModified", "name", "type", "identifier",
                 "parentSourcedId"],
    "academicSessions.csv": ["sourcedId", "status", "dateLastModified", "title", "type",
                             "startDate", "endDate", "parentSourcedId", "schoolYear"],
    "courses.csv": ["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title",
                    "courseCode", "grades", "orgSourcedId", "subjects", "subjectCodes"],
    "classes.csv": ["sourcedId", "status", "dateLastModified", "title", "grades",
                    "courseSourcedId", "classCode", "classType", "location", "schoolSourcedId",
                    "termSourcedIds", "subjects", "subjectCodes", "periods"],
    "users.csv": ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds",
                  "role", "username", "userIds", "givenName", "familyName", "middleName",
                  "identifier", "email", "sms", "phone", "agentSourcedIds", "grades", "password"],
    "enrollments.csv": ["sourcedId", "status", "dateLastModified", "classSourcedId",
                        "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate",
                        "endDate"],
    "demographics.csv": ["sourcedId", "status", "dateLastModified", "birthDate", "sex"],
}
# 1.2: users.csv without role and orgSourcedIds (roles.csv says them), with primaryOrgSourcedId.
USERS_12 = ["sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds",
            "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
            "agentSourcedIds", "grades", "password", "userMasterIdentifier",
            "primaryOrgSourcedId"]
ROLES_12 = ["sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role",
            "orgSourcedId", "userProfileSourcedId", "beginDate", "endDate"]


def make(schools=2, classes=2, students=3, year=2026, districts=1):
    """A region: `districts` municipalities, `schools` schools (spread over them), each with
    `classes` homerooms of `students` students (two guardians each, the second every other
    student), a teacher per homeroom (its class teacher, teaching math and Russian there)
    and a director."""
    s = {k: [] for k in COLUMNS}
    y = f"y{year}"
    s["academicSessions.csv"] += [
        {"sourcedId": y, "title": f"{year}/{year + 1}", "type": "schoolYear",
         "startDate": f"{year}-09-01", "endDate": f"{year + 1}-08-31", "schoolYear": str(year + 1)},
        {"sourcedId": f"{y}-t1", "title": "1 полугодие", "type": "semester",
         "startDate": f"{year}-09-01", "endDate": f"{year}-12-31", "parentSourcedId": y,
         "schoolYear": str(year + 1)},
    ]
    for d in range(districts):
        s["orgs.csv"].append({"sourcedId": f"d{d}", "name": f"Район {d + 1}", "type": "district"})
    n = 0
    for i in range(schools):
        sch = f"s{i}"
        s["orgs.csv"].append({"sourcedId": sch, "name": f"МБОУ СОШ № {i + 1}", "type": "school",
                              "identifier": f"Школа № {i + 1}",
                              "parentSourcedId": f"d{i % districts}"})
        for code, title in SUBJECTS:
            s["courses.csv"].append({"sourcedId": f"{sch}-{code}", "schoolYearSourcedId": y,
                                     "title": title, "orgSourcedId": sch, "subjectCodes": code})
        director = f"{sch}-dir"
        s["users.csv"].append({"sourcedId": director, "orgSourcedIds": sch, "role": "administrator",
                               "givenName": "Ольга", "familyName": "Директорова",
                               "middleName": "Ивановна", "email": f"dir{i}@example.ru"})
        for c in range(classes):
            grade = 1 + c % 11
            letter = LETTERS[(c // 11) % len(LETTERS)]
            code = f"{grade}{letter}"
            hr = f"{sch}-c{c}"
            s["classes.csv"].append({"sourcedId": hr, "title": code, "grades": f"{grade:02d}",
                                     "classCode": code, "classType": "homeroom",
                                     "schoolSourcedId": sch, "termSourcedIds": f"{y}-t1"})
            t = f"{hr}-t"
            s["users.csv"].append({"sourcedId": t, "orgSourcedIds": sch, "role": "teacher",
                                   "givenName": FIRST_F[c % 8], "familyName": LAST[c % 12] + "а",
                                   "middleName": MIDDLE_F[c % 4]})
            s["enrollments.csv"].append({"sourcedId": f"{t}-hr", "classSourcedId": hr,
                                         "schoolSourcedId": sch, "userSourcedId": t,
                                         "role": "teacher", "primary": "true"})
            for subj, title in SUBJECTS[:2]:
                sec = f"{hr}-{subj}"
                s["classes.csv"].append({"sourcedId": sec, "title": f"{code} {title}",
                                         "courseSourcedId": f"{sch}-{subj}", "classCode": code,
                                         "classType": "scheduled", "schoolSourcedId": sch,
                                         "termSourcedIds": f"{y}-t1", "subjectCodes": subj})
                s["enrollments.csv"].append({"sourcedId": f"{t}-{subj}", "classSourcedId": sec,
                                             "schoolSourcedId": sch, "userSourcedId": t,
                                             "role": "teacher", "primary": "false"})
            for k in range(students):
                n += 1
                st, g1, g2 = f"u{n}", f"u{n}-m", f"u{n}-f"
                male = n % 2 == 0
                last = LAST[n % 12]
                agents = [g1] + ([g2] if n % 2 == 0 else [])
                s["users.csv"].append({"sourcedId": st, "orgSourcedIds": sch, "role": "student",
                                       "givenName": (FIRST_M if male else FIRST_F)[n % 8],
                                       "familyName": last if male else last + "а",
                                       "middleName": (MIDDLE_M if male else MIDDLE_F)[n % 4],
                                       "agentSourcedIds": ",".join(agents)})
                s["demographics.csv"].append({"sourcedId": st, "birthDate":
                                              f"{year - 6 - grade}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                                              "sex": "male" if male else "female"})
                s["users.csv"].append({"sourcedId": g1, "orgSourcedIds": sch, "role": "parent",
                                       "givenName": FIRST_F[(n + 3) % 8], "familyName": last + "а",
                                       "middleName": MIDDLE_F[n % 4], "agentSourcedIds": st,
                                       "phone": f"+7928{n:07d}"})
                s["demographics.csv"].append({"sourcedId": g1, "sex": "female"})
                if n % 2 == 0:
                    s["users.csv"].append({"sourcedId": g2, "orgSourcedIds": sch, "role": "parent",
                                           "givenName": FIRST_M[(n + 1) % 8], "familyName": last,
                                           "middleName": MIDDLE_M[n % 4], "agentSourcedIds": st,
                                           "email": f"p{n}@example.ru"})
                    s["demographics.csv"].append({"sourcedId": g2, "sex": "male"})
                s["enrollments.csv"].append({"sourcedId": f"e{n}", "classSourcedId": hr,
                                             "schoolSourcedId": sch, "userSourcedId": st,
                                             "role": "student", "primary": "false",
                                             "beginDate": f"{year}-09-01"})
    return s


def write(s, d, version="1.1", modes=None, bom=False, crlf=False):
    """Writes set `s` into directory `d` with its manifest. `modes` overrides file -> mode."""
    os.makedirs(d, exist_ok=True)
    modes = dict(modes or {})
    files = dict(s)
    if version == "1.2":
        users, roles = [], []
        for u in files["users.csv"]:
            u = dict(u)
            role, orgs = u.pop("role", ""), u.pop("orgSourcedIds", "")
            u["primaryOrgSourcedId"] = orgs.split(",")[0]
            users.append(u)
            for k, org in enumerate(o for o in orgs.split(",") if o):
                roles.append({"sourcedId": f"{u['sourcedId']}-r{k}", "userSourcedId": u["sourcedId"],
                              "roleType": "primary" if k == 0 else "secondary", "role": role,
                              "orgSourcedId": org})
        files["users.csv"] = users
        files["roles.csv"] = roles
    manifest = [("manifest.version", "1.0"), ("oneroster.version", version)]
    for name in ["orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv", "users.csv",
                 "roles.csv", "enrollments.csv", "demographics.csv"]:
        mode = modes.get(name, "bulk" if name in files else "absent")
        manifest.append(("file." + name[:-4], mode))
        if name not in files or mode == "absent":
            continue
        cols = (USERS_12 if version == "1.2" else COLUMNS["users.csv"]) if name == "users.csv" \
            else ROLES_12 if name == "roles.csv" else COLUMNS[name]
        with open(os.path.join(d, name), "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
            w = csv.DictWriter(f, fieldnames=cols, lineterminator="\r\n" if crlf else "\n",
                               extrasaction="ignore")
            w.writeheader()
            for row in files[name]:
                w.writerow(row)
    with open(os.path.join(d, "manifest.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["propertyName", "value"])
        w.writerows(manifest)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--schools", type=int, default=40)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--students", type=int, default=25)
    ap.add_argument("--districts", type=int, default=5)
    ap.add_argument("--version", default="1.1")
    a = ap.parse_args()
    write(make(a.schools, a.classes, a.students, districts=a.districts), a.dir, a.version)
