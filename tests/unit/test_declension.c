/*
 * Unit tests of Russian names in the dative case and dates in words
 * (node/certificates/declension.c): real names of both genders, the endings that change and
 * those that do not, the gender told by a patronymic, a last name or a first name, the
 * nominative kept when it cannot be told, capitals, hyphens, and buffers too small.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "certificates/declension.h"

/* The full name "last first middle" must read `want` in the dative case. */
static void dative(const char *last, const char *first, const char *middle, const char *want)
{
    char out[256];
    assert_int_equal(declension_full_dative(last, first, middle, out, sizeof(out), NULL), 0);
    assert_string_equal(out, want);
}

static void test_common_names(void **state)
{
    (void)state;
    dative("Иванов", "Артём", "Сергеевич", "Иванову Артёму Сергеевичу");
    dative("Иванова", "Мария", "Петровна", "Ивановой Марии Петровне");
    dative("Иванова", "Елена", "Викторовна", "Ивановой Елене Викторовне");
    dative("Петров", "Андрей", "Николаевич", "Петрову Андрею Николаевичу");
    dative("Смирнова", "Ольга", "Петровна", "Смирновой Ольге Петровне");
    dative("Кузнецова", "Марина", "Игоревна", "Кузнецовой Марине Игоревне");
    dative("Соколова", "Наталья", "Андреевна", "Соколовой Наталье Андреевне");
    dative("Соловьёв", "Дмитрий", "Алексеевич", "Соловьёву Дмитрию Алексеевичу");
    dative("Пушкин", "Александр", "Сергеевич", "Пушкину Александру Сергеевичу");
    dative("Ильина", "Виктория", "Юрьевна", "Ильиной Виктории Юрьевне");
    dative("Сорокин", "Николай", "Васильевич", "Сорокину Николаю Васильевичу");
    dative("Зайцева", "Анна", "Олеговна", "Зайцевой Анне Олеговне");
    dative("Корнилов", "Юрий", "Павлович", "Корнилову Юрию Павловичу");
    dative("Лыткина", "Софья", "Максимовна", "Лыткиной Софье Максимовне");
}

static void test_adjectival_last_names(void **state)
{
    (void)state;
    dative("Толстой", "Лев", "Николаевич", "Толстому Льву Николаевичу");
    dative("Толстая", "Софья", "Андреевна", "Толстой Софье Андреевне");
    dative("Достоевский", "Фёдор", "Михайлович", "Достоевскому Фёдору Михайловичу");
    dative("Ковальская", "Ирина", "Владимировна", "Ковальской Ирине Владимировне");
    dative("Трубецкой", "Сергей", "Петрович", "Трубецкому Сергею Петровичу");
    dative("Горький", "Максим", "", "Горькому Максиму");
    dative("Белый", "Андрей", "", "Белому Андрею");
    dative("Крайний", "Олег", "Иванович", "Крайнему Олегу Ивановичу");
    dative("Крайняя", "Ольга", "Ивановна", "Крайней Ольге Ивановне");
}

static void test_indeclinable_last_names(void **state)
{
    (void)state;
    dative("Черных", "Никита", "Андреевич", "Черных Никите Андреевичу");
    dative("Черных", "Анна", "Андреевна", "Черных Анне Андреевне");
    dative("Седых", "Илья", "Романович", "Седых Илье Романовичу");
    dative("Шевченко", "Тарас", "Григорьевич", "Шевченко Тарасу Григорьевичу");
    dative("Шевченко", "Оксана", "Тарасовна", "Шевченко Оксане Тарасовне");
    dative("Дурново", "Пётр", "Павлович", "Дурново Петру Павловичу");
    dative("Руставели", "Шота", "Ростомович", "Руставели Шоте Ростомовичу");
    dative("Гёте", "Иоганн", "", "Гёте Иоганну");
    /* A woman's last name ending in a consonant stays; a man's takes -у. */
    dative("Шмидт", "Отто", "Юльевич", "Шмидту Отто Юльевичу");
    dative("Шмидт", "Елена", "Карловна", "Шмидт Елене Карловне");
    dative("Гоголь", "Николай", "Васильевич", "Гоголю Николаю Васильевичу");
    dative("Гоголь", "Анна", "Васильевна", "Гоголь Анне Васильевне");
}

static void test_last_names_in_a(void **state)
{
    (void)state;
    dative("Глинка", "Михаил", "Иванович", "Глинке Михаилу Ивановичу");
    dative("Глинка", "Людмила", "Ивановна", "Глинке Людмиле Ивановне");
    dative("Берия", "Лаврентий", "Павлович", "Берии Лаврентию Павловичу");
    dative("Гамсахурдиа", "Звиад", "Константинович", "Гамсахурдиа Звиаду Константиновичу");
}

