#!/usr/bin/python3
"""Writes the seed corpus of the request-path fuzzer (tests/fuzz/fuzz_request.c) into
tests/fuzz/corpus/request/: one valid request (or a short sequence) to each route, as the
caller who may make it, against the demo region's numbers (node/demo/demo.c), plus a few
framings and callers the policy refuses. The input format is described in fuzz_request.c.

Run from the repository's root after changing routes or the demo:
    /usr/bin/python3 tests/fuzz/request_seeds.py
"""
import json
import os
import shutil

OUT = "tests/fuzz/corpus/request"
SEP = b"\n@@@@\n"

# Byte 0 of a request: the credential (fuzz_request.c's table).
NONE, ADMIN, SCHOOLADMIN, TEACHER, CLASSTEACHER, STUDENT, PARENT, MEDIC, METHODOLOGIST = range(9)
PASSAGE, MEALS, HEALTH, DEVICE_ALL, REVOKED, EXPIRED, REGION = range(9, 16)
COOKIE, NO_CSRF, WRONG_CSRF, HUB = 16, 32, 64, 128
# Byte 1: the framing.
LENGTH, CHUNKED, SHORT, RAW = 0, 1, 2, 3
JSON_TYPE, HTTP10 = 4, 8

# The demo region's numbers: schools 1-3; classes 2 (5А), 3 (5Б), 4 (9А) of school 1; persons
# 3 (teacher), 4 (class teacher of 5А), 6 (parent), 8 (student Артём, 5А), 9 (his sister, 9А);
# subject 4 (math); period 1; library items 1-21 approved, 22 a draft and 23 submitted (both
# by the teacher), item 2 a test with questions. The target replaces $L, $M and $H by a lesson
# of mathematics in 5А by the teacher, a mark of the student on it and its homework.
LESSON, HOMEWORK, MARK, STUDENT_ID, SISTER, CLASS = "$L", "$H", "$M", 8, 9, 2


def request(who, method, target, body=None, headers=(), framing=None):
    if framing is None:
        framing = JSON_TYPE if body is not None else LENGTH
    if isinstance(body, (dict, list)):
        body = json.dumps(body, ensure_ascii=False)
    data = bytes([who, framing]) + f"{method} {target}\n".encode()
    for h in headers:
        data += h.encode() + b"\n"
    data += b"\n"
    if body is not None:
        data += body.encode() if isinstance(body, str) else body
    return data


