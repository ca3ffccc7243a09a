/*
 * test_hub_web_hostile.c: the hostile-HTTP suite of the layer (test_http.c)
 * sent to the city's real pages: a real `gridhub web --bind 127.0.0.1:0` on
 * a small hub (Luohe's divisions, villages and categories; 营王村 of 繁城回族镇
 * with a node and an incident, 杜街村 of 杜曲镇 with an incident only the
 * city may see; a city user and a 繁城 township user), asked over raw
 * sockets (gstest_http.h) what no browser sends.
 *
 * After every hostile request: its status is the refusal the layer or the
 * page gives (never a 5xx); the hub's database itself, read with SQLite
 * (users with their password hashes, the audit log, the change log, the
 * quarantine, the nodes with their keys, the incidents), is what it was;
 * and the server still answers the city's next request.
 *
 * Tests: oversized headers and request lines (431) and bodies (413);
 * malformed forms and JSON bodies (400), duplicate fields that smuggle
 * nothing; path traversal on /static and /assets (404); every route that
 * changes something without or with a wrong CSRF token, from a foreign
 * Origin or Host (403/400); a foreign Host on a page; SQL in every filter of
 * the queue and in area paths (inert); a township user asking for the other
 * township through each variant (403/404, nothing of it in the answer);
 * HTTPS with --tls-cert/--tls-key (a self-signed certificate made here: the
 * login page over TLS with a Secure cookie, plain HTTP to the port refused)
 * and bad certificate files refused with one line naming them; two slow
 * senders cut off at the header deadline.
 *
 * The layer's header deadline is 30 s and not an option of gridhub web, so
 * the slow senders are a process the fixture forks right after the server
 * starts, running beside everything else; the last test reads what it saw.
 * The fixture is unchecked (one hub and one server for all the tests, each
 * test comparing its own before and after), so that the whole takes about
 * the deadline.
 */
#include <check.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gridsync/buf.h"
#include "gridsync/http.h"
#include "gstest_cli.h"
#include "gstest_http.h"

#define COUNTY     "411122"
#define TOWNSHIP_A "411122101"    /* 繁城回族镇, the township user's */
#define TOWNSHIP_B "411122102"    /* 杜曲镇 */
#define VILLAGE_A  "411122101201" /* 营王村 */
#define VILLAGE_B  "411122102201" /* 杜街村 */
#define PASSWORD   "hostile-pass-8"
#define TITLE_A    "营王村楼道漏水"
#define TITLE_B    "杜街机密事件"
#define DEADLINE_S 30 /* the layer's header deadline (gs_http_limits.timeout_s) */

#define CT_FORM "Content-Type: application/x-www-form-urlencoded\r\n"
#define CT_JSON "Content-Type: application/json\r\n"
#define ZEROS   "0000000000000000000000000000000000000000000000000000000000000000"
#define CLOSED  -1 /* a wanted status: the connection closed without an answer */
#define N_OF(t) (sizeof(t) / sizeof(t)[0])

static char *tmp;
static char hub_db[PATH_MAX], web_log[PATH_MAX], slow_out[PATH_MAX];
static gst_procs procs;
static gst_result R;
static uint16_t port;
static pid_t web, slow;
static gst_http_session city, town, anon; /* logged in, logged in, at the login page */
static char id_a[64], id_b[64];           /* the incidents of 营王村 and 杜街村 */

