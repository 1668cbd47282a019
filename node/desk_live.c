/* desk_live.c — live updates: the server-sent events stream. */
#include "desk_int.h"

struct s_stream {
    int64_t v_store, v_users;
    int64_t beat, check;
    bool started;
    char token[NODE_TOKEN_CHARS];
};

/* ---- live updates (server-sent events) ------------------------------ */

static ssize_t
s_sse_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct s_stream *st = cls;
    struct node_session s;
    struct ewh_err err = {0};
    int64_t vs = 0, vu, now;
    int n;

    (void)pos;
    if (!st->started) {
        st->started = true;
        n = snprintf(buf, max, "retry: 1000\n\n");
        return n;
    }
    for (;;) {
        if (atomic_load(&node_desk_g.stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&node_desk_g.store_lock);
        if (node_store_data_version(node_desk_g.d->store, &vs, &err) != 0)
            vs = st->v_store;
        pthread_mutex_unlock(&node_desk_g.store_lock);
        if (node_users_data_version(node_desk_g.u, &vu, &err) != 0)
            vu = st->v_users; /* try again at the next poll */
        if (vs != st->v_store || vu != st->v_users) {
            st->v_store = vs;
            st->v_users = vu;
            return snprintf(buf, max, "event: change\ndata: %lld\n\n",
                            (long long)vs);
        }
        now = ewh_mono_ms();
        if (now - st->check > 5000) {
            st->check = now;
            if (node_users_session(node_desk_g.u, st->token, ewh_now(),
                                   &node_desk_g.c->policy, false, &s,
                                   &err) != 0)
                return MHD_CONTENT_READER_END_OF_STREAM;
        }
        /* A closed stream is noticed only when something is written to
         * it: a comment every NODE_DESK_SSE_BEAT_MS frees its thread soon after
         * the page is left. */
        if (now - st->beat > NODE_DESK_SSE_BEAT_MS) {
            st->beat = now;
            return snprintf(buf, max, ": keep-alive\n\n");
        }
        usleep(EWH_DESK_POLL_MS * 1000);
    }
}

static void
s_sse_free(void *cls)
{
    struct s_stream *st = cls;

    sodium_memzero(st, sizeof(*st));
    free(st);
    atomic_fetch_sub(&node_desk_g.streams, 1);
}

enum MHD_Result
node_desk_events(struct node_desk_req *r)
{
    struct MHD_Response *resp;
    struct s_stream *st;
    struct ewh_err err = {0};
    enum MHD_Result rc;

    NEED(r, NODE_ROLE_ALL, false);
    if (atomic_fetch_add(&node_desk_g.streams, 1) >=
        EWH_DESK_MAX_EVENT_STREAMS) {
        atomic_fetch_sub(&node_desk_g.streams, 1);
        return node_desk_text(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                              "too many live-update streams");
    }
    if ((st = calloc(1, sizeof(*st))) == NULL) {
        atomic_fetch_sub(&node_desk_g.streams, 1);
        return node_desk_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                              "out of memory");
    }
    snprintf(st->token, sizeof(st->token), "%s", r->token);
    pthread_mutex_lock(&node_desk_g.store_lock);
    if (node_store_data_version(node_desk_g.d->store, &st->v_store, &err) != 0)
        st->v_store = 0;
    pthread_mutex_unlock(&node_desk_g.store_lock);
    if (node_users_data_version(node_desk_g.u, &st->v_users, &err) != 0)
        st->v_users = 0;
    st->beat = st->check = ewh_mono_ms();
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, s_sse_cb,
                                             st, s_sse_free);
    if (resp == NULL) {
        s_sse_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    rc = MHD_queue_response(r->c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return rc;
}
