/* linkstate.c — the agent's link state file (DIR/link.json) and the
 * hints the commands print from it. */
#include "linkstate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ewh/keyfile.h"
#include "ewh/log.h"
#include "ewh/util.h"

#define S_FILE      "link.json"
#define S_MAX_BYTES 16384 /* with "hubs": EWH_MAX_HUBS entries */

static const char *const s_names[] = {
    [NODE_LS_UNKNOWN] = "unknown",
    [NODE_LS_CONNECTING] = "connecting",
    [NODE_LS_CONNECTED] = "connected",
    [NODE_LS_DISCONNECTED] = "disconnected",
    [NODE_LS_UNREACHABLE] = "unreachable",
    [NODE_LS_HANDSHAKE] = "handshake-failed",
    [NODE_LS_REFUSED] = "refused",
    [NODE_LS_STOPPED] = "stopped",
};

const char *
node_linkstate_name(enum node_link_state s)
{
    return (unsigned)s < sizeof(s_names) / sizeof(s_names[0]) ? s_names[s]
                                                              : "unknown";
}

static enum node_link_state
s_from_name(const char *n)
{
    size_t i;

    for (i = 0; n != NULL && i < sizeof(s_names) / sizeof(s_names[0]); i++)
        if (strcmp(n, s_names[i]) == 0)
            return (enum node_link_state)i;
    return NODE_LS_UNKNOWN;
}

bool
node_linkstate_note(struct node_linkstate *ls, const char *hub,
                    enum node_link_state state, const char *reason)
{
    int64_t now = ewh_now();

    if (reason == NULL)
        reason = "";
    if (state == ls->state && strcmp(reason, ls->reason) == 0)
        return false;
    if (ls->state == NODE_LS_CONNECTED || state == NODE_LS_CONNECTED)
        ls->last_connected = now;
    if (state != ls->state)
        ls->since = now;
    if (ls->started == 0)
        ls->started = now;
    ls->state = state;
    ls->pid = (long)getpid();
    snprintf(ls->hub, sizeof(ls->hub), "%s", hub);
    snprintf(ls->reason, sizeof(ls->reason), "%s", reason);
    return true;
}

void
node_linkstate_set(const struct node_dir *d, struct node_linkstate *ls,
                   enum node_link_state state, const char *reason)
{
    if (node_linkstate_note(ls, d->cfg.hub, state, reason))
        node_linkstate_write(d, ls, NULL);
}

void
node_linkstate_write(const struct node_dir *d, const struct node_linkstate *ls,
                     json_t *hubs)
{
    struct ewh_err err = {0};
    char path[1200], *text;
    json_t *o;

    o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:s}", "state",
                  node_linkstate_name(ls->state), "since",
                  (json_int_t)ls->since, "last_connected",
                  (json_int_t)ls->last_connected, "started",
                  (json_int_t)ls->started, "pid", (json_int_t)ls->pid, "hub",
                  ls->hub, "reason", ls->reason);
    if (o != NULL && hubs != NULL)
        json_object_set(o, "hubs", hubs);
    text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (text == NULL) {
        ewh_log_warnx("agent: %s: out of memory", S_FILE);
        return;
    }
    node_dir_file(d, S_FILE, path, sizeof(path));
    if (ewh_keyfile_write(path, text, strlen(text), 0600, &err) != 0)
        ewh_log_warnx("agent: link state not recorded: %s", err.reason);
    free(text);
}

void
node_linkstate_read(const struct node_dir *d, struct node_linkstate *ls)
{
    char path[1200], *buf = NULL;
    const char *state = NULL, *hub = NULL, *reason = NULL;
    json_int_t since = 0, last = 0, started = 0, pid = 0;
    size_t len = 0;
    json_t *o;

    memset(ls, 0, sizeof(*ls));
    node_dir_file(d, S_FILE, path, sizeof(path));
    if (ewh_file_read(path, S_MAX_BYTES, &buf, &len, NULL) != 0)
        return;
    o = json_loadb(buf, len, 0, NULL);
    free(buf);
    if (o == NULL)
        return;
    if (json_unpack(o, "{s:s, s:I, s:I, s:I, s:I, s:s, s:s}", "state", &state,
                    "since", &since, "last_connected", &last, "started",
                    &started, "pid", &pid, "hub", &hub, "reason",
                    &reason) == 0) {
        ls->state = s_from_name(state);
        ls->since = since;
        ls->last_connected = last;
        ls->started = started;
        ls->pid = (long)pid;
        snprintf(ls->hub, sizeof(ls->hub), "%s", hub);
        snprintf(ls->reason, sizeof(ls->reason), "%s", reason);
    }
    {
        json_t *hubs = json_object_get(o, "hubs"), *e;
        size_t i;
        json_array_foreach(hubs, i, e)
        {
            ls->n_hubs++;
            if (json_is_true(json_object_get(e, "connected")))
                ls->n_connected++;
        }
    }
    json_decref(o);
}

