/*
 * What a library item is, checked in one place: the item types, an item's fields and a test's
 * questions, whether they come from a person (library.c) or from another machine (exchange.c:
 * the hub's channel, a region's contribution). Pure functions over JSON and strings; nothing
 * here reads the database.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "library/library.h"
#include "school/school.h"

/* library.sql's CHECK on library_items.type lists the same (tests/unit/test_library_item.c
 * compares them); the web interface reads this list from GET /api/v1/library/types. */
const char *const library_item_types[] = {"scenario", "test", "textbook", "workbook", "fiction",
                                          "lab",      "app",  "media",    NULL};

/* matching.sql's CHECK on library_questions.kind lists the same. */
const char *const library_question_kinds[] = {"single", "multiple", "text", "matching", NULL};

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

bool library_fields_check(const struct library_fields *f, char *err, size_t errlen,
                          const char **field)
{
    const char *why = NULL, *at = NULL;
    if (f->type != NULL && !library_type_ok(f->type))
        why = "type is not among the item types", at = "type";
    else if (f->title != NULL && !school_text_ok(f->title, 1, 300))
        why = "title must be 1-300 characters", at = "title";
    else if (f->description != NULL && !school_text_ok(f->description, 0, 5000))
        why = "description must be up to 5000 characters", at = "description";
    else if (f->authors != NULL && !school_text_ok(f->authors, 0, 500))
        why = "authors must be up to 500 characters", at = "authors";
    else if (f->licence != NULL && !school_text_ok(f->licence, 1, 100))
        why = "licence must be 1-100 characters", at = "licence";
    else if (f->language != NULL && !school_text_ok(f->language, 2, 8))
        why = "language must be 2-8 characters", at = "language";
    else if (f->body != NULL && strlen(f->body) > LIBRARY_BODY_MAX)
        why = "body must be up to 200000 bytes", at = "body";
    else if (f->grade_min != 0 && (f->grade_min < 1 || f->grade_min > 11))
        why = "grades must be 1-11", at = "grade_min";
    else if (f->grade_max != 0 && (f->grade_max < 1 || f->grade_max > 11))
        why = "grades must be 1-11", at = "grade_max";
    else if (f->grade_min != 0 && f->grade_max != 0 && f->grade_min > f->grade_max)
        why = "grade_min must not exceed grade_max", at = "grade_min";
    if (why != NULL)
        snprintf(err, errlen, "%s", why);
    if (field != NULL)
        *field = at;
    return why == NULL;
}

bool library_fields_ok(const struct library_fields *f, char *err, size_t errlen)
{
    return library_fields_check(f, err, errlen, NULL);
}

/* Why a question is refused: the error code the API answers, the question's field it names
 * and the reason in English (for logs and other machines). */
struct why {
    const char *code, *field, *text;
};
/* Every reason, one object each (the checks return their addresses). */
static const struct why why_options_options = {"question_options", "options",
                                               "a single or multiple question has 2-20 options"};
static const struct why why_no_answer_answer = {"question_no_answer", "answer",
                                                "the answer must list option indexes"};
static const struct why why_single_answer_answer = {
    "question_single_answer", "answer", "a single question's answer is one option index"};
static const struct why why_answer_index_answer = {"question_answer_index", "answer",
                                                   "an answer index names no option"};
static const struct why why_answer_repeated = {"question_answer_index", "answer",
                                               "an answer index is repeated"};
static const struct why why_text_options_options = {"question_text_options", "options",
                                                    "a text question has no options"};
static const struct why why_no_text_answer = {"question_no_answer", "answer",
                                              "the answer must list the accepted texts"};
static const struct why why_answer_text_answer = {"question_answer_text", "answer",
                                                  "an accepted text must be 1-200 characters"};
static const struct why why_pairs_options = {"question_pairs", "options",
                                             "a matching question has 2-20 pairs"};
static const struct why why_pairs_mismatched_answer = {
    "question_pairs_mismatched", "answer",
    "a matching question's answer gives one right-hand item per option"};
static const struct why why_pair_text_answer = {"question_pair_text", "answer",
                                                "a right-hand item must be 1-500 characters"};
static const struct why why_pairs_duplicate_options = {"question_pairs_duplicate", "options",
                                                       "a left-hand item is repeated"};
static const struct why why_pairs_duplicate_answer = {"question_pairs_duplicate", "answer",
                                                      "a right-hand item is repeated"};
static const struct why why_fields_kind = {
    "question_fields", "kind", "kind, prompt and answer are required; points is a number"};
static const struct why why_kind_kind = {"question_kind", "kind",
                                         "kind must be single, multiple, text or matching"};
static const struct why why_prompt_prompt = {"question_prompt", "prompt",
                                             "the prompt must be 1-2000 characters"};
static const struct why why_points_points = {"question_points", "points", "points must be 1-100"};
static const struct why why_options_list = {"question_options", "options",
                                            "options must be a list"};
static const struct why why_option_text_options = {"question_option_text", "options",
                                                   "an option must be 1-500 characters"};

/* A single or multiple question's key: one option index (single) or one or more (multiple),
 * each naming one of the 2-20 options. NULL, or why not. */
