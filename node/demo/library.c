/*
 * The demo region's sample library: items of every type across the main school subjects,
 * mathematics included, most approved (some as if from the Moscow hub), with a test whose
 * questions are scored on the server, a draft and an item waiting for the methodologist, so
 * that search, review and attaching to a lesson can be tried at once.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "demo/demo.h"
#include "files/files.h"
#include "node.h"

struct sample {
    const char *type, *subject, *title, *description, *body, *authors, *origin, *status;
    int grade_min, grade_max;
};

static const struct sample samples[] = {
    {"scenario", "math", "Сложение и вычитание обыкновенных дробей",
     "Сценарий урока: приведение дробей к общему знаменателю, сложение и вычитание.",
     "Цель урока: научиться складывать и вычитать дроби с разными знаменателями. Разминка: "
     "устный счёт. Объяснение: общий знаменатель, дополнительные множители. Практика: "
     "решение задач и уравнений с дробями. Итог урока и домашнее задание.",
     "Смирнова О. П.", "region", "approved", 5, 6},
    {"test", "math", "Решение линейных уравнений",
     "Проверочный тест из трёх вопросов: корни уравнений, перенос слагаемых.",
     "Тест проверяет умение решать линейные уравнения с одной переменной.", "Смирнова О. П.",
     "region", "approved", 5, 7},
    {"textbook", "math", "Математика. 5 класс. Учебник",
     "Учебник по математике для пятого класса: натуральные числа, дроби, уравнения.",
     "Глава 1. Натуральные числа. Глава 2. Обыкновенные дроби. Глава 3. Десятичные дроби. "
     "Глава 4. Уравнения и задачи на составление уравнений.",
     "Виленкин Н. Я. и др.", "hub", "approved", 5, 5},
    {"media", "math", "Видео: уравнения с одной переменной",
     "Видеоурок о том, как решать уравнения: равносильные преобразования, проверка корня.", "",
     "Московская электронная школа", "hub", "approved", 5, 7},
    {"scenario", "algebra", "Квадратные уравнения и теорема Виета",
     "Сценарий урока алгебры: дискриминант, формула корней, теорема Виета.",
     "Повторение: неполные квадратные уравнения. Новая тема: дискриминант и формула корней "
     "квадратного уравнения; теорема Виета. Самостоятельная работа.",
     "Петров А. В.", "region", "approved", 8, 9},
    {"workbook", "geometry", "Рабочая тетрадь: подобные треугольники",
     "Задачи на признаки подобия треугольников с пошаговыми подсказками.", "", "Петров А. В.",
     "region", "approved", 8, 9},
    {"scenario", "rus", "Правописание приставок пре- и при-",
     "Сценарий урока русского языка о значениях приставок пре- и при-.",
     "Словарная работа, наблюдение над значением приставок, упражнения, диктант.",
     "Кузнецова М. И.", "region", "approved", 6, 7},
    {"test", "rus", "Н и НН в прилагательных", "Тест по орфографии: выберите верное написание.", "",
     "Кузнецова М. И.", "region", "approved", 6, 8},
    {"textbook", "rus", "Русский язык. 6 класс", "Учебник русского языка для шестого класса.",
     "Лексика, словообразование, морфология: имя существительное, имя прилагательное, глагол.",
     "Ладыженская Т. А. и др.", "hub", "approved", 6, 6},
    {"fiction", "lit", "А. С. Пушкин. Капитанская дочка",
     "Исторический роман о Пугачёвском восстании.", "", "Пушкин А. С.", "hub", "approved", 8, 8},
    {"scenario", "lit", "Урок по повести «Капитанская дочка»",
     "Честь и долг в повести Пушкина: беседа, работа с текстом, сочинение-рассуждение.", "",
     "Кузнецова М. И.", "school", "approved", 8, 8},
    {"lab", "phys", "Виртуальная лаборатория: закон Ома",
     "Соберите цепь, измерьте силу тока и напряжение, постройте график.", "",
     "Московская электронная школа", "hub", "approved", 8, 9},
    {"media", "phys", "Опыт: преломление света",
     "Видеозапись опыта с лазером и стеклянной призмой.", "", "Московская электронная школа", "hub",
     "approved", 8, 11},
    {"app", "bio", "Интерактивный атлас: строение клетки",
     "Органоиды растительной и животной клетки в интерактивной модели.", "",
     "Московская электронная школа", "hub", "approved", 5, 9},
    {"test", "bio", "Строение клетки", "Тест по биологии: органоиды и их функции.", "",
     "Иванова Н. С.", "region", "approved", 5, 7},
    {"textbook", "history", "История России. 8 класс",
     "Учебник истории: Россия в XVIII веке, реформы Петра I.", "", "Арсентьев Н. М. и др.", "hub",
     "approved", 8, 8},
    {"scenario", "history", "Смутное время", "Сценарий урока о Смуте начала XVII века.", "",
     "Алиев Р. М.", "region", "approved", 7, 7},
    {"workbook", "eng", "English Grammar Practice, grade 7",
     "Exercises on tenses, articles and prepositions.", "", "Гасанова А. М.", "region", "approved",
     7, 7},
    {"test", "eng", "Present Simple or Present Continuous",
     "Choose the right tense in each sentence.", "", "Гасанова А. М.", "region", "approved", 5, 7},
    {"media", "geo", "Карта: природные зоны России",
     "Интерактивная карта природных зон: тундра, тайга, степи.", "", "Московская электронная школа",
     "hub", "approved", 6, 8},
    {"lab", "cs", "Тренажёр: алгоритмы сортировки",
     "Пошаговая визуализация сортировки пузырьком, вставками и слиянием.", "", "Магомедов Ш. А.",
     "region", "approved", 9, 11},
    {"scenario", "math", "Задачи на движение: черновик",
     "Черновик сценария урока: скорость, время, расстояние.", "", "Смирнова О. П.", "school",
     "draft", 5, 6},
    {"scenario", "geometry", "Теорема Пифагора: практикум",
     "Сценарий практического занятия с задачами из жизни.", "", "Смирнова О. П.", "school",
     "submitted", 8, 8},
};

/* The three questions of "Решение линейных уравнений"; the keys stay on the server. */
static const struct {
    const char *kind, *prompt, *options, *answer;
} questions[] = {
    {"single", "Корень уравнения 2x + 3 = 11", "[\"3\",\"4\",\"7\",\"5.5\"]", "[1]"},
    {"multiple", "Какие уравнения имеют корень x = 2?", "[\"x + 2 = 4\",\"3x = 5\",\"5 - x = 3\"]",
     "[0,2]"},
    {"text", "Решите уравнение x - 7 = 0. Запишите корень.", "[]", "[\"7\"]"},
};

