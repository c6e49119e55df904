/*
 * The roster model's insides, shared by the readers (oneroster.c, template.c) and the apply
 * (apply.c): entities, hash tables, the arena. Not for other subsystems.
 */
#ifndef MES_ROSTER_MODEL_H
#define MES_ROSTER_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "roster/roster.h"

/* ---- hash tables ----------------------------------------------------------------------------
 * smap: NUL-terminated string keys (the caller keeps them alive) to pointers.
 * imap: pairs of integers to an integer. Both open addressing, grown at half full. */
struct smap {
    const char **keys;
    void **vals;
    size_t cap, n;
};
void *smap_get(const struct smap *m, const char *key);
/* Puts key -> val, replacing. 0 or -1 (out of memory). */
int smap_put(struct smap *m, const char *key, void *val);
void smap_free(struct smap *m);

struct imap {
    uint64_t *ka, *kb;
    int64_t *vals;
    uint8_t *used;
    size_t cap, n;
};
/* The value of (a, b), or `def` when absent. */
int64_t imap_get(const struct imap *m, uint64_t a, uint64_t b, int64_t def);
bool imap_has(const struct imap *m, uint64_t a, uint64_t b);
int imap_put(struct imap *m, uint64_t a, uint64_t b, int64_t val);
/* Removes (a, b) if there (tombstone-free: the later entries of its run are moved back). */
void imap_del(struct imap *m, uint64_t a, uint64_t b);
void imap_free(struct imap *m);

/* ---- entities ------------------------------------------------------------------------------ */

/* Kinds, also the first byte of the keys in roster_ids (kind, source_id). */
enum ent_kind {
    E_DISTRICT = 'd', /* a municipality */
    E_SCHOOL = 's',   /* an institution */
    E_OTHER_ORG = 'o',
    E_YEAR = 'y', /* an academic year */
    E_TERM = 't', /* a term, semester, grading period: locates its year */
    E_COURSE = 'c',
    E_CLASS = 'h',   /* a homeroom: a class */
    E_SECTION = 'x', /* a scheduled class: one subject of one homeroom */
    E_USER = 'u',
};

/* What an earlier import recorded for a source id (roster_ids). */
struct ids_row {
    int64_t local, extra;
    int64_t digest;
    bool left;
};

struct ent {
    char kind;
    bool bad;   /* refused: skipped with skip_invalid, rows depending on it too */
    bool tbd;   /* status tobedeleted */
    bool ghost; /* not in these files: known from an earlier import (ids) only */
    const char *sid;
    const char *file;
    long line;
    struct ids_row *ids; /* the earlier import's record, or NULL: new */
    int64_t local;       /* the database id, once known */
    int64_t extra;       /* class: its institution; section: its subject */
    /* orgs, sessions, courses, classes */
    const char *name, *ident, *start, *end, *code, *raw_parent, *raw_school, *raw_term, *raw_course,
        *raw_subject, *raw_grades, *type;
    struct ent *parent; /* school: district; term: year; section: homeroom; class: year */
    struct ent *school; /* class, section, course */
    int grade;
    const char *letter;
    int64_t subject_id;
    int64_t preset_local; /* the template: a school or year found by name */
};

struct user {
    struct ent e; /* kind E_USER */
    const char *given, *family, *middle, *email, *phone, *birth, *sex, *raw_orgs, *raw_agents,
        *raw_role;
    uint32_t role;     /* one of ROLE_STUDENT, ROLE_PARENT, ROLE_TEACHER, ROLE_SCHOOL_ADMIN */
    struct ent **orgs; /* the schools */
    int norgs;
    struct user **agents;
    int nagents;
    struct ent *homeroom; /* the class a valid current enrolment puts a student in */
    const char *enrolled_on;
    bool enrol_bad;       /* a row about the student's class was refused: leave it alone */
    bool enrol_seen;      /* a row placed (or removed) the student in these files */
    const char *position; /* the template's «Должность» */
};

struct enrol {
    const char *sid, *file;
    long line;
    bool bad, tbd;
    const char *raw_class, *raw_school, *raw_user, *raw_role, *raw_primary, *begin, *end;
    struct ent *cls;
    struct ent *school;
    struct user *user;
    uint32_t role;
    bool primary;
};

enum file_mode { FM_ABSENT, FM_BULK, FM_DELTA };

enum roster_file {
    RF_ORGS,
    RF_SESSIONS,
    RF_COURSES,
    RF_CLASSES,
    RF_USERS,
    RF_ROLES,
    RF_ENROLLMENTS,
    RF_DEMOGRAPHICS,
    RF_COUNT
};

struct roster_model {
    /* memory */
    struct arena_block *arena;
    struct roster_csv *csvs;
    int ncsvs, capcsvs;
    /* the database as loaded */
    bool loaded;
    struct smap ids;              /* "k" + sid -> struct ids_row* (roster_ids) */
    struct smap subjects;         /* code -> (void*)(intptr_t)id, and "=" + name */
    struct smap classes_db;       /* "inst:year:grade:letter" -> id */
    struct imap current;          /* (student, 0) -> enrolment id; (student, 1) -> class id */
    struct imap links;            /* (guardian, student) -> 1 */
    struct imap staff;            /* (person, institution) -> 1 */
    struct imap assign;           /* (teacher, class << 20 | subject) -> 1 */
    struct imap imported_classes; /* (class, 0) -> 1: classes some import brought */
    struct imap imported_people;  /* (person, 0) -> role bits: people some import brought */
    /* the files */
    int version; /* 11 or 12 */
    enum file_mode mode[RF_COUNT];
    bool template; /* the Russian CSV: no leavers */
    char today[11];
    struct smap ents;  /* "k" + sid -> struct ent* (users too) */
    struct ent **list; /* every non-user entity in reading order */
    size_t nlist, caplist;
    struct user **users;
    size_t nusers, capusers;
    struct enrol *enrols;
    size_t nenrols, capenrols;
};

/* Arena memory, freed with the model. NULL when out of memory. */
void *arena_alloc(struct roster_model *m, size_t n);
char *arena_strdup(struct roster_model *m, const char *s);
/* "k" + sid in the arena. */
char *ent_key(struct roster_model *m, char kind, const char *sid);

/* Adds an entity (or a user: size sizeof(struct user)) of `kind` and `sid`, registered under
 * its key. NULL when out of memory; *dup set when the key was there (nothing added). */
struct ent *ent_add(struct roster_model *m, char kind, const char *sid, size_t size, bool *dup);
/* The entity of kind and sid: in these files, else a ghost from an earlier import (ids), else
 * NULL. A person who left is found too. */
struct ent *ent_find(struct roster_model *m, char kind, const char *sid);

/* Keeps a CSV's buffer alive as long as the model (the entities' strings point into it). */
int model_keep_csv(struct roster_model *m, struct roster_csv *csv);

/* 64-bit FNV-1a of the strings (NULL ends), separated. */
int64_t roster_digest(const char *const *parts);

/* YYYY-MM-DD, a real date. */
bool roster_date_ok(const char *s);

/* Today's date, YYYY-MM-DD (local time). */
void roster_today(char out[11]);
/* A subject by the first of its codes, else by its name; 0 when neither is known. */
int64_t roster_subject(struct roster_model *m, const char *codes, const char *title);
/* A OneRoster role as the node's role bit; 0 when not understood. */
uint32_t roster_role(const char *s);

/* The checks and links after reading, common to both formats (oneroster.c). */
void roster_link(struct roster_model *m, struct roster_report *rep);

#endif
