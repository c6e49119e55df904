/*
 * The demo region's sample library: items of every type across the main school subjects,
 * mathematics included, most approved (some as if from the Moscow hub), with a test whose
 * questions are scored on the server, a draft and an item waiting for the methodologist, so
 * that search, review and attaching to a lesson can be tried at once.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "demo/demo.h"
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
    sqlite3_stmt *st = db_stmt(
        db, "INSERT INTO library_items (uid, type, title, description, body, subject_id, "
            "grade_min, grade_max, authors, origin, institution_id, author_id, status, "
            "reviewed_by, reviewed_at) VALUES (:uid, :type, :title, :descr, :body, (SELECT id "
            "FROM subjects WHERE code = :subject), :gmin, :gmax, :authors, :origin, CASE WHEN "
            ":origin = 'school' THEN (SELECT institution_id FROM staff WHERE person_id = :t "
            "LIMIT 1) END, CASE WHEN :origin = 'hub' THEN NULL WHEN :authors = 'Смирнова О. П.' "
            "THEN :t END, :status, CASE WHEN :status = 'approved' AND :origin <> 'hub' THEN :m "
            "END, CASE WHEN :status = 'approved' THEN unixepoch() END)");
    if (st == NULL)
        return -1;
    long long test_id = 0;
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        const struct sample *s = &samples[i];
        char uid[64];
        if (strcmp(s->origin, "hub") == 0)
            snprintf(uid, sizeof(uid), "hub-demo-%zu", i + 1);
        else
            snprintf(uid, sizeof(uid), "r%s-demo-%zu", region_code, i + 1);
        db_bind_text(st, ":uid", uid);
        db_bind_text(st, ":type", s->type);
        db_bind_text(st, ":title", s->title);
        db_bind_text(st, ":descr", s->description);
        db_bind_text(st, ":body", s->body);
        db_bind_text(st, ":subject", s->subject);
        db_bind_int(st, ":gmin", s->grade_min);
        db_bind_int(st, ":gmax", s->grade_max);
        db_bind_text(st, ":authors", s->authors);
        db_bind_text(st, ":origin", s->origin);
        db_bind_text(st, ":status", s->status);
        db_bind_int(st, ":t", teacher);
        db_bind_int(st, ":m", methodologist);
        if (db_exec_stmt(st) != SQLITE_DONE)
            return -1;
        if (strcmp(s->title, "Решение линейных уравнений") == 0)
            test_id = db_last_id(db);
    }
    st = db_stmt(db, "INSERT INTO library_questions (item_id, position, kind, prompt, options, "
                     "answer) VALUES (:id, :pos, :k, :p, :o, :a)");
    if (st == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(questions) / sizeof(questions[0]); i++) {
        db_bind_int(st, ":id", test_id);
        db_bind_int(st, ":pos", (long long)i + 1);
        db_bind_text(st, ":k", questions[i].kind);
        db_bind_text(st, ":p", questions[i].prompt);
        db_bind_text(st, ":o", questions[i].options);
        db_bind_text(st, ":a", questions[i].answer);
        if (db_exec_stmt(st) != SQLITE_DONE)
            return -1;
    }
    /* Generation runs without triggers: build the full-text index once, at the end. */
    return db_exec(db, "INSERT INTO library_fts (library_fts) VALUES ('rebuild')") == SQLITE_OK
               ? 0
               : -1;
}