int demo_sample_library(struct db *db, const char *region_code, long long teacher,
                        long long methodologist)
{
    static const char insert_item[] =
        "INSERT INTO library_items (uid, type, title, description, body, subject_id, "
        "grade_min, grade_max, authors, origin, institution_id, author_id, status, "
        "reviewed_by, reviewed_at) VALUES (:uid, :type, :title, :descr, :body, (SELECT id "
        "FROM subjects WHERE code = :subject), :gmin, :gmax, :authors, :origin, CASE WHEN "
        ":origin = 'school' THEN (SELECT institution_id FROM staff WHERE person_id = :t "
        "LIMIT 1) END, CASE WHEN :origin = 'hub' THEN NULL WHEN :authors = 'Смирнова О. П.' "
        "THEN :t END, :status, CASE WHEN :status = 'approved' AND :origin <> 'hub' THEN :m "
        "END, CASE WHEN :status = 'approved' THEN unixepoch() END)";
    long long test_id = 0;
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        const struct sample *s = &samples[i];
        char uid[64];
        if (strcmp(s->origin, "hub") == 0)
            snprintf(uid, sizeof(uid), "hub-demo-%zu", i + 1);
        else
            snprintf(uid, sizeof(uid), "r%s-demo-%zu", region_code, i + 1);
        if (db_run(db, insert_item,
                   DB_ARGS(DB_TEXT(":uid", uid), DB_TEXT(":type", s->type),
                           DB_TEXT(":title", s->title), DB_TEXT(":descr", s->description),
                           DB_TEXT(":body", s->body), DB_TEXT(":subject", s->subject),
                           DB_INT(":gmin", s->grade_min), DB_INT(":gmax", s->grade_max),
                           DB_TEXT(":authors", s->authors), DB_TEXT(":origin", s->origin),
                           DB_TEXT(":status", s->status), DB_INT(":t", teacher),
                           DB_INT(":m", methodologist))) != SQLITE_DONE)
            return -1;
        if (strcmp(s->title, "Решение линейных уравнений") == 0)
            test_id = db_last_id(db);
    }
    for (size_t i = 0; i < sizeof(questions) / sizeof(questions[0]); i++) {
        if (db_run(db,
                   "INSERT INTO library_questions (item_id, position, kind, prompt, options, "
                   "answer) VALUES (:id, :pos, :k, :p, :o, :a)",
                   DB_ARGS(DB_INT(":id", test_id), DB_INT(":pos", (long long)i + 1),
                           DB_TEXT(":k", questions[i].kind), DB_TEXT(":p", questions[i].prompt),
                           DB_TEXT(":o", questions[i].options),
                           DB_TEXT(":a", questions[i].answer))) != SQLITE_DONE)
            return -1;
    }
    /* Generation runs without triggers: build the full-text index once, at the end. */
    return db_exec(db, "INSERT INTO library_fts (library_fts) VALUES ('rebuild')") == SQLITE_OK
               ? 0
               : -1;
}

