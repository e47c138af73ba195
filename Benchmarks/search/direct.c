/*
 * direct: the baseline of the search latency benchmark. Runs FTS5 queries straight
 * through the SQLite C API, the way an application without meetingd would: top 10
 * turns by bm25 with a snippet each, within a rowid range (a meeting) and a date range.
 *
 * Usage: direct FTS5-FILE ROUNDS < queries.tsv
 *   FTS5-FILE: the table `turn_fts(text, date)` latency.py builds from the corpus's
 *   turns (bare_fts5.py), as meetingd wrote it before schema v6.
 *   Each input line: MATCH-EXPRESSION \t FIRST-ROWID \t LAST-ROWID \t FROM-DATE \t TO-DATE
 *   (empty dates: no date condition). Prints, per input line, ROUNDS round-trip times
 *   in microseconds, space-separated.
 */
#define _DEFAULT_SOURCE
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOP_SQL "SELECT rowid, snippet(turn_fts, 0, '[', ']', '…', 24), bm25(turn_fts) FROM turn_fts " \
                "WHERE turn_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3"
static const char *plain_sql = TOP_SQL " ORDER BY rank LIMIT 10";
static const char *dated_sql = TOP_SQL " AND date >= ?4 AND date <= ?5 ORDER BY rank LIMIT 10";

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CORPUS ROUNDS < queries.tsv\n", argv[0]);
        return 2;
    }
    sqlite3 *db;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", argv[1], sqlite3_errmsg(db));
        return 1;
    }
    int rounds = atoi(argv[2]);
    sqlite3_stmt *plain, *dated;
    if (sqlite3_prepare_v2(db, plain_sql, -1, &plain, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, dated_sql, -1, &dated, NULL) != SQLITE_OK) {
        fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    char line[8192];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char *fields[5] = {0};
        char *rest = line;
        for (int i = 0; i < 5; i++) fields[i] = strsep(&rest, "\t");
        if (!fields[4]) { fprintf(stderr, "bad line: %s\n", line); return 1; }
        int has_dates = fields[3][0] != 0;
        sqlite3_stmt *stmt = has_dates ? dated : plain;
        for (int round = 0; round < rounds; round++) {
            double started = now_us();
            sqlite3_reset(stmt);
            sqlite3_bind_text(stmt, 1, fields[0], -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(stmt, 2, strtoll(fields[1], NULL, 10));
            sqlite3_bind_int64(stmt, 3, strtoll(fields[2], NULL, 10));
            if (has_dates) {
                sqlite3_bind_text(stmt, 4, fields[3], -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(stmt, 5, fields[4], -1, SQLITE_TRANSIENT);
            }
            int rc;
            while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
                (void)sqlite3_column_text(stmt, 1);
            }
            if (rc != SQLITE_DONE) { fprintf(stderr, "query %s: %s\n", fields[0], sqlite3_errmsg(db)); return 1; }
            printf("%s%.0f", round ? " " : "", now_us() - started);
        }
        printf("\n");
        fflush(stdout);
    }
    sqlite3_finalize(plain);
    sqlite3_finalize(dated);
    sqlite3_close(db);
    return 0;
}
