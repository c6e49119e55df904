/*
 * Benchmark baseline: raw SQLite single-row commits into a marks-like table, WAL mode, at the
 * given durability (FULL survives a power cut, NORMAL a crash). Prints rows per second. With
 * ROWS, each commit holds ROWS rows (a terminal's batch): the storage's bound for batched events.
 * Usage: sqlite_commits DBFILE full|normal SECONDS [ROWS]
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: sqlite_commits DBFILE full|normal SECONDS [ROWS]\n");
        return 2;
    }
    sqlite3 *db;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK)
        return 1;
    char pragmas[160];
    snprintf(pragmas, sizeof(pragmas), "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;",
             strcmp(argv[2], "full") == 0 ? "FULL" : "NORMAL");
    if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, lesson INTEGER, "
                     "student INTEGER, value TEXT, weight INTEGER, at INTEGER)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return 1;
    sqlite3_stmt *ins;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO m (lesson, student, value, weight, at) VALUES "
                           "(?, ?, '5', 2, ?)",
                           -1, &ins, NULL) != SQLITE_OK)
        return 1;
    double seconds = 0, t0 = now();
    long n = 0;
    long rows = 1;
    sscanf(argv[3], "%lf", &seconds);
    if (argc == 5 && (sscanf(argv[4], "%ld", &rows) != 1 || rows < 1))
        return 2;
    while (now() - t0 < seconds) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (long i = 0; i < rows; i++, n++) {
            sqlite3_bind_int64(ins, 1, n);
            sqlite3_bind_int64(ins, 2, n % 30);
            sqlite3_bind_int64(ins, 3, (sqlite3_int64)time(NULL));
            if (sqlite3_step(ins) != SQLITE_DONE)
                return 1;
            sqlite3_reset(ins);
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            return 1;
    }
    printf("%.0f\n", (double)n / (now() - t0));
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return 0;
}