static const struct why *choice_key_error(const char *kind, json_t *ans, size_t nopts)
{
    if (nopts < 2 || nopts > 20)
        return &why_options_options;
    if (!json_is_array(ans) || json_array_size(ans) == 0)
        return &why_no_answer_answer;
    if (strcmp(kind, "single") == 0 && json_array_size(ans) != 1)
        return &why_single_answer_answer;
    for (size_t i = 0; i < json_array_size(ans); i++) {
        json_t *a = json_array_get(ans, i);
        if (!json_is_integer(a) || json_integer_value(a) < 0 ||
            (size_t)json_integer_value(a) >= nopts)
            return &why_answer_index_answer;
        for (size_t j = 0; j < i; j++)
            if (json_integer_value(json_array_get(ans, j)) == json_integer_value(a))
                return &why_answer_repeated;
    }
    return NULL;
}

/* A text question's key: one or more accepted answers of 1-200 characters, and no options.
 * NULL, or why not. */
static const struct why *text_key_error(json_t *ans, size_t nopts)
{
    if (nopts != 0)
        return &why_text_options_options;
    if (!json_is_array(ans) || json_array_size(ans) == 0)
        return &why_no_text_answer;
    for (size_t i = 0; i < json_array_size(ans); i++)
        if (!json_is_string(json_array_get(ans, i)) ||
            !school_text_ok(json_string_value(json_array_get(ans, i)), 1, 200))
            return &why_answer_text_answer;
    return NULL;
}

/* Whether list `a` of strings holds a string twice. */
static bool repeats(json_t *a)
{
    for (size_t i = 0; i < json_array_size(a); i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(a, i)),
                       json_string_value(json_array_get(a, j))) == 0)
                return true;
    return false;
}

/* A matching question: the options are the left-hand items and the key the right-hand item of
 * each, in the same order: 2-20 pairs, each side 1-500 characters and no item twice on one
 * side (the student picks right-hand items by their text). NULL, or why not. */
static const struct why *matching_key_error(json_t *opts, json_t *ans)
{
    size_t n = json_array_size(opts);
    if (n < 2 || n > 20)
        return &why_pairs_options;
    if (!json_is_array(ans) || json_array_size(ans) != n)
        return &why_pairs_mismatched_answer;
    for (size_t i = 0; i < n; i++)
        if (!json_is_string(json_array_get(ans, i)) ||
            !school_text_ok(json_string_value(json_array_get(ans, i)), 1, 500))
            return &why_pair_text_answer;
    if (repeats(opts))
        return &why_pairs_duplicate_options;
    if (repeats(ans))
        return &why_pairs_duplicate_answer;
    return NULL;
}

/* Everything but the key: the fields, the kind, the prompt, the points and the options.
 * NULL, or why not. */
static const struct why *question_fields_error(json_t *q, struct library_question *out,
                                               json_t **opts, json_t **ans)
{
    if (!json_is_object(q) ||
        json_unpack(q, "{s:s,s:s,s?o,s:o,s?I}", "kind", &out->kind, "prompt", &out->prompt,
                    "options", opts, "answer", ans, "points", &out->points) != 0)
        return &why_fields_kind;
    if (!listed(out->kind, library_question_kinds))
        return &why_kind_kind;
    if (!school_text_ok(out->prompt, 1, 2000))
        return &why_prompt_prompt;
    if (out->points < 1 || out->points > 100)
        return &why_points_points;
    if (*opts != NULL && !json_is_array(*opts))
        return &why_options_list;
    for (size_t i = 0; i < json_array_size(*opts); i++)
        if (!json_is_string(json_array_get(*opts, i)) ||
            !school_text_ok(json_string_value(json_array_get(*opts, i)), 1, 500))
            return &why_option_text_options;
    return NULL;
}

int library_question_check_field(json_t *q, struct library_question *out, char *err, size_t errlen,
                                 const char **code, const char **field)
{
    *out = (struct library_question){.points = 1};
    json_t *opts = NULL, *ans = NULL;
    const struct why *why = question_fields_error(q, out, &opts, &ans);
    if (why == NULL) {
        size_t nopts = json_array_size(opts);
        why = strcmp(out->kind, "text") == 0       ? text_key_error(ans, nopts)
              : strcmp(out->kind, "matching") == 0 ? matching_key_error(opts, ans)
                                                   : choice_key_error(out->kind, ans, nopts);
    }
    if (why != NULL) {
        snprintf(err, errlen, "%s", why->text);
        if (code != NULL)
            *code = why->code;
        if (field != NULL)
            *field = why->field;
        return -1;
    }
    out->options = opts ? json_dumps(opts, JSON_COMPACT) : strdup("[]");
    out->answer = json_dumps(ans, JSON_COMPACT);
    if (out->options == NULL || out->answer == NULL) {
        library_question_free(out);
        snprintf(err, errlen, "out of memory");
        if (code != NULL)
            *code = "unavailable";
        if (field != NULL)
            *field = NULL;
        return -1;
    }
    return 0;
}

int library_question_check(json_t *q, struct library_question *out, char *err, size_t errlen)
{
    return library_question_check_field(q, out, err, errlen, NULL, NULL);
}

json_t *library_matching_shuffle(const char *key)
{
    json_t *right = json_loads(key, 0, NULL);
    if (!json_is_array(right)) {
        json_decref(right);
        return json_array();
    }
    /* Fisher-Yates with libsodium's uniform numbers: the order says nothing of the pairs. */
    for (size_t i = json_array_size(right); i > 1; i--) {
        size_t j = randombytes_uniform((uint32_t)i);
        json_t *a = json_incref(json_array_get(right, i - 1));
        json_array_set(right, i - 1, json_array_get(right, j));
        json_array_set_new(right, j, a);
    }
    return right;
}

void library_question_free(struct library_question *q)
{
    free(q->options);
    free(q->answer);
    q->options = q->answer = NULL;
}