/* ---- a synthetic library of any size (mesnode gen --library N) ------------------------- */

bool demo_has_region(struct node *n)
{
    char err[256];
    struct db *db = db_open(n->db_path, &n->cfg, err, sizeof(err));
    if (db == NULL)
        return false;
    bool yes =
        db_exists(db, "SELECT 1 FROM accounts WHERE id > :id", DB_ARGS(DB_INT(":id", 0))) == 1;
    db_close(db);
    return yes;
}

static const struct {
    const char *subject;
    const char *topics[10];
} topics[] = {
    {"math",
     {"натуральные числа", "обыкновенные дроби", "десятичные дроби", "проценты", "уравнения",
      "задачи на движение", "площади фигур", "координатная прямая", "делимость чисел",
      "отношения и пропорции"}},
    {"algebra",
     {"линейные уравнения", "квадратные уравнения", "системы уравнений", "неравенства",
      "функции и графики", "степени", "арифметическая прогрессия", "логарифмы", "производная",
      "тригонометрические функции"}},
    {"geometry",
     {"треугольники", "подобие фигур", "окружность", "векторы", "теорема Пифагора",
      "многоугольники", "площади", "координаты", "многогранники", "тела вращения"}},
    {"rus",
     {"правописание приставок", "причастный оборот", "сложные предложения", "орфограммы корня",
      "знаки препинания", "морфемный разбор", "деепричастия", "синтаксис", "лексика",
      "стили речи"}},
    {"lit",
     {"поэзия Пушкина", "проза Гоголя", "романы Толстого", "лирика Лермонтова",
      "драматургия Чехова", "басни Крылова", "поэзия Серебряного века", "повести Тургенева",
      "романы Достоевского", "сказки"}},
    {"phys",
     {"законы Ньютона", "электрический ток", "закон Ома", "оптика", "давление", "работа и мощность",
      "колебания и волны", "термодинамика", "магнитное поле", "атомное ядро"}},
    {"chem",
     {"периодическая система", "химические реакции", "кислоты и основания", "соли",
      "окислительно-восстановительные реакции", "органическая химия", "растворы", "металлы",
      "неметаллы", "строение атома"}},
    {"bio",
     {"строение клетки", "фотосинтез", "генетика", "эволюция", "экосистемы", "анатомия человека",
      "ботаника", "зоология", "микроорганизмы", "наследственность"}},
    {"history",
     {"Древняя Русь", "Смутное время", "реформы Петра", "Отечественная война 1812 года",
      "Великая Отечественная война", "Древний Египет", "Античная Греция", "Средние века",
      "эпоха Возрождения", "революции XX века"}},
    {"geo",
     {"природные зоны", "климат России", "рельеф", "гидросфера", "население мира",
      "материки и океаны", "полезные ископаемые", "атмосфера", "карты и планы",
      "экономические районы"}},
    {"eng",
     {"Present Simple", "Past Continuous", "Future forms", "modal verbs", "conditionals",
      "reported speech", "passive voice", "phrasal verbs", "articles", "travel vocabulary"}},
    {"cs",
     {"алгоритмы сортировки", "системы счисления", "логика", "программирование на Python",
      "базы данных", "компьютерные сети", "кодирование информации", "циклы и ветвления", "графы",
      "электронные таблицы"}},
};