/* Local time (TZ) for people. */
static const char *
s_time(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || localtime_r(&tt, &tm) == NULL ||
        strftime(buf, cap, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
        snprintf(buf, cap, "never");
    return buf;
}

/* The hint, printed to out unless out is NULL. */
static enum node_link_state
s_hint(const struct node_dir *d, const char *cmd, FILE *out)
{
    struct node_linkstate ls;
    char t1[64], t2[64];
    long pid = node_dir_agent_pid(d);

    node_linkstate_read(d, &ls);
    if (pid == 0) {
        if (out == NULL)
            return NODE_LS_STOPPED;
        fprintf(out,
                "ewnode %s: the agent is not running on %s: nothing is sent "
                "or received until it runs (ewnode run --dir %s, or "
                "systemctl start ewnode)",
                cmd, d->path, d->path);
        if (ls.last_connected > 0)
            fprintf(out, "; last connected to the hub %s",
                    s_time(ls.last_connected, t1, sizeof(t1)));
        fputc('\n', out);
        return NODE_LS_STOPPED;
    }
    /* The file is the running agent's only if it wrote its pid there. */
    if (ls.pid != pid)
        return NODE_LS_UNKNOWN;
    /* Several hubs (docs/redundancy.md): reports move while any one of
     * them is connected. */
    if (ls.n_connected > 0)
        return NODE_LS_CONNECTED;
    switch (ls.state) {
    case NODE_LS_CONNECTED:
        return NODE_LS_CONNECTED;
    case NODE_LS_REFUSED:
        if (out == NULL)
            return NODE_LS_REFUSED;
        fprintf(out,
                "ewnode %s: the hub refuses this node since %s (%s): "
                "nothing is sent or received; ask the hub operator "
                "(ewhub status shows the roster)\n",
                cmd, s_time(ls.since, t1, sizeof(t1)), ls.reason);
        return NODE_LS_REFUSED;
    case NODE_LS_CONNECTING:
    case NODE_LS_DISCONNECTED:
        /* Just started, or a reconnect under way: say so only once it
         * has taken a while. */
        if (ewh_now() - ls.since < NODE_LS_WARN_MS / 1000)
            return NODE_LS_UNKNOWN;
        /* fall through */
    default:
        if (out == NULL)
            return ls.state;
        fprintf(out,
                "ewnode %s: the agent (pid %ld) has not been connected to "
                "the hub %s since %s (%s since %s%s%s); reports wait in the "
                "outbox\n",
                cmd, pid, ls.hub,
                ls.last_connected > 0
                    ? s_time(ls.last_connected, t1, sizeof(t1))
                    : "it started",
                node_linkstate_name(ls.state), s_time(ls.since, t2, sizeof(t2)),
                ls.reason[0] ? ": " : "", ls.reason);
        return ls.state;
    }
}

enum node_link_state
node_linkstate_hint(const struct node_dir *d, const char *cmd, FILE *out)
{
    return s_hint(d, cmd, out);
}

int
node_linkstate_follow(const struct node_dir *d, const char *cmd, int last,
                      FILE *out)
{
    enum node_link_state now = s_hint(d, cmd, NULL);

    if ((int)now == last)
        return last;
    if (now == NODE_LS_CONNECTED) {
        if (last != -1)
            fprintf(out, "ewnode %s: the agent is connected to the hub\n", cmd);
    } else if (now != NODE_LS_UNKNOWN)
        (void)s_hint(d, cmd, out);
    return (int)now;
}

json_t *
node_linkstate_json(const struct node_dir *d)
{
    struct node_linkstate ls;
    long pid = node_dir_agent_pid(d);
    bool mine;

    node_linkstate_read(d, &ls);
    mine = pid != 0 && ls.pid == pid;
    return json_pack(
        "{s:b, s:s, s:o, s:o, s:s}", "agent_running", pid != 0, "state",
        pid == 0 ? "stopped"
        : mine   ? node_linkstate_name(ls.state)
                 : "connecting",
        "since", mine && ls.since ? json_integer(ls.since) : json_null(),
        "last_connected",
        ls.last_connected ? json_integer(ls.last_connected) : json_null(),
        "reason", mine ? ls.reason : "");
}