static void test_first_names(void **state)
{
    (void)state;
    dative("Орлова", "Любовь", "Петровна", "Орловой Любови Петровне");
    dative("Орлов", "Игорь", "Петрович", "Орлову Игорю Петровичу");
    dative("Кузнецов", "Павел", "Ильич", "Кузнецову Павлу Ильичу");
    dative("Кузнецова", "Нинель", "Ильинична", "Кузнецовой Нинели Ильиничне");
    dative("Фомина", "Вера", "Кузьминична", "Фоминой Вере Кузьминичне");
    dative("Кузьмин", "Кузьма", "Фомич", "Кузьмину Кузьме Фомичу");
    dative("Лебедев", "Николай", "Алексеевич", "Лебедеву Николаю Алексеевичу");
    dative("Лебедева", "Аксинья", "Алексеевна", "Лебедевой Аксинье Алексеевне");
}

static void test_caucasus_and_turkic_names(void **state)
{
    (void)state;
    dative("Магомедова", "Патимат", "Магомедовна", "Магомедовой Патимат Магомедовне");
    dative("Магомедов", "Магомед", "Магомедович", "Магомедову Магомеду Магомедовичу");
    dative("Алиев", "Руслан", "Ильхам оглы", "Алиеву Руслану Ильхам оглы");
    dative("Алиева", "Лейла", "Ильхам кызы", "Алиевой Лейле Ильхам кызы");
    dative("Гаджиева", "Аминат", "Расуловна", "Гаджиевой Аминат Расуловне");
    dative("Абдуллаев", "Муса", "Гасанович", "Абдуллаеву Мусе Гасановичу");
    dative("Садыкова", "Гузель", "Ринатовна", "Садыковой Гузели Ринатовне");
    dative("Нурланов", "Ерлан", "Нурлан улы", "Нурланову Ерлану Нурлан улы");
}

static void test_hyphens_and_capitals(void **state)
{
    (void)state;
    dative("Петров-Водкин", "Кузьма", "Сергеевич", "Петрову-Водкину Кузьме Сергеевичу");
    dative("Римский-Корсаков", "Николай", "Андреевич", "Римскому-Корсакову Николаю Андреевичу");
    dative("Петрова-Водкина", "Анна-Мария", "Кузьминична",
           "Петровой-Водкиной Анне-Марии Кузьминичне");
    dative("ИВАНОВ", "АРТЁМ", "СЕРГЕЕВИЧ", "ИВАНОВУ АРТЁМУ СЕРГЕЕВИЧУ");
    dative("ИВАНОВА", "МАРИЯ", "ПЕТРОВНА", "ИВАНОВОЙ МАРИИ ПЕТРОВНЕ");
}

static void test_gender(void **state)
{
    (void)state;
    assert_int_equal(declension_gender("Иванов", "Артём", "Сергеевич"), DECLENSION_MALE);
    assert_int_equal(declension_gender("Черных", "Никита", "Андреевич"), DECLENSION_MALE);
    assert_int_equal(declension_gender("Алиев", "Руслан", "Ильхам оглы"), DECLENSION_MALE);
    assert_int_equal(declension_gender("Алиева", "Лейла", "Ильхам кызы"), DECLENSION_FEMALE);
    assert_int_equal(declension_gender("Шмидт", "Любовь", "Ильинична"), DECLENSION_FEMALE);
    /* No patronymic: the last name and the first name. */
    assert_int_equal(declension_gender("Иванова", "Мария", ""), DECLENSION_FEMALE);
    assert_int_equal(declension_gender("Черных", "Никита", NULL), DECLENSION_MALE);
    assert_int_equal(declension_gender("Черных", "Илья", ""), DECLENSION_MALE);
    assert_int_equal(declension_gender("Черных", "Игорь", ""), DECLENSION_MALE);
    assert_int_equal(declension_gender("Черных", "Любовь", ""), DECLENSION_FEMALE);
    assert_int_equal(declension_gender("Шевченко", "Тарас", ""), DECLENSION_MALE);
    assert_int_equal(declension_gender("Магомедова", "Патимат", ""), DECLENSION_FEMALE);
    /* Nothing to tell by, or parts that disagree: unknown. */
    assert_int_equal(declension_gender("Шевченко", "Патимат", ""), DECLENSION_UNKNOWN);
    assert_int_equal(declension_gender("Ким", "Марат", ""), DECLENSION_UNKNOWN);
    assert_int_equal(declension_gender("Иванова", "Артём", ""), DECLENSION_UNKNOWN);
    assert_int_equal(declension_gender("Smith", "John", ""), DECLENSION_UNKNOWN);
    assert_int_equal(declension_gender(NULL, NULL, NULL), DECLENSION_UNKNOWN);
}

