/*
 * html.h — the desk's one output mechanism: a growing buffer and a tiny
 * template language that escapes every dynamic value.
 *
 * node_html(b, tmpl, ...) copies tmpl and replaces each placeholder with
 * the next argument:
 *
 *   {s}  const char *     text, HTML-escaped (& < > " ' become entities)
 *   {u}  const char *     a URL query component: percent-encoded, then
 *                         HTML-escaped
 *   {d}  long long        a decimal integer
 *   {t}  long long        a Unix time as 2026-12-01T21:37:08Z (0: "-")
 *   {h}  const node_buf * a fragment built by this layer (not escaped
 *                         again: it was escaped when it was built)
 *   {{   a literal '{'
 *
 * There is no placeholder for raw text: markup comes only from the
 * template literals in the source, values only through {s}/{u}.  The
 * buffer records an allocation failure in oom instead of failing each
 * call; check it once at the end.
 */
#ifndef NODE_HTML_H
#define NODE_HTML_H

#include <stdbool.h>
#include <stddef.h>

struct node_buf {
    char *p;
    size_t len, cap;
    bool oom;
};

void node_buf_init(struct node_buf *b);
/* Wipe and free. */
void node_buf_free(struct node_buf *b);
/* Append len bytes as they are (for non-HTML bodies: JSON, CAP, WAV). */
void node_buf_add(struct node_buf *b, const void *p, size_t len);

void node_html(struct node_buf *b, const char *tmpl, ...);

/* HTML-escape len bytes of s onto b (what {s} does). */
void node_html_escape(struct node_buf *b, const char *s, size_t len);

#endif