static const char *const type_names[][2] = {
    {"scenario", "Сценарий урока"},      {"test", "Тест"},
    {"textbook", "Учебное пособие"},     {"workbook", "Рабочая тетрадь"},
    {"fiction", "Книга для чтения"},     {"lab", "Виртуальная лаборатория"},
    {"app", "Интерактивное приложение"}, {"media", "Видеоурок"},
};

static const char *const surnames_lib[] = {"Абдуллаев", "Магомедова", "Иванов",    "Петрова",
                                           "Гасанов",   "Смирнова",   "Алиева",    "Кузнецов",
                                           "Омаров",    "Васильева",  "Рамазанов", "Соколова"};

/* Stores `len` pseudo-random bytes (incompressible, as media are) as a blob and names it as
 * item `item`'s file. 0, or -1 on a database error. */
static int generated_file(struct db *db, int64_t item, size_t len, uint64_t *rng)
{
    unsigned char *buf = malloc(len ? len : 1), hash[32];
    if (buf == NULL)
        return -1;
    for (size_t i = 0; i < len; i += 8) {
        *rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
        memcpy(buf + i, rng, len - i < 8 ? len - i : 8);
    }
    crypto_generichash(hash, sizeof(hash), buf, len, NULL, 0);
    int64_t blob = blob_put_packed(db, hash, buf, len, NULL); /* kept raw: it does not compress */
    int rc = -1;
    if (blob != 0)
        rc = db_run(db,
                    "INSERT INTO library_files (item_id, name, type, blob_id) "
                    "VALUES (:i, 'material.bin', 'application/octet-stream', :b)",
                    DB_ARGS(DB_INT(":i", item), DB_INT(":b", blob))) == SQLITE_DONE
                 ? 0
                 : -1;
    free(buf);
    return rc;
}

