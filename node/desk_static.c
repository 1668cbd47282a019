/* desk_static.c — the desk's style sheet, script and alert sound, built
 * into the binary: nothing is fetched from anywhere else. */
#include "desk.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

static const char s_css[] =
    "*{box-sizing:border-box}"
    "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;"
    "background:#f4f5f7}"
    "header{background:#1d3557;color:#fff;padding:.5em 1em;display:flex;"
    "gap:1.2em;align-items:center;flex-wrap:wrap}"
    "header a{color:#fff;text-decoration:none;font-weight:600}"
    "header .who{margin-left:auto;font-size:.9em}"
    "header form{display:inline}"
    "main{padding:1em;max-width:1200px;margin:auto}"
    "table{border-collapse:collapse;width:100%;background:#fff}"
    "th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid #ddd;"
    "vertical-align:top}"
    "tr.high td:first-child{border-left:6px solid #c1121f}"
    "tr.medium td:first-child{border-left:6px solid #e09f3e}"
    "tr.low td:first-child{border-left:6px solid #8d99ae}"
    ".lvl-high{color:#c1121f;font-weight:700}"
    ".banner{background:#c1121f;color:#fff;padding:.7em 1em;margin:0 0 1em;"
    "border-radius:4px;font-weight:600}"
    ".banner a{color:#fff}"
    ".banner.escalated{font-size:1.35em;outline:4px solid #ffbe0b;"
    "animation:blink 1s step-start infinite}"
    "@keyframes blink{50%{background:#7a0010}}"
    ".notice{background:#fff3cd;border:1px solid #e09f3e;padding:.5em 1em;"
    "margin:0 0 1em}"
    ".error{color:#c1121f;font-weight:600;margin:.2em 0}"
    ".ok{color:#2a9d8f;font-weight:600}"
    "form.stack label{display:block;margin-top:.8em;font-weight:600}"
    "form.stack label.cc{display:inline-block;font-weight:400;"
    "margin-right:1.2em}"
    "form.stack input[type=text],form.stack input[type=password],"
    "form.stack select,form.stack textarea{width:100%;max-width:40em;"
    "padding:.35em;font:inherit}"
    "form.stack textarea{height:12em}"
    "form.stack textarea.short{height:4em}"
    ".guide{background:#fff;border:1px solid #ddd;padding:.3em 1em;"
    "margin:.5em 0;max-width:40em}"
    ".guide dl{padding:.3em 0;grid-template-columns:9em 1fr}"
    ".guide .chosen{background:#fff3cd}"
    "button{font:inherit;padding:.35em 1em;cursor:pointer}"
    "button.ack{background:#c1121f;color:#fff;border:0;font-weight:700}"
    "dl{display:grid;grid-template-columns:12em 1fr;background:#fff;"
    "padding:1em;gap:.3em}"
    "dt{font-weight:600}"
    "pre.body{white-space:pre-wrap;background:#fff;padding:1em;"
    "border:1px solid #ddd}"
    ".filters{margin:0 0 1em}"
    ".filters *{margin-right:.4em}"
    ".sound{font-size:.85em;opacity:.8}";

/* Live updates: an EventSource on /events; on each "change" every element
 * with data-live is refetched from its URL (HTML the server escaped) and
 * the alarm follows the banner.  No inline script anywhere (CSP). */
