/* test_docs.c — the docs agree with the program where a program can tell
 * (issue 15, item 12): the refusal reasons the metrics docs name are the
 * program's error code names (ewh_errcode_name, which hub/metrics.c
 * prints), and the longest expiry the docs state is EWH_MAX_EXPIRY_S.
 *
 * argv[1]: the project's source root (the docs are read from there,
 * inside the repository). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ewh/err.h"
#include "ewh/limits.h"

static const char *s_root;

static char *
s_read(const char *rel)
{
    char path[4096];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof(path), "%s/%s", s_root, rel);
    f = fopen(path, "rb");
    CHECK(f != NULL);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    n = ftell(f);
    CHECK(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    CHECK(buf != NULL);
    CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int
s_is_code_name(const char *s, size_t len)
{
    int i;

    for (i = 0; i < EWH_E__COUNT; i++)
        if (strlen(ewh_errcode_name((enum ewh_errcode)i)) == len &&
            strncmp(ewh_errcode_name((enum ewh_errcode)i), s, len) == 0)
            return 1;
    return 0;
}

/* Every `name` in the meaning column of the refused-reports metric row,
 * and every reason="name" of that metric in the docs, is a code name. */
static void
test_metric_reasons(void)
{
    char *doc = s_read("docs/operations.md");
    const char *row = strstr(doc, "| `ewhub_reports_refused_total` |");
    const char *end, *p, *q;
    int names = 0;

    CHECK(row != NULL);
    end = strchr(row, '\n');
    p = strstr(row, "by error code");
    CHECK(p != NULL && p < end);
    while ((p = strchr(p, '`')) != NULL && p < end) {
        q = strchr(p + 1, '`');
        CHECK(q != NULL && q < end);
        if (!s_is_code_name(p + 1, (size_t)(q - p - 1))) {
            fprintf(stderr,
                    "docs/operations.md names refusal reason '%.*s', "
                    "which is no ewh_errcode_name\n",
                    (int)(q - p - 1), p + 1);
            CHECK(0);
        }
        names++;
        p = q + 1;
    }
    CHECK(names >= 3);
    for (p = doc; (p = strstr(p, "refused_total{reason=\"")) != NULL;) {
        p += strlen("refused_total{reason=\"");
        q = strchr(p, '"');
        CHECK(q != NULL);
        CHECK(s_is_code_name(p, (size_t)(q - p)));
    }
    free(doc);
}

/* Each doc that states the longest expiry says EWH_MAX_EXPIRY_S in days:
 * every "N days" with "expir" in the 80 characters before it is about the
 * expiry, and its N must be the program's. */
static void
test_max_expiry(void)
{
    static const char *const docs[] = {"docs/usage.md", "docs/operations.md",
                                       NULL};
    size_t i;

    for (i = 0; docs[i] != NULL; i++) {
        char *doc = s_read(docs[i]);
        const char *p, *d, *w;
        int found = 0;
        for (p = doc; (p = strstr(p, " days")) != NULL; p++) {
            char win[96];
            for (d = p; d > doc && d[-1] >= '0' && d[-1] <= '9'; d--)
                ;
            if (d == p)
                continue;
            w = d - doc > 80 ? d - 80 : doc;
            snprintf(win, sizeof(win), "%.*s", (int)(d - w), w);
            if (strstr(win, "expir") == NULL)
                continue;
            if (atoi(d) != EWH_MAX_EXPIRY_S / 86400) {
                fprintf(stderr,
                        "%s: \"...%s%.8s\": the longest expiry is "
                        "%d days\n",
                        docs[i], win, d, EWH_MAX_EXPIRY_S / 86400);
                CHECK(0);
            }
            found = 1;
        }
        CHECK(found);
        free(doc);
    }
}

int
main(int argc, char **argv)
{
    CHECK(argc == 2);
    s_root = argv[1];
    test_metric_reasons();
    test_max_expiry();
    printf("docs: ok\n");
    return 0;
}