int demo_generate_library(struct node *n, long count, long long file_bytes,
                          void (*progress)(const char *stage, long done, long total), char *err,
                          size_t errlen)
{
    struct db *db = db_open(n->db_path, &n->cfg, err, errlen);
    if (db == NULL)
        return -1;
    /* The index is built once at the end, faster than row by row. */
    sqlite3_db_config(db_handle(db), SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
    int rc = -1;
    uint64_t rng = 0x2545F4914F6CDD1Dull;
    int64_t base = 0;
    if (db_exec(db, "PRAGMA cache_size = -262144") != SQLITE_OK || db_begin_write(db) != SQLITE_OK)
        goto out;
    if (db_int(db, &base, "SELECT coalesce(max(id), 0) FROM library_items", NULL) != SQLITE_ROW)
        goto out;
    for (long i = 0; i < count; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        size_t s = rng % (sizeof(topics) / sizeof(topics[0]));
        const char *topic = topics[s].topics[(rng >> 8) % 10];
        const char *other = topics[s].topics[(rng >> 16) % 10];
        size_t ty = (rng >> 24) % (sizeof(type_names) / sizeof(type_names[0]));
        int gmin = 1 + (int)((rng >> 32) % 11), gmax = gmin + (int)((rng >> 36) % 3);
        if (gmax > 11)
            gmax = 11;
        char uid[48], title[300], descr[600], body[900], authors[64];
        snprintf(uid, sizeof(uid), "gen-%ld", (long)base + i + 1);
        snprintf(title, sizeof(title), "%s: %s, %d класс (№ %ld)", type_names[ty][1], topic, gmin,
                 i + 1);
        snprintf(descr, sizeof(descr),
                 "Материал по теме «%s» для %d–%d классов: объяснение, примеры и задания; "
                 "связь с темой «%s».",
                 topic, gmin, gmax, other);
        snprintf(body, sizeof(body),
                 "Цели: понять тему «%s» и научиться применять её. Ход работы: повторение "
                 "темы «%s», разбор примеров, самостоятельная работа, обсуждение ответов и "
                 "итоги.",
                 topic, other);
        static const char *const initials[] = {"А", "Б", "В", "Г", "Д", "Е", "З", "И", "К",
                                               "Л", "М", "Н", "О", "П", "Р", "С", "Т"};
        enum { NI = sizeof(initials) / sizeof(initials[0]) };
        snprintf(authors, sizeof(authors), "%s %s. %s.",
                 surnames_lib[(rng >> 40) % (sizeof(surnames_lib) / sizeof(surnames_lib[0]))],
                 initials[(rng >> 54) % NI], initials[(rng >> 58) % NI]);
        unsigned o = (unsigned)((rng >> 44) % 10);
        if (db_run(db,
                   "INSERT INTO library_items (uid, type, title, description, body, "
                   "subject_id, grade_min, grade_max, authors, origin, status, uses) VALUES "
                   "(:uid, :type, :title, :descr, :body, (SELECT id FROM subjects WHERE code "
                   "= :subject), :gmin, :gmax, :authors, :origin, 'approved', :uses)",
                   DB_ARGS(DB_TEXT(":uid", uid), DB_TEXT(":type", type_names[ty][0]),
                           DB_TEXT(":title", title), DB_TEXT(":descr", descr),
                           DB_TEXT(":body", body), DB_TEXT(":subject", topics[s].subject),
                           DB_INT(":gmin", gmin), DB_INT(":gmax", gmax),
                           DB_TEXT(":authors", authors),
                           DB_TEXT(":origin", o < 6   ? "hub"
                                              : o < 9 ? "region"
                                                      : "school"),
                           DB_INT(":uses", (int64_t)((rng >> 50) % 200)))) != SQLITE_DONE)
            goto out;
        if (file_bytes > 0 &&
            generated_file(db, db_last_id(db), (size_t)(file_bytes / count), &rng) != 0)
            goto out;
        if ((i + 1) % 10000 == 0 || i + 1 == count) {
            if (progress)
                progress("library items", i + 1, count);
            if (db_commit(db) != SQLITE_OK || db_begin_write(db) != SQLITE_OK)
                goto out;
        }
    }
    if (progress)
        progress("search index", 0, 1);
    if (db_exec(db, "INSERT INTO library_fts (library_fts) VALUES ('rebuild')") != SQLITE_OK ||
        db_commit(db) != SQLITE_OK)
        goto out;
    if (progress)
        progress("search index", 1, 1);
    rc = 0;
out:
    if (rc != 0) {
        snprintf(err, errlen, "generating the library failed: %s", db_errmsg(db));
        db_rollback(db);
    }
    db_close(db);
    return rc;
}