static const char s_js[] =
    "(function () {\n"
    "  'use strict';\n"
    "  var audio = null, blocked = false;\n"
    "  function alarm() {\n"
    "    var b = document.querySelector('.banner[data-alert]');\n"
    "    if (!b) { if (audio) { audio.pause(); } return; }\n"
    "    if (!audio) { audio = new Audio('/static/alert.wav'); "
    "audio.loop = true; }\n"
    "    var loud = b.classList.contains('escalated');\n"
    "    audio.volume = loud ? 1.0 : 0.45;\n"
    "    audio.playbackRate = loud ? 1.5 : 1.0;\n"
    "    var p = audio.play();\n"
    "    if (p && p.catch) { p.catch(function () { blocked = true; "
    "var s = document.getElementById('sound'); "
    "if (s) { s.hidden = false; } }); }\n"
    "  }\n"
    "  function refresh() {\n"
    "    var els = document.querySelectorAll('[data-live]');\n"
    "    var todo = els.length;\n"
    "    if (todo === 0) { alarm(); return; }\n"
    "    els.forEach(function (el) {\n"
    "      fetch(el.getAttribute('data-live'), {credentials: "
    "'same-origin', cache: 'no-store'})\n"
    "        .then(function (r) { if (r.status === 401) { "
    "window.location = '/login'; } return r.ok ? r.text() : null; })\n"
    "        .then(function (t) { if (t !== null) { el.innerHTML = t; } })\n"
    "        .catch(function () {})\n"
    "        .then(function () { if (--todo === 0) { alarm(); } });\n"
    "    });\n"
    "  }\n"
    "  document.addEventListener('click', function () {\n"
    "    if (blocked) { blocked = false; var s = "
    "document.getElementById('sound'); if (s) { s.hidden = true; } "
    "alarm(); }\n"
    "  });\n"
    "  function listen() {\n"
    "    var es = new EventSource('/events');\n"
    "    es.addEventListener('change', refresh);\n"
    "    es.onerror = function () {\n"
    "      if (es.readyState === 2) { setTimeout(function () { listen(); "
    "refresh(); }, 3000); }\n"
    "    };\n"
    "  }\n"
    "  /* The submit form: the catalogue's guidance for the area chosen, the\n"
    "   * chosen level marked, and a hint when the level departs from the\n"
    "   * area's default with no reason given (the server warns too). */\n"
    "  function guide() {\n"
    "    var cat = document.getElementById('category');\n"
    "    var lvl = document.getElementById('level');\n"
    "    var why = document.getElementById('reason');\n"
    "    var hint = document.getElementById('departs');\n"
    "    if (!cat || !lvl || !document.getElementById('guidance')) { return; "
    "}\n"
    "    function show() {\n"
    "      var def = null;\n"
    "      document.querySelectorAll('.guide[data-area]').forEach("
    "function (g) {\n"
    "        var on = g.getAttribute('data-area') === cat.value;\n"
    "        g.hidden = !on;\n"
    "        if (on) { def = g.getAttribute('data-default'); }\n"
    "        g.querySelectorAll('[data-level]').forEach(function (e) {\n"
    "          e.classList.toggle('chosen', "
    "e.getAttribute('data-level') === lvl.value);\n"
    "        });\n"
    "      });\n"
    "      if (!hint) { return; }\n"
    "      var off = def !== null && def !== lvl.value && "
    "(!why || why.value.trim() === '');\n"
    "      hint.hidden = !off;\n"
    "      hint.textContent = off ? 'Level ' + lvl.value + ' departs from "
    "the catalogue\\'s default (' + def + ') for ' + cat.value + ': "
    "say why here, or the report goes with a warning.' : '';\n"
    "    }\n"
    "    cat.addEventListener('change', show);\n"
    "    lvl.addEventListener('change', show);\n"
    "    if (why) { why.addEventListener('input', show); }\n"
    "    show();\n"
    "  }\n"
    "  guide();\n"
    "  if (document.querySelector('[data-live]') && window.EventSource) {\n"
    "    listen();\n"
    "  }\n"
    "  alarm();\n"
    "})();\n";

/* The alert sound: two tones, 0.6 s, 8 kHz 8-bit mono PCM, computed on
 * first use. */
#define S_RATE    8000
#define S_SAMPLES (S_RATE * 6 / 10)
static unsigned char s_wav[44 + S_SAMPLES];
static pthread_once_t s_wav_once = PTHREAD_ONCE_INIT;

static void
s_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void
s_wav_make(void)
{
    unsigned char *h = s_wav;
    size_t i;

    memcpy(h, "RIFF", 4);
    s_le32(h + 4, 36 + S_SAMPLES);
    memcpy(h + 8, "WAVEfmt ", 8);
    s_le32(h + 16, 16);
    h[20] = 1; /* PCM */
    h[21] = 0;
    h[22] = 1; /* mono */
    h[23] = 0;
    s_le32(h + 24, S_RATE);
    s_le32(h + 28, S_RATE); /* bytes per second */
    h[32] = 1;              /* block align */
    h[33] = 0;
    h[34] = 8; /* bits per sample */
    h[35] = 0;
    memcpy(h + 36, "data", 4);
    s_le32(h + 40, S_SAMPLES);
    for (i = 0; i < S_SAMPLES; i++) {
        double t = (double)i / S_RATE;
        double f = i < S_SAMPLES / 3       ? 880.0
                   : i < 2 * S_SAMPLES / 3 ? 660.0
                                           : 0.0;
        double v = f > 0 ? sin(2 * M_PI * f * t) * 0.8 : 0.0;
        s_wav[44 + i] = (unsigned char)(128 + (int)(v * 127));
    }
}

static struct node_desk_file s_files[] = {
    {"/static/desk.css", "text/css; charset=utf-8",
     (const unsigned char *)s_css, sizeof(s_css) - 1},
    {"/static/desk.js", "text/javascript; charset=utf-8",
     (const unsigned char *)s_js, sizeof(s_js) - 1},
    {"/static/alert.wav", "audio/wav", s_wav, sizeof(s_wav)},
};

const struct node_desk_file *
node_desk_static(const char *path)
{
    size_t i;

    pthread_once(&s_wav_once, s_wav_make);
    for (i = 0; i < sizeof(s_files) / sizeof(s_files[0]); i++)
        if (strcmp(path, s_files[i].path) == 0)
            return &s_files[i];
    return NULL;
}