#define GH_OK(...)                                                                                 \
    do {                                                                                           \
        int st_ = gst_cmd(&R, true, "gridhub", hub_db, __VA_ARGS__, (const char *)NULL);           \
        ck_assert_msg(st_ == 0, "gridhub %s: exit %d\n%s", #__VA_ARGS__, st_, R.err);              \
    } while (0)

/* A normal request of the city, answered. */
static void still_serving(const char *after)
{
    char path[100];
    snprintf(path, sizeof path, "/incident/%s", id_a);
    gst_http_answer h = gst_http_request(port, "GET", path, city.cookie, NULL);
    ck_assert_msg(h.status == 200 && strstr(h.body, TITLE_A),
                  "after %s: the city's %s: %d\n%.2000s", after, path, h.status, h.text);
    gst_http_answer_free(&h);
}

/* ---- hostile requests as data ------------------------------------------------------------ */

enum { CITY, TOWN, ANON, NOBODY }; /* whose session a request is sent in */

/* One request: its method and path ("GET /path"), header lines and body as
 * templates (expand), sent in the session of who; want: the statuses that
 * may answer it (0 ends the list, CLOSED: no answer). */
typedef struct hostile_req {
    const char *what;
    int who;
    const char *line, *headers, *body;
    int want[3];
} hostile_req;

static const gst_http_session *session_of(int who)
{
    return who == CITY ? &city : who == TOWN ? &town : who == ANON ? &anon : NULL;
}

/* n bytes c onto b. */
static void repeat(gs_buf *b, char c, size_t n)
{
    char chunk[4096];
    memset(chunk, c, sizeof chunk);
    for (size_t k; n; n -= k) {
        k = n < sizeof chunk ? n : sizeof chunk;
        gs_buf_append(b, chunk, k);
    }
}

/* Expands the placeholders of a template into b: $P the port, $K the cookie
 * line of who's session, $R its CSRF token, $r that token cut short by one,
 * $W another session's token, $A $B the incidents, $N the node; $BIG 20,000
 * bytes of 'a', $HUGE 200 KiB, $MB 1 MiB; $MANY 600 header lines, $FIELDS
 * 1,001 form fields, $DEEP a JSON array 10,000 deep. */
static void expand(gs_buf *b, const char *t, int who)
{
    const gst_http_session *s = session_of(who);
    const gst_http_session *other = who == CITY ? &town : &city;
    while (*t) {
        if (*t != '$') {
            gs_buf_putc(b, *t++);
            continue;
        }
        t++;
#define IS(name) (!strncmp(t, name, strlen(name)) && (t += strlen(name)))
        if (IS("BIG"))
            repeat(b, 'a', 20000);
        else if (IS("HUGE"))
            repeat(b, 'b', 200 * 1024);
        else if (IS("MB"))
            repeat(b, 'c', 1024 * 1024);
        else if (IS("MANY"))
            for (int i = 0; i < 600; i++)
                gs_buf_printf(b, "X-H%d: 0123456789\r\n", i);
        else if (IS("FIELDS"))
            for (int i = 0; i < 1001; i++)
                gs_buf_printf(b, "%sf%d=1", i ? "&" : "", i);
        else if (IS("DEEP"))
            repeat(b, '[', 10000), repeat(b, ']', 10000);
        else if (IS("P"))
            gs_buf_printf(b, "%u", (unsigned)port);
        else if (IS("K"))
            gs_buf_puts(b, s ? s->cookie : "");
        else if (IS("R"))
            gs_buf_puts(b, s ? s->csrf : "");
        else if (IS("r"))
            gs_buf_printf(b, "%.63s", s ? s->csrf : "");
        else if (IS("W"))
            gs_buf_puts(b, other->csrf);
        else if (IS("A"))
            gs_buf_puts(b, id_a);
        else if (IS("B"))
            gs_buf_puts(b, id_b);
        else if (IS("N"))
            gs_buf_puts(b, VILLAGE_A "-1");
        else
            ck_abort_msg("unknown placeholder at $%.10s", t);
#undef IS
    }
}

/* The bytes of c: the request line, Host (unless the headers hold one or
 * say "$NOHOST"), Connection: close, the headers, a Content-Length (unless
 * given) and the body. */
static void build(gs_buf *req, const hostile_req *c)
{
    gs_buf head = GS_BUF_INIT, body = GS_BUF_INIT, line = GS_BUF_INIT;
    expand(&line, c->line, c->who);
    const char *h = c->headers ? c->headers : "$K";
    bool nohost = !strncmp(h, "$NOHOST", 7);
    expand(&head, nohost ? h + 7 : h, c->who);
    if (c->body)
        expand(&body, c->body, c->who);
    gs_buf_printf(req, "%s HTTP/1.1\r\n", line.data);
    if (!nohost && !strstr(head.data ? head.data : "", "Host:"))
        gs_buf_printf(req, "Host: 127.0.0.1:%u\r\n", (unsigned)port);
    gs_buf_printf(req, "Connection: close\r\n%s", head.data ? head.data : "");
    if (c->body && !strstr(head.data ? head.data : "", "Content-Length:"))
        gs_buf_printf(req, "Content-Length: %zu\r\n", body.len);
    gs_buf_puts(req, "\r\n");
    if (body.len)
        gs_buf_append(req, body.data, body.len);
    ck_assert_int_eq(req->err | head.err | body.err | line.err, 0);
    gs_buf_free(&head);
    gs_buf_free(&body);
    gs_buf_free(&line);
}

/* Sends raw bytes as c and checks what every hostile request must give: one
 * of c's statuses, never a 5xx, the hub's database unchanged, the server
 * still answering. The answer for more checks; the caller frees it. */
static gst_http_answer send_hostile(const hostile_req *c, const char *req, size_t len)
{
    char *before = gst_hub_state(hub_db);
    gst_http_answer a = gst_http_raw(port, req, len);
    int got = a.status ? a.status : CLOSED;
    bool ok = false;
    for (int i = 0; i < 3 && c->want[i]; i++)
        ok |= got == c->want[i];
    ck_assert_msg(ok, "%s (%.100s): status %d, want %d\n%.2000s", c->what, c->line, got, c->want[0],
                  a.text);
    ck_assert_msg(a.status < 500, "%s: %d", c->what, a.status);
    char *after = gst_hub_state(hub_db);
    ck_assert_msg(!strcmp(before, after), "%s stored something:\nbefore\n%s\nafter\n%s", c->what,
                  before, after);
    free(before);
    free(after);
    still_serving(c->what);
    return a;
}

static gst_http_answer hostile(const hostile_req *c)
{
    gs_buf req = GS_BUF_INIT;
    build(&req, c);
    gst_http_answer a = send_hostile(c, req.data, req.len);
    gs_buf_free(&req);
    return a;
}

/* Every request of a table, each answer checked for what must not be in it. */
static void hostile_all(const hostile_req *c, size_t n, const char *const *absent)
{
    for (size_t i = 0; i < n; i++) {
        gst_http_answer a = hostile(&c[i]);
        for (const char *const *x = absent; x && *x; x++)
            ck_assert_msg(!strstr(a.text, *x), "%s: the answer holds \"%s\":\n%.3000s", c[i].what,
                          *x, a.text);
        gst_http_answer_free(&a);
    }
}

/* ---- the hub and its server ------------------------------------------------------------- */

/* 上级交办 by the city: an incident for village; its id into id. */
static void hand_down(const char *village, const char *title, char id[64])
{
    gs_buf f = GS_BUF_INIT;
    gs_buf_printf(&f, "_csrf=%s&_village=%s&_status=reported&category=dispute&title=", city.csrf,
                  village);
    gs_url_escape(&f, title);
    gs_buf_puts(&f, "&deadline=2099-06-30");
    gst_http_answer h = gst_http_post_form(port, "/incidents/new", &city, f.data);
    gs_buf_free(&f);
    char loc[300];
    ck_assert_msg(h.status == 303 && gst_http_header(&h, "Location", loc, sizeof loc),
                  "上级交办 %s: %d\n%.3000s", village, h.status, h.text);
    gst_http_answer_free(&h);
    snprintf(id, 64, "%.*s", (int)strcspn(loc + 10, "?"), loc + 10); /* /incident/ID?ok=... */
}

/* Once for the TCase, in Check's parent: the hub, its server, the slow
 * senders at once, then the data and the sessions. */
static void setup_hub(void)
{
    tmp = gst_tmpdir();
    snprintf(hub_db, sizeof hub_db, "%s/hub.db", tmp);
    snprintf(web_log, sizeof web_log, "%s/web.log", tmp);
    snprintf(slow_out, sizeof slow_out, "%s/slow.txt", tmp);
    GH_OK("init");
    const char *argv[] = {"gridhub", "--db", hub_db, "web", "--bind", "127.0.0.1:0", NULL};
    port = gst_http_serve(&procs, argv, web_log, &web);
    slow = gst_http_slow_start(port, slow_out, DEADLINE_S + 15);
    GH_OK("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    GH_OK("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_villages.csv");
    GH_OK("refdata", "load", "categories", GS_TEST_SRC_DIR "/data/incident_categories.csv");
    char bundle[PATH_MAX];
    snprintf(bundle, sizeof bundle, "%s/a.bundle", tmp);
    GH_OK("node", "add", "--village", VILLAGE_A, "--name", "村委会电脑", "--endpoint",
          "tcp://127.0.0.1:7700", "--out", bundle);
    gst_hub_user(hub_db, "city", "市民政局", "city", NULL, PASSWORD);
    gst_hub_user(hub_db, "fancheng", "繁城镇干部", "township", TOWNSHIP_A, PASSWORD);
    city = gst_http_login(port, "city", PASSWORD, "/incidents");
    town = gst_http_login(port, "fancheng", PASSWORD, "/incidents");
    gst_http_answer h = gst_http_request(port, "GET", "/login", NULL, NULL);
    ck_assert(gst_http_take_session(&h, GST_HTTP_CSRF_FIELD, &anon));
    gst_http_answer_free(&h);
    hand_down(VILLAGE_A, TITLE_A, id_a);
    hand_down(VILLAGE_B, TITLE_B, id_b);
}

static void teardown_hub(void)
{
    if (slow > 0) {
        kill(slow, SIGKILL);
        waitpid(slow, NULL, 0);
        slow = 0;
    }
    gst_teardown(&procs, &R, &tmp);
}

/* ==== size ================================================================================ */

START_TEST(oversized_headers)
{
    /* clang-format off */
    static const hostile_req big[] = {
        {"a 20 KB header", CITY, "GET /incidents", "$KX-Big: $BIG\r\n", NULL, {431}},
        {"a 20 KB query", CITY, "GET /incidents?q=$BIG", "$K", NULL, {431}},
        {"a 20 KB path", CITY, "GET /area/$BIG", "$K", NULL, {431}},
        {"a 20 KB cookie", CITY, "GET /incidents", "$KCookie: x=$BIG\r\n", NULL, {431}},
        {"600 header lines", CITY, "GET /incidents", "$K$MANY", NULL, {431}},
        {"a 20 KB header on a user add", CITY, "POST /users", "$KX-Big: $BIG\r\n" CT_FORM,
         "_csrf=$R&name=x&login=big-head&role=city", {431}},
        {"a 20 KB header on a login", ANON, "POST /login", "$KX-Big: $BIG\r\n" CT_FORM,
         "_csrf=$R&user=city&password=" PASSWORD, {431}},
        {"200 KB of headers", CITY, "GET /incidents", "$KX-Huge: $HUGE\r\n", NULL, {431, CLOSED}},
        {"a 200 KB request line", CITY, "GET /incidents?q=$HUGE", "$K", NULL, {414, 431, CLOSED}},
    };
    /* clang-format on */
    hostile_all(big, N_OF(big), NULL);
}
END_TEST

START_TEST(oversized_bodies)
{
    /* clang-format off */
    static const hostile_req big[] = {
        {"a user add of 20 MiB and a byte", CITY, "POST /users",
         "$KContent-Length: 20971521\r\n" CT_FORM, "_csrf=$R&name=x&login=big-body&role=city",
         {413}},
        {"a decision of 1 TiB", CITY, "POST /incident/$A/status",
         "$KContent-Length: 1099511627776\r\n" CT_FORM, "_csrf=$R&status=accepted", {413}},
        {"a Content-Length past 64 bits", CITY, "POST /incidents/new",
         "$KContent-Length: 99999999999999999999999\r\n" CT_FORM, "_csrf=$R", {400, 413}},
        {"a negative Content-Length", CITY, "POST /users", "$KContent-Length: -1\r\n" CT_FORM,
         "_csrf=$R&name=x&login=neg-body&role=city", {400, 413}},
        {"two Content-Lengths", CITY, "POST /users",
         "$KContent-Length: 41\r\nContent-Length: 30000000\r\n" CT_FORM,
         "_csrf=$R&name=x&login=two-lengths&role=city", {400, 403, 413}},
    };
    /* clang-format on */
    hostile_all(big, N_OF(big), NULL);

    /* 21 MiB sent, with its length and chunked without one: fields that would
     * be stored, then a field that pads them past the limit */
    /* clang-format off */
    static const hostile_req sent[] = {
        {"21 MiB of user add", CITY, "POST /users", NULL,
         "_csrf=$R&name=x&login=big-21m&role=city", {413, CLOSED}},
        {"21 MiB of 上级交办, chunked", CITY, "POST /incidents/new", NULL,
         "_csrf=$R&_village=" VILLAGE_A "&category=dispute&title=big&deadline=2099-01-01",
         {413, CLOSED}},
    };
    /* clang-format on */
    for (size_t i = 0; i < N_OF(sent); i++) {
        gs_buf req = GS_BUF_INIT, body = GS_BUF_INIT;
        expand(&body, sent[i].body, CITY);
        gs_buf_puts(&body, "&_pad=");
        repeat(&body, 'x', 21u << 20);
        gs_buf_printf(&req, "%s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%s" CT_FORM, sent[i].line,
                      (unsigned)port, city.cookie);
        if (i == 0) {
            gs_buf_printf(&req, "Content-Length: %zu\r\n\r\n", body.len);
            gs_buf_append(&req, body.data, body.len);
        } else {
            gs_buf_puts(&req, "Transfer-Encoding: chunked\r\n\r\n");
            for (size_t off = 0; off < body.len; off += 65536) {
                size_t k = body.len - off < 65536 ? body.len - off : 65536;
                gs_buf_printf(&req, "%zx\r\n", k);
                gs_buf_append(&req, body.data + off, k);
                gs_buf_puts(&req, "\r\n");
            }
            gs_buf_puts(&req, "0\r\n\r\n");
        }
        ck_assert_int_eq(req.err | body.err, 0);
        gst_http_answer a = send_hostile(&sent[i], req.data, req.len);
        gst_http_answer_free(&a);
        gs_buf_free(&req);
        gs_buf_free(&body);
    }
}
END_TEST

/* ==== forms and bodies ====================================================================== */

START_TEST(malformed_forms_and_json)
{
    /* clang-format off */
    static const hostile_req bad[] = {
        {"invalid UTF-8", CITY, "POST /users", "$K" CT_FORM,
         "_csrf=$R&name=%FF%FE&login=bad-utf8&role=city", {400}},
        {"a UTF-8 sequence cut short", CITY, "POST /users", "$K" CT_FORM,
         "_csrf=$R&name=%E5%BC&login=bad-cut&role=city", {400}},
        {"a NUL byte", CITY, "POST /users", "$K" CT_FORM,
         "_csrf=$R&name=a%00b&login=bad-nul&role=city", {400}},
        {"a bad percent escape", CITY, "POST /users", "$K" CT_FORM,
         "_csrf=$R&name=x&login=bad%ZZ&role=city", {400}},
        {"a lone percent", CITY, "POST /users", "$K" CT_FORM,
         "_csrf=$R&name=x&login=bad%&role=city", {400}},
        {"a 1 MiB field", CITY, "POST /users", "$K" CT_FORM,
         "_csrf=$R&name=$MB&login=bad-huge&role=city", {400}},
        {"a 200 KiB field name", CITY, "POST /users", "$K" CT_FORM,
         "_csrf=$R&$HUGE=1&name=x&login=bad-key&role=city", {400}},
        {"1,001 fields", CITY, "POST /users", "$K" CT_FORM,
         "_csrf=$R&name=x&login=bad-many&role=city&$FIELDS", {400}},
        {"a role twice, the first wanting a division", CITY, "POST /users", "$K" CT_FORM,
         "_csrf=$R&name=x&login=dup-role&role=township&role=city", {400}},
        {"a forbidden step, then an allowed one", CITY, "POST /incident/$A/status", "$K" CT_FORM,
         "_csrf=$R&status=closed&status=accepted", {409}},
        {"multipart without a boundary", CITY, "POST /users",
         "$KX-CSRF-Token: $R\r\nContent-Type: multipart/form-data\r\n", "--x\r\n\r\n", {400}},
        {"multipart cut off", CITY, "POST /users",
         "$KX-CSRF-Token: $R\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n",
         "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx\r\n--XyZ\r\n"
         "Content-Disposition: form-data; name=\"login\"\r\n\r\nbad-cut-multipart",
         {400}},
        {"a form sent as text/plain", CITY, "POST /users",
         "$KX-CSRF-Token: $R\r\nContent-Type: text/plain\r\n", "name=x&login=bad-plain&role=city",
         {400}},
        /* the city's pages take no JSON: a JSON body finds no fields */
        {"JSON to a form route", CITY, "POST /users", "$KX-CSRF-Token: $R\r\n" CT_JSON,
         "{\"name\": \"x\", \"login\": \"bad-json\", \"role\": \"city\"}", {400}},
        {"malformed JSON", CITY, "POST /users", "$KX-CSRF-Token: $R\r\n" CT_JSON, "{\"name\": ",
         {400}},
        {"JSON 10,000 deep", CITY, "POST /incident/$A/status", "$KX-CSRF-Token: $R\r\n" CT_JSON,
         "$DEEP", {400}},
        {"JSON to an API path", CITY, "POST /api/users", "$KX-CSRF-Token: $R\r\n" CT_JSON,
         "{\"login\": \"bad-api\"}", {404}},
    };
    /* clang-format on */
    hostile_all(bad, N_OF(bad), NULL);
}
END_TEST

/* ==== paths ================================================================================== */

START_TEST(static_paths_stay_in_the_table)
{
    gst_http_answer a = gst_http_request(port, "GET", "/static/city.css", NULL, NULL);
    ck_assert_int_eq(a.status, 200); /* what the table has is served */
    gst_http_answer_free(&a);
    /* clang-format off */
    static const hostile_req walk[] = {
        {"../", NOBODY, "GET /static/../../../../etc/passwd", "", NULL, {404}},
        {"%2e%2e/", NOBODY, "GET /static/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "", NULL, {404}},
        {"..%2f", NOBODY, "GET /static/..%2f..%2f..%2fetc%2fpasswd", "", NULL, {404}},
        {"%2e%2e%2f to the database", NOBODY, "GET /static/%2e%2e%2f%2e%2e%2fhub.db", "", NULL,
         {404}},
        {"..%5c", NOBODY, "GET /static/..%5c..%5c..%5cetc%5cpasswd", "", NULL, {404}},
        {"double-encoded", NOBODY, "GET /static/%252e%252e/%252e%252e/etc/passwd", "", NULL, {404}},
        {"an absolute path", NOBODY, "GET /static//etc/passwd", "", NULL, {404}},
        {"through a real asset", NOBODY, "GET /static/city.css/../../../etc/passwd", "", NULL,
         {404}},
        {"./", NOBODY, "GET /static/./city.css", "", NULL, {404}},
        {"a NUL after a real asset", NOBODY, "GET /static/city.css%00.txt", "", NULL, {400}},
        {"/assets/../", NOBODY, "GET /assets/../../etc/passwd", "", NULL, {404}},
        {"/assets/%2e%2e", NOBODY, "GET /assets/%2e%2e/%2e%2e/etc/passwd", "", NULL, {404}},
        {"/assets/ with a cookie", CITY, "GET /assets/..%2f..%2fetc%2fpasswd", "$K", NULL, {404}},
        {"the root's parent", NOBODY, "GET /%2e%2e/%2e%2e/etc/passwd", "", NULL, {404}},
        {"an area's parent", CITY, "GET /area/..%2f..%2fusers", "$K", NULL, {404}},
        {"an incident's parent", CITY, "GET /incident/..%2f..%2fetc%2fpasswd", "$K", NULL, {404}},
    };
    /* clang-format on */
    static const char *const absent[] = {"root:", "SQLite format", NULL};
    hostile_all(walk, N_OF(walk), absent);
}
END_TEST

/* ==== the gates of what changes something =================================================== */

/* Every route that changes something, with fields that would do it. */
static const struct changing {
    const char *path, *fields;
} changing[] = {
    {"/login", "user=city&password=" PASSWORD},
    {"/logout", "x=1"},
    {"/users", "name=x&login=forged&role=city"},
    {"/users/disable", "login=fancheng"},
    {"/users/enable", "login=fancheng"},
    {"/incidents/new",
     "_village=" VILLAGE_A "&_status=accepted&category=dispute&title=forged&deadline=2099-01-01"},
    {"/incident/$A/status", "status=accepted"},
    {"/nodes", "village=" VILLAGE_A "&name=forged&endpoint=tcp://127.0.0.1:7700"},
    {"/nodes/revoke", "id=$N"},
    {"/nodes/enable", "id=$N"},
    {"/nodes/rekey", "id=$N&endpoint=tcp://127.0.0.1:7700"},
};

/* What a forger sends in place of the form's token. */
static const struct forgery {
    const char *what, *query, *headers, *token;
    int status, at_login; /* the refusal; at /login (public) when it differs */
    const char *says;     /* in the answer: the gate that refused it */
} forged[] = {
    {"no token", "", "$K" CT_FORM, "", 403, 0, "CSRF"},
    {"an empty token", "", "$K" CT_FORM, "_csrf=&", 403, 0, "CSRF"},
    {"a made-up token", "", "$K" CT_FORM, "_csrf=" ZEROS "&", 403, 0, "CSRF"},
    {"another session's token", "", "$K" CT_FORM, "_csrf=$W&", 403, 0, "CSRF"},
    {"the token cut short", "", "$K" CT_FORM, "_csrf=$r&", 403, 0, "CSRF"},
    {"a wrong token, then the right one", "", "$K" CT_FORM, "_csrf=" ZEROS "&_csrf=$R&", 403, 0,
     "CSRF"},
    {"the token in the query only", "?_csrf=$R", "$K" CT_FORM, "", 403, 0, "CSRF"},
    {"a made-up X-CSRF-Token", "", "$KX-CSRF-Token: " ZEROS "\r\n" CT_FORM, "", 403, 0, "CSRF"},
    {"the token without its cookie", "", CT_FORM, "_csrf=$R&", 303, 403, NULL},
    {"a foreign Origin", "", "$KOrigin: http://evil.example\r\n" CT_FORM, "_csrf=$R&", 403, 0,
     "another site"},
    {"Origin null", "", "$KOrigin: null\r\n" CT_FORM, "_csrf=$R&", 403, 0, "another site"},
    {"an Origin that starts as ours", "", "$KOrigin: http://127.0.0.1:$P.evil.example\r\n" CT_FORM,
     "_csrf=$R&", 403, 0, "another site"},
    {"our Origin over https", "", "$KOrigin: https://127.0.0.1:$P\r\n" CT_FORM, "_csrf=$R&", 403, 0,
     "another site"},
    {"a foreign Host", "", "Host: evil.example\r\n$K" CT_FORM, "_csrf=$R&", 400, 0, "Host"},
    {"a foreign Host with our port", "", "Host: evil.example:$P\r\n$K" CT_FORM, "_csrf=$R&", 400, 0,
     "Host"},
};

/* One route (the loop's index) with each forgery, then by GET: refused by
 * the gate named in the answer, nothing stored, the session unharmed. */
START_TEST(csrf_and_origin_on_every_route)
{
    const struct changing *r = &changing[_i];
    bool login = !strcmp(r->path, "/login");
    for (size_t k = 0; k < N_OF(forged); k++) {
        const struct forgery *f = &forged[k];
        char what[200], line[200], body[400];
        snprintf(what, sizeof what, "%s with %s", r->path, f->what);
        snprintf(line, sizeof line, "POST %s%s", r->path, f->query);
        snprintf(body, sizeof body, "%s%s", f->token, r->fields);
        int status = login && f->at_login ? f->at_login : f->status;
        hostile_req c = {what, login ? ANON : CITY, line, f->headers, body, {status}};
        gst_http_answer a = hostile(&c);
        ck_assert_msg(!f->says || strstr(a.body, f->says), "%s: not the gate's answer:\n%.2000s",
                      what, a.text);
        gst_http_answer_free(&a);
    }
    /* GET with the fields in the query: a page at most, never the change */
    char what[200], line[300];
    snprintf(what, sizeof what, "%s by GET, the fields in the query", r->path);
    snprintf(line, sizeof line, "GET %s?_csrf=$R&%s", r->path, r->fields);
    hostile_req c = {what, login ? ANON : CITY, line, "$K", NULL, {200, 404, 405}};
    gst_http_answer a = hostile(&c);
    gst_http_answer_free(&a);
}
END_TEST

START_TEST(foreign_host_refused)
{
    /* clang-format off */
    static const hostile_req hosts[] = {
        {"a foreign name", CITY, "GET /", "Host: evil.example\r\n$K", NULL, {400}},
        {"a foreign name with our port", CITY, "GET /", "Host: evil.example:$P\r\n$K", NULL, {400}},
        {"our address as a subdomain", CITY, "GET /incidents", "Host: 127.0.0.1.evil.example\r\n$K",
         NULL, {400}},
        {"localhost as a subdomain", CITY, "GET /", "Host: localhost.evil.example:$P\r\n$K", NULL,
         {400}},
        {"two ports", CITY, "GET /", "Host: 127.0.0.1:$P:80\r\n$K", NULL, {400}},
        {"an unclosed bracket", CITY, "GET /", "Host: [::1\r\n$K", NULL, {400}},
        {"an empty Host", CITY, "GET /", "Host: \r\n$K", NULL, {400}},
        {"no Host", CITY, "GET /", "$NOHOST$K", NULL, {400}},
        {"a foreign Host at the login", ANON, "GET /login", "Host: evil.example\r\n$K", NULL,
         {400}},
    };
    /* clang-format on */
    hostile_all(hosts, N_OF(hosts), NULL);
}
END_TEST

/* ==== SQL in the filters ===================================================================== */

/* The "共 N 条" of a queue page, -1 when it has none. */
static int queue_total(const char *body)
{
    const char *p = strstr(body, "共 ");
    int n = -1;
    if (p)
        sscanf(p + strlen("共 "), "%d", &n);
    return n;
}

/* Every filter of the queue with SQL after a valid value, as the city and
 * as the township user: refused or a list of no more than the user sees
 * anyway (none for a text filter), nothing of the other township for the
 * township user, no password hash, nothing stored; the same in area paths. */
START_TEST(sql_in_every_filter_is_inert)
{
    static const struct {
        const char *name, *valid;
    } filters[] = {
        {"status", "reported"}, {"category", "dispute"},
        {"county", COUNTY},     {"township", TOWNSHIP_A},
        {"village", VILLAGE_A}, {"assignee", "张三"},
        {"q", "漏水"},          {"overdue", "1"},
        {"page", "1"},
    };
    static const char *const sql[] = {
        "' OR '1'='1",
        "' OR 1=1 --",
        "'; DROP TABLE users; --",
        "\" OR \"\"=\"",
        "') OR ('1'='1",
        "' UNION SELECT login, pw_hash, 1, 1, 1, 1, 1, 1, 1, 1 FROM users --",
        "%' OR '%'='",
        "' OR instr(title, '杜') > 0 --",
    };
    static const char *const absent_town[] = {"$argon2", TITLE_B, TOWNSHIP_B, "杜街", "杜曲", NULL};
    static const char *const absent_city[] = {"$argon2", NULL};
    for (int who = CITY; who <= TOWN; who++) {
        int sees = who == CITY ? 2 : 1;
        for (size_t i = 0; i < N_OF(filters); i++) {
            for (size_t k = 0; k < N_OF(sql); k++) {
                gs_buf path = GS_BUF_INIT, value = GS_BUF_INIT;
                gs_buf_printf(&value, "%s%s", filters[i].valid, sql[k]);
                gs_buf_printf(&path, "GET /incidents?%s=", filters[i].name);
                gs_url_escape(&path, value.data);
                hostile_req c = {path.data, who, path.data, "$K", NULL, {200, 400, 403}};
                gst_http_answer a = hostile(&c);
                int n = queue_total(a.body);
                ck_assert_msg(a.status != 200 || (n >= 0 && n <= sees), "%s: %d rows", path.data,
                              n);
                bool text = !strcmp(filters[i].name, "q") || !strcmp(filters[i].name, "assignee");
                ck_assert_msg(a.status != 200 || !text || n == 0, "%s: %d rows", path.data, n);
                for (const char *const *x = who == TOWN ? absent_town : absent_city; *x; x++)
                    ck_assert_msg(!strstr(a.text, *x), "%s: the answer holds \"%s\"", path.data,
                                  *x);
                gst_http_answer_free(&a);
                /* the same after an area path's code */
                if (i == 2 || i == 3 || i == 4) {
                    gs_buf_reset(&path);
                    gs_buf_puts(&path, "GET /area/");
                    gs_url_escape(&path, value.data);
                    hostile_req c2 = {path.data, who, path.data, "$K", NULL, {404, 400, 403}};
                    hostile_all(&c2, 1, who == TOWN ? absent_town : absent_city);
                }
                gs_buf_free(&path);
                gs_buf_free(&value);
            }
        }
    }
}
END_TEST

/* ==== scope ================================================================================= */

/* The township user asks for 杜街村 (the other township's) by each way
 * there is: refused, and nothing of it in the answer. */
START_TEST(other_township_in_no_answer)
{
    /* clang-format off */
    static const hostile_req ways[] = {
        {"its page", TOWN, "GET /area/" VILLAGE_B, "$K", NULL, {403}},
        {"its township's page", TOWN, "GET /area/" TOWNSHIP_B, "$K", NULL, {403}},
        {"its page in English", TOWN, "GET /area/" VILLAGE_B "?lang=en", "$K", NULL, {403}},
        {"its page with a quote", TOWN, "GET /area/" VILLAGE_B "%27--", "$K", NULL, {404}},
        {"its page with a slash after", TOWN, "GET /area/" VILLAGE_B "/", "$K", NULL, {404}},
        {"its page with a NUL", TOWN, "GET /area/" VILLAGE_B "%00", "$K", NULL, {400}},
        {"its page through ours", TOWN, "GET /area/" VILLAGE_A "/../" VILLAGE_B, "$K", NULL, {404}},
        {"the village filter", TOWN, "GET /incidents?village=" VILLAGE_B, "$K", NULL, {403}},
        {"the village filter twice, theirs first", TOWN,
         "GET /incidents?village=" VILLAGE_B "&village=" VILLAGE_A, "$K", NULL, {403}},
        {"the village filter twice, ours first", TOWN,
         "GET /incidents?village=" VILLAGE_A "&village=" VILLAGE_B, "$K", NULL, {200}},
        {"the village filter with SQL", TOWN,
         "GET /incidents?village=" VILLAGE_B "%27%20OR%20%271%27=%271", "$K", NULL, {403}},
        {"the township filter", TOWN, "GET /incidents?township=" TOWNSHIP_B, "$K", NULL, {403}},
        {"a county it is not in", TOWN, "GET /incidents?county=411102", "$K", NULL, {403}},
        {"a search for its title", TOWN, "GET /incidents?q=%E6%9C%BA%E5%AF%86", "$K", NULL, {200}},
        {"its incident", TOWN, "GET /incident/$B", "$K", NULL, {403}},
        {"its incident in English", TOWN, "GET /incident/$B?lang=en", "$K", NULL, {403}},
        {"its incident through ours", TOWN, "GET /incident/$A/../$B", "$K", NULL, {404}},
        {"its incident with an encoded slash", TOWN, "GET /incident/$A%2f..%2f$B", "$K", NULL,
         {404}},
        {"a decision on its incident", TOWN, "POST /incident/$B/status", "$K" CT_FORM,
         "_csrf=$R&status=accepted", {403}},
        {"a decision through ours", TOWN, "POST /incident/$A/../$B/status", "$K" CT_FORM,
         "_csrf=$R&status=accepted", {404}},
        {"上级交办 to it", TOWN, "POST /incidents/new", "$K" CT_FORM,
         "_csrf=$R&_village=" VILLAGE_B "&_status=accepted&category=dispute&title=x"
         "&deadline=2099-01-01",
         {403}},
        {"上级交办 to it, then to ours", TOWN, "POST /incidents/new", "$K" CT_FORM,
         "_csrf=$R&_village=" VILLAGE_B "&_village=" VILLAGE_A
         "&_status=accepted&category=dispute&title=x&deadline=2099-01-01",
         {403}},
        {"上级交办 to ours with its code in the record, untitled", TOWN, "POST /incidents/new",
         "$K" CT_FORM,
         "_csrf=$R&_village=" VILLAGE_A "&village_code=" VILLAGE_B "&category=dispute", {400}},
        {"a report of it", TOWN, "GET /reports/download?kind=summary&format=csv&area=" VILLAGE_B,
         "$K", NULL, {403}},
        {"its township's sync state", TOWN, "GET /health?township=" TOWNSHIP_B, "$K", NULL, {403}},
        {"its township's reports", TOWN, "GET /reports?area=" TOWNSHIP_B, "$K", NULL, {403}},
    };
    /* clang-format on */
    static const char *const absent[] = {TOWNSHIP_B, "杜街", "杜曲", TITLE_B, "$argon2", NULL};
    for (size_t i = 0; i < N_OF(ways); i++) {
        gst_http_answer a = hostile(&ways[i]);
        for (const char *const *x = absent; *x; x++)
            ck_assert_msg(!strstr(a.text, *x), "%s: the answer holds \"%s\":\n%.3000s",
                          ways[i].what, *x, a.text);
        ck_assert_msg(!strstr(a.text, id_b), "%s: the answer holds its incident", ways[i].what);
        ck_assert_msg(a.status != 200 || queue_total(a.body) <= 1, "%s: %d rows", ways[i].what,
                      queue_total(a.body));
        gst_http_answer_free(&a);
    }
}
END_TEST

/* ==== TLS =================================================================================== */

/* A self-signed certificate and its key for 127.0.0.1 in dir (openssl). */
static void make_cert(const char *dir, const char *name, char crt[PATH_MAX], char key[PATH_MAX])
{
    snprintf(crt, PATH_MAX, "%s/%s.crt", dir, name);
    snprintf(key, PATH_MAX, "%s/%s.key", dir, name);
    RUN_OK("/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt, "-days", "2",
           "-subj", "/CN=127.0.0.1");
}

/* curl -sk -i over TLS: the URL with a cookie, a header line and a POST
 * body (each may be NULL); the answer into R. */
static void curl_tls(const char *url, const gst_http_session *s, const char *header,
                     const char *data)
{
    char cookie[200] = "";
    if (s)
        snprintf(cookie, sizeof cookie, "%.*s", (int)strcspn(s->cookie, "\r"), s->cookie);
    const char *argv[16] = {"/usr/bin/curl", "-sk", "-i", "--max-time", "20"};
    int n = 5;
    if (*cookie)
        argv[n++] = "-H", argv[n++] = cookie;
    if (header)
        argv[n++] = "-H", argv[n++] = header;
    if (data)
        argv[n++] = "--data", argv[n++] = data;
    argv[n++] = url;
    argv[n] = NULL;
    gst_result_free(&R);
    ck_assert_int_eq(gst_run(&R, NULL, argv), 0);
    ck_assert_msg(R.status == 0, "curl %s: exit %d %s", url, R.status, R.err);
}

/* R's output as an answer (for gstest_http's readers); R keeps it. */
static gst_http_answer curl_answer(void)
{
    gst_http_answer a = {0, R.out, NULL, R.out_len};
    sscanf(R.out, "HTTP/%*s %d", &a.status);
    char *end = strstr(R.out, "\r\n\r\n");
    a.body = end ? end + 4 : R.out + R.out_len;
    return a;
}

START_TEST(tls_serves_https)
{
    if (access("/usr/bin/openssl", X_OK) || access("/usr/bin/curl", X_OK)) {
        fprintf(stderr, "tls_serves_https: skipped (no openssl or curl: scripts/deps.sh)\n");
        return;
    }
    char crt[PATH_MAX], key[PATH_MAX], log[PATH_MAX], url[200];
    make_cert(tmp, "tls", crt, key);
    snprintf(log, sizeof log, "%s/tls.log", tmp);
    gst_procs mine = {0}; /* the fixture's server is not this test's to stop */
    const char *argv[] = {"gridhub",    "--db", hub_db,      "web", "--bind", "127.0.0.1:0",
                          "--tls-cert", crt,    "--tls-key", key,   NULL};
    pid_t pid;
    uint16_t tp = gst_http_serve(&mine, argv, log, &pid);
    ck_assert_int_eq(gst_count_in_file(log, "gridhub web: serving https://127.0.0.1:"), 1);

    /* the login page, its session cookie Secure */
    snprintf(url, sizeof url, "https://127.0.0.1:%u/login", (unsigned)tp);
    curl_tls(url, NULL, NULL, NULL);
    gst_http_answer a = curl_answer();
    ck_assert_msg(a.status == 200 && strstr(a.body, "用户名"), "%s", R.out);
    char cookie[300];
    ck_assert(gst_http_header(&a, "Set-Cookie", cookie, sizeof cookie));
    ck_assert_msg(strstr(cookie, "; HttpOnly; SameSite=Strict; Secure"), "%s", cookie);
    gst_http_session s = {{0}};
    ck_assert(gst_http_take_session(&a, GST_HTTP_CSRF_FIELD, &s));
    /* a login over TLS; then the gates hold there too */
    char form[400];
    snprintf(form, sizeof form, "_csrf=%s&user=city&password=" PASSWORD, s.csrf);
    curl_tls(url, &s, NULL, form);
    a = curl_answer();
    ck_assert_msg(a.status == 303, "%s", R.out);
    ck_assert(gst_http_header(&a, "Set-Cookie", cookie, sizeof cookie));
    ck_assert_msg(strstr(cookie, "; Secure"), "%s", cookie);
    ck_assert(gst_http_take_session(&a, NULL, &s));
    snprintf(url, sizeof url, "https://127.0.0.1:%u/incidents", (unsigned)tp);
    curl_tls(url, &s, NULL, NULL);
    a = curl_answer();
    ck_assert_msg(a.status == 200 && strstr(a.body, TITLE_A), "%s", R.out);
    ck_assert(gst_http_token(a.body, GST_HTTP_CSRF_META, s.csrf, sizeof s.csrf));
    char *before = gst_hub_state(hub_db);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/users", (unsigned)tp);
    curl_tls(url, &s, NULL, "name=x&login=tls-forged&role=city");
    ck_assert_msg(curl_answer().status == 403, "no token over TLS:\n%s", R.out);
    char origin[100];
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%u", (unsigned)tp);
    snprintf(form, sizeof form, "_csrf=%s&name=x&login=tls-forged&role=city", s.csrf);
    curl_tls(url, &s, origin, form);
    ck_assert_msg(curl_answer().status == 403, "an http:// Origin over TLS:\n%s", R.out);
    char *after = gst_hub_state(hub_db);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);

    /* plain HTTP to the TLS port: no page */
    a = gst_http_request(tp, "GET", "/login", NULL, NULL);
    ck_assert_msg(a.status != 200 && !strstr(a.text, "用户名"), "plain HTTP got:\n%.1000s", a.text);
    gst_http_answer_free(&a);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/login", (unsigned)tp);
    RUN("/usr/bin/curl", "-s", "--max-time", "10", url);
    ck_assert_msg(R.status != 0 && !strstr(R.out, "用户名"), "curl http:// got: %d %s", R.status,
                  R.out);
    kill(pid, SIGTERM);
    ck_assert_int_eq(gst_procs_wait(&mine, pid, 20000), 0);
    ck_assert_int_eq(gst_count_in_file(log, "gridhub web: stopped"), 1);
}
END_TEST

/* --tls-cert without --tls-key and the other way, and files that are no
 * certificate or key: one line on stderr naming the file, a non-zero exit,
 * nothing served. */
START_TEST(tls_refuses_bad_files)
{
    if (access("/usr/bin/openssl", X_OK)) {
        fprintf(stderr, "tls_refuses_bad_files: skipped (no openssl: scripts/deps.sh)\n");
        return;
    }
    char crt[PATH_MAX], key[PATH_MAX], crt2[PATH_MAX], key2[PATH_MAX], missing[PATH_MAX],
        garbage[PATH_MAX], inside[PATH_MAX], locked[PATH_MAX];
    make_cert(tmp, "good", crt, key);
    make_cert(tmp, "other", crt2, key2);
    snprintf(missing, sizeof missing, "%s/no-such.crt", tmp);
    snprintf(garbage, sizeof garbage, "%s/garbage.crt", tmp);
    snprintf(inside, sizeof inside, "%s/inside.crt", tmp);
    snprintf(locked, sizeof locked, "%s/locked.crt", tmp);
    ck_assert_int_eq(gst_write_file(garbage, "garbage\n", 8), 0);
    const char *pem =
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n";
    ck_assert_int_eq(gst_write_file(inside, pem, strlen(pem)), 0);
    ck_assert_int_eq(gst_write_file(locked, pem, strlen(pem)), 0);
    ck_assert_int_eq(chmod(locked, 0), 0);
    const struct {
        const char *what, *cert, *key;
        int status;
        const char *says, *names;
    } bad[] = {
        {"a certificate without its key", crt, NULL, 2, "go together", "--tls-key"},
        {"a key without its certificate", NULL, key, 2, "go together", "--tls-cert"},
        {"a missing certificate", missing, key, 1, "cannot be read", missing},
        {"a directory for a certificate", tmp, key, 1, "cannot be read", tmp},
        {"a file that is no PEM", garbage, key, 1, "not a PEM file", garbage},
        {"garbage inside the PEM", crt, inside, 1, "not a PEM file", inside},
        {"garbage inside the certificate", inside, key, 1, "cannot be used", inside},
        {"the files swapped", key, crt, 1, "not a PEM file", key},
        {"the key of another certificate", crt, key2, 1, "cannot be used", key2},
        {"an unreadable certificate", locked, key, 1, "cannot be read", locked},
    };
    for (size_t i = 0; i < N_OF(bad); i++) {
        if (bad[i].cert == locked && geteuid() == 0)
            continue; /* root reads it all the same */
        char *bin = gst_bin("gridhub");
        const char *argv[16] = {"timeout", "20",  bin,      "--db",
                                hub_db,    "web", "--bind", "127.0.0.1:0"};
        int n = 8;
        if (bad[i].cert)
            argv[n++] = "--tls-cert", argv[n++] = bad[i].cert;
        if (bad[i].key)
            argv[n++] = "--tls-key", argv[n++] = bad[i].key;
        argv[n] = NULL;
        gst_result_free(&R);
        ck_assert_int_eq(gst_run(&R, NULL, argv), 0);
        free(bin);
        ck_assert_msg(R.status == bad[i].status, "%s: exit %d, want %d\n%s", bad[i].what, R.status,
                      bad[i].status, R.err);
        ck_assert_msg(strstr(R.err, bad[i].says) && strstr(R.err, bad[i].names),
                      "%s: stderr lacks \"%s\" or \"%s\":\n%s", bad[i].what, bad[i].says,
                      bad[i].names, R.err);
        /* one line of gridhub's (a sanitizer may add its summary below) */
        const char *second = strchr(R.err, '\n');
        ck_assert_msg(!strncmp(R.err, "gridhub: web: ", 14) && second && !strstr(second, "gridhub"),
                      "%s: not one line:\n%s", bad[i].what, R.err);
        ck_assert_msg(!strstr(R.err, "Sanitizer") && !strstr(R.err, "runtime error:"),
                      "%s: a sanitizer's report:\n%s", bad[i].what, R.err);
        ck_assert_msg(!strstr(R.out, "serving"), "%s: served:\n%s", bad[i].what, R.out);
    }
}
END_TEST

/* ==== time ================================================================================== */

/* The slow senders the fixture started: both cut off at the header
 * deadline, neither answered, the dribbler never silent; the server
 * answered every other test meanwhile. */
START_TEST(slow_senders_cut_off)
{
    gst_http_slow r = gst_http_slow_result(slow_out, (DEADLINE_S + 30) * 1000);
    const long long lo = DEADLINE_S * 1000 - 500, hi = (DEADLINE_S + 10) * 1000;
    ck_assert_msg(r.silent_ms >= lo && r.silent_ms < hi, "the silent sender closed after %lld ms",
                  r.silent_ms);
    ck_assert_msg(r.dripping_ms >= lo && r.dripping_ms < hi,
                  "the dripping sender closed after %lld ms", r.dripping_ms);
    ck_assert_msg(r.sent >= DEADLINE_S, "only %zu bytes dribbled: silent a while", r.sent);
    ck_assert_msg(r.back == 0, "%zu bytes came back to unfinished headers", r.back);
    still_serving("the slow senders");
}
END_TEST

/* Whether pid has ended (gone, or a zombie its parent has not reaped). */
static bool ended(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = gst_read_file(path, NULL);
    const char *st = stat ? strrchr(stat, ')') : NULL;
    bool done = !st || st[2] == 'Z';
    free(stat);
    return done;
}

/* After all that, the server stops on SIGTERM as it should, and under the
 * sanitizers with no report in its log (a leak of any request shows here). */
START_TEST(stops_cleanly)
{
    kill(web, SIGTERM);
    int64_t end = gst_now_ms() + 20000;
    while (!ended(web) && gst_now_ms() < end)
        gst_sleep_ms(50);
    ck_assert_msg(ended(web), "gridhub web still runs 20 s after SIGTERM");
    char *log = gst_read_file(web_log, NULL);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, "gridhub web: stopped") && !strstr(log, "Sanitizer") &&
                      !strstr(log, "runtime error:"),
                  "the server's log:\n%s", log);
    free(log);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hub_web_hostile");
    TCase *tc = gst_tcase(s, "city_pages", NULL, NULL, DEADLINE_S + 120);
    tcase_add_unchecked_fixture(tc, setup_hub, teardown_hub);
    tcase_add_test(tc, oversized_headers);
    tcase_add_test(tc, oversized_bodies);
    tcase_add_test(tc, malformed_forms_and_json);
    tcase_add_test(tc, static_paths_stay_in_the_table);
    tcase_add_loop_test(tc, csrf_and_origin_on_every_route, 0, (int)N_OF(changing));
    tcase_add_test(tc, foreign_host_refused);
    tcase_add_test(tc, sql_in_every_filter_is_inert);
    tcase_add_test(tc, other_township_in_no_answer);
    tcase_add_test(tc, tls_serves_https);
    tcase_add_test(tc, tls_refuses_bad_files);
    tcase_add_test(tc, slow_senders_cut_off); /* it waits for the deadline */
    tcase_add_test(tc, stops_cleanly);
    return s;
}

int main(void)
{
    char *top = gst_tmp_top();
    int rc = gst_run_suite(hostile_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