static void test_unknown_gender_keeps_the_nominative(void **state)
{
    (void)state;
    enum declension_gender g = DECLENSION_MALE;
    char out[128];
    assert_int_equal(declension_full_dative("Шевченко", "Патимат", "", out, sizeof(out), &g), 0);
    assert_int_equal(g, DECLENSION_UNKNOWN);
    assert_string_equal(out, "Шевченко Патимат");
    dative("Ким", "Марат", "", "Ким Марат");
    dative("Smith", "John", "", "Smith John");
    /* A known gender and a word the rules do not know: that word as it is. */
    dative("Smith", "Анна", "Петровна", "Smith Анне Петровне");
}

static void test_parts(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(declension_last_dative("Иванов", DECLENSION_FEMALE, out, sizeof(out)), 0);
    assert_string_equal(out, "Иванов"); /* a woman's consonant last name */
    assert_int_equal(declension_last_dative("Иванова", DECLENSION_UNKNOWN, out, sizeof(out)), 0);
    assert_string_equal(out, "Иванова");
    assert_int_equal(declension_first_dative("Пётр", DECLENSION_MALE, out, sizeof(out)), 0);
    assert_string_equal(out, "Петру");
    assert_int_equal(declension_middle_dative("Ильич", DECLENSION_MALE, out, sizeof(out)), 0);
    assert_string_equal(out, "Ильичу");
    assert_int_equal(declension_middle_dative("", DECLENSION_MALE, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    /* Not valid UTF-8: copied as it is. */
    assert_int_equal(declension_last_dative("\xD0", DECLENSION_MALE, out, sizeof(out)), 0);
    assert_string_equal(out, "\xD0");
}

static void test_too_small(void **state)
{
    (void)state;
    char out[16];
    /* "Иванову" is 14 bytes and its NUL. */
    assert_int_equal(declension_last_dative("Иванов", DECLENSION_MALE, out, 15), 0);
    assert_string_equal(out, "Иванову");
    assert_int_equal(declension_last_dative("Иванов", DECLENSION_MALE, out, 14), -1);
    assert_string_equal(out, "");
    assert_int_equal(declension_full_dative("Иванов", "Артём", "Сергеевич", out, sizeof(out), NULL),
                     -1);
    assert_string_equal(out, "");
    assert_int_equal(declension_date_words("2026-12-05", out, 8), -1);
}

static void test_dates(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(declension_date_words("2026-12-05", out, sizeof(out)), 0);
    assert_string_equal(out, "5 декабря 2026 г.");
    assert_int_equal(declension_date_words("2015-04-17", out, sizeof(out)), 0);
    assert_string_equal(out, "17 апреля 2015 г.");
    assert_int_equal(declension_date_words("2027-01-01", out, sizeof(out)), 0);
    assert_string_equal(out, "1 января 2027 г.");
    assert_int_equal(declension_date_words("2028-02-29", out, sizeof(out)), 0);
    assert_string_equal(out, "29 февраля 2028 г.");
    assert_int_equal(declension_date_words("2026-05-31", out, sizeof(out)), 0);
    assert_string_equal(out, "31 мая 2026 г.");
    assert_int_equal(declension_date_words("2015-09-17", out, sizeof(out)), 0);
    assert_string_equal(out, "17 сентября 2015 г."); /* the longest: 28 bytes */
    assert_int_equal(strlen(out), 28);
    const char *bad[] = {"2026-02-29", "2026-13-01", "2026-00-10",  "2026-04-31", "2026-1-05",
                         "05.12.2026", "",           "2026-12-05x", "2026-12-0x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(declension_date_words(bad[i], out, sizeof(out)), -1);
    assert_int_equal(declension_date_words(NULL, out, sizeof(out)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_common_names),
        cmocka_unit_test(test_adjectival_last_names),
        cmocka_unit_test(test_indeclinable_last_names),
        cmocka_unit_test(test_last_names_in_a),
        cmocka_unit_test(test_first_names),
        cmocka_unit_test(test_caucasus_and_turkic_names),
        cmocka_unit_test(test_hyphens_and_capitals),
        cmocka_unit_test(test_gender),
        cmocka_unit_test(test_unknown_gender_keeps_the_nominative),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_too_small),
        cmocka_unit_test(test_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
