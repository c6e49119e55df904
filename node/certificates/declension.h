/*
 * Russian grammar for documents the node writes (certificates of study): a person's full name
 * in the dative case («Дана Иванову Артёму Сергеевичу»), the person's grammatical gender told
 * by the name, and calendar dates in words («5 декабря 2026 г.»).
 *
 * The rules are the common endings of Russian last names, first names and patronymics (no
 * dictionary): -ов/-ев/-ин/-ын → -ову/-ину, -ова → -овой, -ский/-ская → -скому/-ской, -ой →
 * -ому, first names in -а/-я/-ия/-ь/-й or a consonant, patronymics in -ич/-на; the forms that
 * do not change (-их/-ых, -ко/-енко, -о, -е, -и, -у, «оглы»/«кызы», women's names and last
 * names ending in a consonant). When the gender cannot be told, the name is left in the
 * nominative: a document with an undeclined name is better than one with a wrong ending.
 *
 * Names are UTF-8; capitals are kept (ИВАНОВ → ИВАНОВУ). Nothing here allocates.
 */
#ifndef MES_DECLENSION_H
#define MES_DECLENSION_H

#include <stddef.h>

enum declension_gender { DECLENSION_UNKNOWN = 0, DECLENSION_MALE, DECLENSION_FEMALE };

/* The gender a full name tells: the patronymic first (-ович/-евич/-ич, «оглы»: male;
 * -овна/-евна/-ична, «кызы»: female); without one, the last name's and the first name's
 * endings, which must not disagree. Any part may be NULL or "". */
enum declension_gender declension_gender(const char *last, const char *first, const char *middle);

/* One part of a name in the dative case for `g`, into out (size bytes, NUL-terminated).
 * Hyphenated parts (Петров-Водкин, Анна-Мария) are declined piece by piece. With
 * DECLENSION_UNKNOWN, or a word the rules do not know, the word is copied unchanged. Return 0,
 * or -1 when out is too small (out then holds an empty string). */
int declension_last_dative(const char *last, enum declension_gender g, char *out, size_t size);
int declension_first_dative(const char *first, enum declension_gender g, char *out, size_t size);
int declension_middle_dative(const char *middle, enum declension_gender g, char *out, size_t size);

/* "Last First Middle" in the dative case (the parts that are empty are left out), the gender
 * told by declension_gender; the nominative when it cannot be told. *gender (when not NULL)
 * receives it. Returns 0, or -1 when out is too small. */
int declension_full_dative(const char *last, const char *first, const char *middle, char *out,
                           size_t size, enum declension_gender *gender);

/* A calendar date "YYYY-MM-DD" in words, «5 декабря 2026 г.». Returns 0, or -1 when `iso` is
 * not such a date or out is too small. */
int declension_date_words(const char *iso, char *out, size_t size);

#endif
