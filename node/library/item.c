/*
 * What a library item is, checked in one place: the item types, an item's fields and a test's
 * questions, whether they come from a person (library.c) or from another machine (exchange.c:
 * the hub's channel, a region's contribution). Pure functions over JSON and strings; nothing
 * here reads the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "library/library.h"
#include "school/school.h"

/* library.sql's CHECK on library_items.type lists the same (tests/unit/test_library_item.c
 * compares them); the web interface reads this list from GET /api/v1/library/types. */
const char *const library_item_types[] = {"scenario", "test", "textbook", "workbook", "fiction",
                                          "lab",      "app",  "media",    NULL};

/* library.sql's CHECK on library_questions.kind lists the same. */
const char *const library_question_kinds[] = {"single", "multiple", "text", NULL};

static bool listed(const char *s, const char *const *list)
{
    for (; s != NULL && *list != NULL; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

bool library_type_ok(const char *type)
{
    return listed(type, library_item_types);
}

bool library_fields_ok(const struct library_fields *f, char *err, size_t errlen)
{
    const char *why = NULL;
    if (f->type != NULL && !library_type_ok(f->type))
        why = "type is not among the item types";
    else if (f->title != NULL && !school_text_ok(f->title, 1, 300))
        why = "title must be 1-300 characters";
    else if (f->description != NULL && !school_text_ok(f->description, 0, 5000))
        why = "description must be up to 5000 characters";
    else if (f->authors != NULL && !school_text_ok(f->authors, 0, 500))
        why = "authors must be up to 500 characters";
    else if (f->licence != NULL && !school_text_ok(f->licence, 1, 100))
        why = "licence must be 1-100 characters";
    else if (f->language != NULL && !school_text_ok(f->language, 2, 8))
        why = "language must be 2-8 characters";
    else if (f->body != NULL && strlen(f->body) > LIBRARY_BODY_MAX)
        why = "body must be up to 200000 bytes";
    else if ((f->grade_min != 0 && (f->grade_min < 1 || f->grade_min > 11)) ||
             (f->grade_max != 0 && (f->grade_max < 1 || f->grade_max > 11)))
        why = "grades must be 1-11";
    else if (f->grade_min != 0 && f->grade_max != 0 && f->grade_min > f->grade_max)
        why = "grade_min must not exceed grade_max";
    if (why != NULL)
        snprintf(err, errlen, "%s", why);
    return why == NULL;
}

/* A single or multiple question's key: one option index (single) or one or more (multiple),
 * each naming one of the 2-20 options. NULL, or why not. */
static const char *choice_key_error(const char *kind, json_t *ans, size_t nopts)
{
    if (nopts < 2 || nopts > 20)
        return "a single or multiple question has 2-20 options";
    if (!json_is_array(ans) || json_array_size(ans) == 0)
        return "the answer must list option indexes";
    if (strcmp(kind, "single") == 0 && json_array_size(ans) != 1)
        return "a single question's answer is one option index";
    for (size_t i = 0; i < json_array_size(ans); i++) {
        json_t *a = json_array_get(ans, i);
        if (!json_is_integer(a) || json_integer_value(a) < 0 ||
            (size_t)json_integer_value(a) >= nopts)
            return "an answer index names no option";
    }
    return NULL;
}

/* A text question's key: one or more accepted answers of 1-200 characters, and no options.
 * NULL, or why not. */
static const char *text_key_error(json_t *ans, size_t nopts)
{
    if (nopts != 0)
        return "a text question has no options";
    if (!json_is_array(ans) || json_array_size(ans) == 0)
        return "the answer must list the accepted texts";
    for (size_t i = 0; i < json_array_size(ans); i++)
        if (!json_is_string(json_array_get(ans, i)) ||
            !school_text_ok(json_string_value(json_array_get(ans, i)), 1, 200))
            return "an accepted text must be 1-200 characters";
    return NULL;
}

/* Everything but the key: the fields, the kind, the prompt, the points and the options.
 * NULL, or why not. */
static const char *question_fields_error(json_t *q, struct library_question *out, json_t **opts,
                                         json_t **ans)
{
    if (json_unpack(q, "{s:s,s:s,s?o,s:o,s?I}", "kind", &out->kind, "prompt", &out->prompt,
                    "options", opts, "answer", ans, "points", &out->points) != 0)
        return "kind, prompt and answer are required; points is a number";
    if (!listed(out->kind, library_question_kinds))
        return "kind must be single, multiple or text";
    if (!school_text_ok(out->prompt, 1, 2000))
        return "the prompt must be 1-2000 characters";
    if (out->points < 1 || out->points > 100)
        return "points must be 1-100";
    if (*opts != NULL && !json_is_array(*opts))
        return "options must be a list";
    for (size_t i = 0; i < json_array_size(*opts); i++)
        if (!json_is_string(json_array_get(*opts, i)) ||
            !school_text_ok(json_string_value(json_array_get(*opts, i)), 1, 500))
            return "an option must be 1-500 characters";
    return NULL;
}

int library_question_check(json_t *q, struct library_question *out, char *err, size_t errlen)
{
    *out = (struct library_question){.points = 1};
    json_t *opts = NULL, *ans = NULL;
    const char *why = question_fields_error(q, out, &opts, &ans);
    if (why == NULL) {
        size_t nopts = json_array_size(opts);
        why = strcmp(out->kind, "text") == 0 ? text_key_error(ans, nopts)
                                             : choice_key_error(out->kind, ans, nopts);
    }
    if (why != NULL) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    out->options = opts ? json_dumps(opts, JSON_COMPACT) : strdup("[]");
    out->answer = json_dumps(ans, JSON_COMPACT);
    if (out->options == NULL || out->answer == NULL) {
        library_question_free(out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void library_question_free(struct library_question *q)
{
    free(q->options);
    free(q->answer);
    q->options = q->answer = NULL;
}
