/* html.c — the desk's escaping template layer (html.h). */
#include "html.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ewh/util.h"

void
node_buf_init(struct node_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void
node_buf_free(struct node_buf *b)
{
    if (b->p != NULL) {
        sodium_memzero(b->p, b->cap);
        free(b->p);
    }
    memset(b, 0, sizeof(*b));
}

static bool
s_grow(struct node_buf *b, size_t more)
{
    size_t cap;
    char *p;

    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1)
        cap *= 2;
    /* Not realloc: the old block may hold report text and is wiped. */
    if ((p = malloc(cap)) == NULL) {
        b->oom = true;
        return false;
    }
    if (b->p != NULL) {
        memcpy(p, b->p, b->len);
        sodium_memzero(b->p, b->cap);
        free(b->p);
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void
node_buf_add(struct node_buf *b, const void *p, size_t len)
{
    if (!s_grow(b, len))
        return;
    memcpy(b->p + b->len, p, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void
node_html_escape(struct node_buf *b, const char *s, size_t len)
{
    size_t i, start = 0;
    const char *ent;

    for (i = 0; i < len; i++) {
        switch (s[i]) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            continue;
        }
        node_buf_add(b, s + start, i - start);
        node_buf_add(b, ent, strlen(ent));
        start = i + 1;
    }
    node_buf_add(b, s + start, len - start);
}

static void
s_url(struct node_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char enc[4];
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            node_buf_add(b, &s[i], 1);
            continue;
        }
        enc[0] = '%';
        enc[1] = hex[c >> 4];
        enc[2] = hex[c & 15];
        node_buf_add(b, enc, 3); /* never needs HTML escaping */
    }
}

void
node_html(struct node_buf *b, const char *tmpl, ...)
{
    const char *p = tmpl, *s;
    char num[32];
    va_list ap;

    va_start(ap, tmpl);
    while (*p != '\0') {
        const char *brace = strchr(p, '{');
        if (brace == NULL) {
            node_buf_add(b, p, strlen(p));
            break;
        }
        node_buf_add(b, p, (size_t)(brace - p));
        p = brace;
        if (p[1] == '{') {
            node_buf_add(b, "{", 1);
            p += 2;
            continue;
        }
        if (p[1] == '\0' || p[2] != '}') {
            /* Not a placeholder: copy the brace as it is. */
            node_buf_add(b, "{", 1);
            p++;
            continue;
        }
        switch (p[1]) {
        case 's':
            s = va_arg(ap, const char *);
            if (s != NULL)
                node_html_escape(b, s, strlen(s));
            break;
        case 'u':
            s = va_arg(ap, const char *);
            if (s != NULL)
                s_url(b, s);
            break;
        case 'd':
            snprintf(num, sizeof(num), "%lld", va_arg(ap, long long));
            node_buf_add(b, num, strlen(num));
            break;
        case 't': {
            long long t = va_arg(ap, long long);
            if (t <= 0)
                snprintf(num, sizeof(num), "-");
            else
                ewh_time_format((int64_t)t, num, sizeof(num));
            node_html_escape(b, num, strlen(num));
            break;
        }
        case 'h': {
            const struct node_buf *f = va_arg(ap, const struct node_buf *);
            if (f != NULL && f->oom)
                b->oom = true;
            else if (f != NULL && f->len > 0)
                node_buf_add(b, f->p, f->len);
            break;
        }
        default:
            /* An unknown placeholder is a bug in a template literal. */
            EWH_ASSERT(!"unknown html placeholder");
        }
        p += 3;
    }
    va_end(ap);
}