SEEDS = {
    # Public and the web shell.
    "healthz": request(NONE, "GET", "/healthz"),
    "metrics": request(NONE, "GET", "/metrics"),
    "index": request(NONE, "GET", "/"),
    "page_diary": request(NONE, "GET", f"/diary/{STUDENT_ID}"),
    "static": request(NONE, "GET", "/static/app.js", headers=["If-None-Match: \"x\""]),
    "i18n": request(NONE, "GET", "/i18n/ru.json"),
    "ui": request(NONE, "HEAD", "/api/v1/ui"),
    "not_found": request(NONE, "GET", "/api/v1/nothing"),
    "method": request(ADMIN, "DELETE", "/api/v1/me"),
    # Accounts.
    "login": request(NONE, "POST", "/api/v1/auth/login", {"login": "teacher", "password": "demo"}),
    "login_wrong": request(NONE, "POST", "/api/v1/auth/login",
                           {"login": "nobody", "password": "x"}),
    "logout": request(PARENT | COOKIE, "POST", "/api/v1/auth/logout", {}),
    "me_cookie": request(STUDENT | COOKIE, "GET", "/api/v1/me"),
    "me_expired": request(EXPIRED, "GET", "/api/v1/me"),
    "me_unknown": request(NONE, "GET", "/api/v1/me", headers=["Authorization: Bearer nobody"]),
    "device_create": request(SCHOOLADMIN, "POST", "/api/v1/devices",
                             {"name": "Турникет", "scopes": ["passage"], "institution_id": 1}),
    "device_create_csrf": request(ADMIN | COOKIE | WRONG_CSRF, "POST", "/api/v1/devices",
                                  {"name": "x", "scopes": ["meals"]}),
    "device_revoke": request(ADMIN, "DELETE", "/api/v1/devices/1"),
    "device_me": request(PASSAGE, "GET", "/api/v1/device/me"),
    "device_me_revoked": request(REVOKED, "GET", "/api/v1/device/me"),
    "device_on_user_route": request(DEVICE_ALL, "GET", "/api/v1/me"),
    "audit": request(ADMIN, "GET", "/api/v1/audit?limit=5&before=100"),
    # School structure.
    "municipalities": request(TEACHER, "GET", "/api/v1/municipalities"),
    "municipality_create": request(ADMIN, "POST", "/api/v1/municipalities",
                                   {"name": "Южный район", "okato": "82401"}),
    "institutions": request(PARENT, "GET", "/api/v1/institutions"),
    "institution_create": request(ADMIN, "POST", "/api/v1/institutions",
                                  {"municipality_id": 1, "kind": "school", "name": "Школа № 4",
                                   "short_name": "Ш4", "address": "ул. Новая, 1"}),
    "institution_get": request(SCHOOLADMIN, "GET", "/api/v1/institutions/1"),
    "institution_update": request(SCHOOLADMIN, "PATCH", "/api/v1/institutions/1",
                                  {"address": "ул. Ленина, 14"}),
    "classes": request(TEACHER, "GET", "/api/v1/institutions/1/classes"),
    "class_create": request(SCHOOLADMIN, "POST", "/api/v1/institutions/1/classes",
                            {"year_id": 1, "grade": 8, "letter": "В"}),
    "staff_add": request(SCHOOLADMIN, "POST", "/api/v1/institutions/1/staff",
                         {"person_id": 7, "position": "методист"}),
    "years": request(STUDENT, "GET", "/api/v1/academic-years"),
    "year_create": request(ADMIN, "POST", "/api/v1/academic-years", {"first_year": 2030}),
    "subjects": request(MEDIC, "GET", "/api/v1/subjects"),
    "subject_create": request(ADMIN, "POST", "/api/v1/subjects",
                              {"code": "astro", "name": "Астрономия"}),
    "class_get": request(CLASSTEACHER, "GET", f"/api/v1/classes/{CLASS}"),
    "class_update": request(SCHOOLADMIN, "PATCH", f"/api/v1/classes/{CLASS}",
                            {"letter": "Я", "class_teacher_id": None}),
    "class_students": request(TEACHER, "GET", f"/api/v1/classes/{CLASS}/students"),
    "group_create": request(SCHOOLADMIN, "POST", f"/api/v1/classes/{CLASS}/groups",
                            {"name": "Английский, группа 1", "student_ids": [STUDENT_ID]}),
    "person_create": request(SCHOOLADMIN, "POST", "/api/v1/persons",
                             {"last_name": "Новенькая", "first_name": "Ольга",
                              "birth_date": "2015-03-01",
                              "account": {"login": "olga", "password": "12345678",
                                          "roles": [{"role": "student"}]}}),
    "person_get": request(PARENT, "GET", f"/api/v1/persons/{STUDENT_ID}"),
    "assignment_create": request(SCHOOLADMIN, "POST", "/api/v1/assignments",
                                 {"teacher_id": 3, "class_id": 4, "subject_id": 4}),
    "assignment_delete": request(SCHOOLADMIN, "DELETE", "/api/v1/assignments/1"),
    "enrollment_create": request(SCHOOLADMIN, "POST", "/api/v1/enrollments",
                                 {"student_id": SISTER, "class_id": 3,
                                  "enrolled_on": "2026-09-02"}),
    "guardian_create": request(SCHOOLADMIN, "POST", "/api/v1/guardians",
                               {"guardian_id": 4, "student_id": STUDENT_ID, "relation": "father"}),
    "student_get": request(PARENT, "GET", f"/api/v1/students/{STUDENT_ID}"),
    "student_teachers": request(STUDENT, "GET", f"/api/v1/students/{STUDENT_ID}/teachers"),
    # A school's administration (staff.c, members.c).
    "staff_list": request(SCHOOLADMIN, "GET", "/api/v1/institutions/1/staff"),
    "staff_roles_set": request(SCHOOLADMIN, "PUT", "/api/v1/institutions/1/staff/3/roles",
                               {"roles": ["teacher", "class_teacher"]}),
    "staff_leave": request(SCHOOLADMIN, "POST", "/api/v1/institutions/1/staff/3/leave",
                           {"left_on": "2026-12-01"}),
    "institution_person_search": request(SCHOOLADMIN, "GET",
                                         "/api/v1/institutions/1/persons?q=%D0%98%D0%B2"),
    "group_list": request(TEACHER, "GET", f"/api/v1/classes/{CLASS}/groups"),
    "group_member_add": request(SCHOOLADMIN, "POST", "/api/v1/groups/1/members",
                                {"student_id": STUDENT_ID}),
    "group_member_remove": request(SCHOOLADMIN, "DELETE", f"/api/v1/groups/1/members/{STUDENT_ID}"),
    "enrollment_list": request(CLASSTEACHER, "GET", f"/api/v1/classes/{CLASS}/enrollments"),
    "enrollment_leave": request(SCHOOLADMIN, "POST", "/api/v1/enrollments/1/leave",
                                {"left_on": "2026-12-01"}),
    "assignment_list": request(SCHOOLADMIN, "GET", f"/api/v1/institutions/1/assignments?class_id={CLASS}"),
    "lessons_of_day": request(TEACHER, "GET", f"/api/v1/classes/{CLASS}/lessons?date=2026-10-05"),
    # Timetable and journal.
    "bells_get": request(TEACHER, "GET", "/api/v1/institutions/1/bells"),
    "bells_set": request(SCHOOLADMIN, "PUT", "/api/v1/institutions/1/bells",
                         {"bells": [{"number": 1, "starts_at": "08:30",
                                     "ends_at": "09:15"}]}),
    "timetable_get": request(TEACHER, "GET", f"/api/v1/classes/{CLASS}/timetable"),
    "timetable_set": request(SCHOOLADMIN, "PUT", f"/api/v1/classes/{CLASS}/timetable",
                             {"entries": [{"weekday": 1, "number": 1, "subject_id": 4,
                                           "teacher_id": 3}]}),
    "lessons_generate": request(SCHOOLADMIN, "POST", f"/api/v1/classes/{CLASS}/lessons",
                                {"period_id": 1}),
    "lesson_update": request(TEACHER, "PATCH", f"/api/v1/lessons/{LESSON}", {"topic": "Дроби"}),
    "absence_notice": request(PARENT, "POST", f"/api/v1/students/{STUDENT_ID}/absence-notices",
                              {"from": "2026-10-01", "to": "2026-10-02", "reason": "болел"}),
    "medical_note": request(MEDIC, "POST", f"/api/v1/students/{STUDENT_ID}/medical-notes",
                            {"from": "2026-10-01", "to": "2026-10-03", "reason": "ОРВИ"}),
    "notices_student": request(PARENT, "GET", f"/api/v1/students/{STUDENT_ID}/absence-notices"),
    "notices_class": request(CLASSTEACHER, "GET", f"/api/v1/classes/{CLASS}/absence-notices"),
    "period_mark": request(TEACHER, "PUT", "/api/v1/period-marks",
                           {"student_id": STUDENT_ID, "subject_id": 4, "period_id": 1,
                            "value": "5"}),
    "control_forms": request(TEACHER, "GET", "/api/v1/control-forms"),
    "mark_create": request(TEACHER, "POST", f"/api/v1/lessons/{LESSON}/marks",
                           {"student_id": STUDENT_ID, "value": "5", "control_form": "oral",
                            "weight": 1, "comment": "молодец"}),
    "mark_update": request(TEACHER, "PATCH", f"/api/v1/marks/{MARK}",
                           {"value": "4", "control_form": "test"}),
    "mark_delete": request(TEACHER, "DELETE", f"/api/v1/marks/{MARK}"),
    "mark_history": request(SCHOOLADMIN, "GET", f"/api/v1/marks/{MARK}/history"),
    "attendance": request(TEACHER, "PUT", f"/api/v1/lessons/{LESSON}/attendance",
                          {"student_id": STUDENT_ID, "status": "absent", "justified": True}),
    "homework_create": request(TEACHER, "POST", f"/api/v1/lessons/{LESSON}/homework",
                               {"text": "№ 15, 16", "due_date": "2026-09-09"}),
    "marks_plan": request(STUDENT, "GET", f"/api/v1/students/{STUDENT_ID}/plan?subject=4"
                          "&period=1&target=4.5&form=test"),
    "journal": request(TEACHER, "GET", f"/api/v1/journal?class={CLASS}&subject=4&period=1"),
    "diary": request(PARENT, "GET", f"/api/v1/students/{STUDENT_ID}/diary?from=2026-09-01"
                     "&to=2026-09-07"),
    "student_homework": request(STUDENT, "GET", f"/api/v1/students/{STUDENT_ID}/homework"),
    "student_marks": request(PARENT, "GET", f"/api/v1/students/{SISTER}/marks?period=1"),
    "plan_get": request(TEACHER, "GET", f"/api/v1/plans?class={CLASS}&subject=4"),
    "plan_set": request(TEACHER, "PUT", f"/api/v1/plans?class={CLASS}&subject=4",
                        {"csv": "number;topic;hours\n1;Натуральные числа;2\n2;Дроби;3\n"}),
    "plan_topics": request(TEACHER, "PUT", f"/api/v1/plans?class={CLASS}&subject=4",
                           {"topics": [{"title": "Дроби", "hours": 2}]}),
    # Notifications and messages.
    "notifications": request(PARENT, "GET", "/api/v1/notifications?limit=5&unread=1"),
    "notifications_read": request(PARENT, "POST", "/api/v1/notifications/read", {"all": True}),
    "threads": request(TEACHER, "GET", "/api/v1/threads"),
    "thread_flow": request(PARENT, "POST", "/api/v1/threads",
                           {"student_id": STUDENT_ID, "with_id": 3, "title": "Домашнее задание",
                            "text": "Здравствуйте!"}) + SEP
    + request(TEACHER, "POST", "/api/v1/threads/1/messages", {"text": "Добрый день"}) + SEP
    + request(PARENT, "POST", "/api/v1/threads/1/read", {}) + SEP
    + request(PARENT, "GET", "/api/v1/threads/1"),
    # Certificates.
    "certificate_flow": request(PARENT, "POST", f"/api/v1/students/{STUDENT_ID}/certificates",
                                {"purpose": "по месту требования"}) + SEP
    + request(NONE, "GET", "/api/v1/certificates/1") + SEP
    + request(NONE, "GET", "/api/v1/certificates/1/qr"),
    "certificate_key": request(NONE, "GET", "/api/v1/certificates/key"),
    "certificate_sig": request(NONE, "GET", "/api/v1/certificates/1?s=AAAA"),
    # Homework: files, submissions.
    "homework_file": request(TEACHER, "POST", f"/api/v1/homework/{HOMEWORK}/files?name=a.txt",
                             "условие задачи", headers=["Content-Type: text/plain"],
                             framing=LENGTH)
    + SEP + request(STUDENT, "GET", "/api/v1/homework-files/1")
    + SEP + request(TEACHER, "DELETE", "/api/v1/homework-files/1"),
    "submission_flow": request(STUDENT, "PUT", f"/api/v1/homework/{HOMEWORK}/submission",
                               {"done": True, "text": "решил"}) + SEP
    + request(STUDENT, "POST", f"/api/v1/homework/{HOMEWORK}/submission/files?name=b.png",
              b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", headers=["Content-Type: image/png"],
              framing=LENGTH) + SEP
    + request(TEACHER, "GET", f"/api/v1/homework/{HOMEWORK}/submissions") + SEP
    + request(TEACHER, "PUT", f"/api/v1/homework/{HOMEWORK}/submissions/{STUDENT_ID}",
              {"feedback": "хорошо"}),
    # Library.
    "library_search": request(STUDENT, "GET", "/api/v1/library/items?q=дроби&type=test&grade=5"
                              "&subject=4&limit=5&offset=0"),
    "library_create": request(TEACHER, "POST", "/api/v1/library/items",
                              {"type": "scenario", "title": "Уравнения", "grade_min": 7,
                               "grade_max": 8, "subject_id": 5, "body": "Ход урока"}),
    "library_get": request(PARENT, "GET", "/api/v1/library/items/2"),
    "library_patch": request(TEACHER, "PATCH", "/api/v1/library/items/22",
                             {"title": "Черновик", "grade_min": 5, "grade_max": 6}),
    "library_submit": request(TEACHER, "POST", "/api/v1/library/items/22/submit", {}),
    "library_revise": request(TEACHER, "POST", "/api/v1/library/items/1/revisions", {}),
    "library_review": request(METHODOLOGIST, "POST", "/api/v1/library/items/23/review",
                              {"verdict": "approve", "comment": "хорошо"}),
    "library_questions": request(TEACHER, "POST", "/api/v1/library/items",
                                 {"type": "test", "title": "Дроби: проверка", "grade_min": 5,
                                  "grade_max": 5}) + SEP
    + request(TEACHER, "PUT", "/api/v1/library/items/24/questions",
              {"questions": [{"kind": "single", "prompt": "2+2?", "options": ["3", "4"],
                              "answer": [1]},
                             {"kind": "multiple", "prompt": "Чётные?", "options": ["2", "3", "4"],
                              "answer": [0, 2], "points": 2},
                             {"kind": "text", "prompt": "Половина от 10?", "answer": ["5"]}]}) + SEP
    + request(TEACHER, "POST", "/api/v1/library/items/24/attempts",
              {"answers": [{"question_id": 4, "answer": [1]}]}),
    "library_attempt": request(STUDENT, "POST", "/api/v1/library/items/2/attempts",
                               {"answers": [{"question_id": 1, "answer": [1]},
                                            {"question_id": 2, "answer": [0, 2]},
                                            {"question_id": 3, "answer": "пять"}]}),
    "library_file": request(TEACHER, "POST", "/api/v1/library/items/22/files?name=c.pdf",
                            "%PDF-1.4\n", headers=["Content-Type: application/pdf"],
                            framing=LENGTH)
    + SEP + request(TEACHER, "GET", "/api/v1/library/files/1"),
    "library_favourite": request(STUDENT, "PUT", "/api/v1/library/items/3/favourite", {})
    + SEP + request(STUDENT, "GET", "/api/v1/library/favourites")
    + SEP + request(STUDENT, "DELETE", "/api/v1/library/items/3/favourite"),
    "library_package": request(TEACHER, "GET", "/api/v1/library/package?items=1,2,3"),
    "library_authors": request(METHODOLOGIST, "GET", "/api/v1/library/authors"),
    "lesson_items": request(TEACHER, "POST", f"/api/v1/lessons/{LESSON}/items", {"item_id": 1})
    + SEP + request(TEACHER, "DELETE", f"/api/v1/lessons/{LESSON}/items/1"),
    "homework_items": request(TEACHER, "POST", f"/api/v1/homework/{HOMEWORK}/items",
                              {"item_id": 2}),
    "contribute": request(TEACHER, "POST", "/api/v1/library/items/1/contribute", {}),
    "contributions": request(TEACHER, "GET", "/api/v1/library/items/1/contributions"),
    # Federation and the Ministry: the node answers as the hub with HUB, and REGION signs the
    # request as the enrolled region 77.
    "federation_key": request(NONE, "GET", "/federation/v1/key"),
    "federation_status": request(ADMIN | HUB, "GET", "/api/v1/federation/status"),
    "federation_manifest": request(REGION | HUB, "GET",
                                   "/federation/v1/channel/library/manifest?version=1"),
    "federation_manifest_sig": request(REGION | HUB, "GET",
                                       "/federation/v1/channel/library/manifest.minisig"),
    "federation_blob": request(REGION | HUB, "GET", "/federation/v1/blobs/" + "0" * 64),
    "federation_unsigned": request(NONE | HUB, "GET", "/federation/v1/blobs/" + "0" * 64),
    "federation_report": request(REGION | HUB, "POST", "/federation/v1/reports",
                                 {"report": json.dumps({"format": "mes-report-1", "region": "77",
                                                        "sequence": 1,
                                                        "period": {"month": "2026-11"}}),
                                  "signature": "untrusted comment: x\nRWQ=\n"},
                                 headers=["Content-Type: application/json"], framing=LENGTH),
    "federation_contribution": request(REGION | HUB, "POST", "/federation/v1/contributions",
                                       b"\x28\xb5\x2f\xfdMESBNDL1",
                                       headers=["Content-Type: application/octet-stream"],
                                       framing=LENGTH),
    "federation_contributions": request(REGION | HUB, "GET", "/federation/v1/contributions"),
    "key_rotations": request(NONE | HUB, "GET", "/federation/v1/key-rotations"),
    "ministry_regions": request(ADMIN | HUB, "GET", "/api/v1/ministry/regions"),
    "ministry_summary": request(ADMIN | HUB, "GET", "/api/v1/ministry/summary?format=csv"),
    "ministry_subjects": request(ADMIN | HUB, "GET", "/api/v1/ministry/subjects?subject=4"),
    "ministry_volumes": request(ADMIN | HUB, "GET", "/api/v1/ministry/volumes?format=csv"),
    "ministry_volume_days": request(ADMIN | HUB, "GET", "/api/v1/ministry/volumes/days?period=2026-11"),
    "ministry_chart": request(ADMIN | HUB, "GET", "/api/v1/ministry/charts/coverage.svg"),
    "ministry_region_node": request(ADMIN, "GET", "/api/v1/ministry/regions"),
    # Framings and refusals.
    "chunked": request(ADMIN, "POST", "/api/v1/municipalities", {"name": "Район"},
                       framing=CHUNKED | JSON_TYPE | 0x20),
    "short_body": request(ADMIN, "POST", "/api/v1/municipalities", {"name": "Район"},
                          framing=SHORT | JSON_TYPE),
    "chunked_upload": request(TEACHER, "POST", "/api/v1/library/items/22/files?name=d.txt",
                              "текст", headers=["Content-Type: text/plain"],
                              framing=CHUNKED | 0x30),
    "own_length": request(ADMIN, "POST", "/api/v1/municipalities", '{"name":"Р"}',
                          headers=["Content-Length: 5"], framing=RAW | JSON_TYPE),
    "http10": request(TEACHER, "GET", "/api/v1/me", framing=HTTP10),
    "not_object": request(ADMIN, "POST", "/api/v1/municipalities", [1, 2]),
    "bad_json": request(ADMIN, "POST", "/api/v1/municipalities", '{"name": '),
    "forbidden": request(STUDENT, "POST", "/api/v1/municipalities", {"name": "x"}),
    "anonymous_write": request(NONE, "POST", "/api/v1/municipalities", {"name": "x"}),
    "cookie_no_csrf": request(ADMIN | COOKIE | NO_CSRF, "POST", "/api/v1/municipalities",
                              {"name": "x"}),
    "percent_path": request(PARENT, "GET", f"/api/v1/students/{STUDENT_ID}%2Fdiary"),
}


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {OUT}")


if __name__ == "__main__":
    main()
