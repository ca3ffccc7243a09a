/*
 * cli.c: the command line of gridnode and gridhub (cli.h): dispatch through
 * a program's command table, the usage text made from the same table, the
 * global options, one-line errors and getopt_long-style option parsing.
 *
 * Why not getopt_long itself: the options of `TYPE add|update` are the
 * fields of the record type, found by gs_field_option (--grid for
 * grid_code), and the messages must name the command ("incident list:
 * unknown option --x"), where getopt prints its own. The rules are
 * getopt_long's for long options; options and other words may be mixed.
 */
#include <locale.h>
#include <stdarg.h>
#include <termios.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gridsync/cli.h"
#include "gridsync/http.h"
#include "gridsync/record.h"
#include "gridsync/stmt.h"
#include "gridsync/table.h"

int gs_cli_fail(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return GS_CLI_ERROR;
}

int gs_cli_usage(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see %s --help)\n", prog);
    va_end(ap);
    return GS_CLI_USAGE;
}

bool gs_cli_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

void gs_cli_print_usage(const gs_cli_prog *prog, FILE *f)
{
    fprintf(f, "%s\n\nusage: %s [--db PATH] COMMAND [ARGS] [--json] [--help]\n\n", prog->title,
            prog->name);
    for (const gs_cli_cmd *c = prog->cmds; c->name; c++) {
        fprintf(f, "  %s%s%s\n", c->name, c->usage && *c->usage ? " " : "",
                c->usage ? c->usage : "");
        fprintf(f, "      %s\n", c->summary);
    }
    fprintf(f, "\n`%s COMMAND --help` tells more of each. ", prog->name);
    fprintf(f, "The database is %s unless --db or %s says otherwise.\n", prog->db_default,
            prog->db_env);
    if (prog->footer)
        fputs(prog->footer, f);
}

/* The table row for word, and for a record type row the type. */
static const gs_cli_cmd *find_cmd(const gs_cli_prog *prog, const char *word, const gs_rectype **rt)
{
    *rt = NULL;
    for (const gs_cli_cmd *c = prog->cmds; c->name; c++) {
        if (c->flags & GS_CLI_RECORD_TYPES) {
            const gs_rectype *t = gs_rectype_find(word);
            if (t && !t->reference) {
                *rt = t;
                return c;
            }
        } else if (!strcmp(c->name, word)) {
            return c;
        }
    }
    return NULL;
}

/* For a GS_CLI_SPLIT_EQUALS command: argv again with every --name=value as
 * two words (into out, room for 2 * argc). Returns the new count. */
static int split_equals(int argc, char **argv, char **out, char **owned)
{
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        char *name = NULL;
        if (!strncmp(argv[i], "--", 2) && eq && eq > argv[i] + 2 &&
            (name = strndup(argv[i], (size_t)(eq - argv[i])))) {
            *owned++ = name;
            out[n++] = name;
            out[n++] = (char *)eq + 1;
        } else {
            out[n++] = argv[i];
        }
    }
    return n;
}

int gs_cli_main(const gs_cli_prog *prog, int argc, char **argv)
{
    gs_tune_malloc();
    gs_sqlite_tune();
    setlocale(LC_ALL, "C.UTF-8");
    gs_cli cli = {prog, NULL, NULL, NULL, NULL, false, 0, NULL};
    cli.db = getenv(prog->db_env) ? getenv(prog->db_env) : prog->db_default;
    /* room for the split words too (3 argc); owned[] holds the option names made */
    char **rest = calloc(3 * (size_t)argc + 1, sizeof *rest);
    char **owned = calloc((size_t)argc + 1, sizeof *owned);
    if (!rest || !owned) {
        free(rest);
        free(owned);
        return gs_cli_fail(prog->name, "out of memory");
    }
    int n = 0, rc = GS_CLI_OK;
    for (int i = 1; i < argc && !rc; i++) {
        if (!strcmp(argv[i], "--db")) {
            if (i + 1 >= argc)
                rc = gs_cli_usage(prog->name, "--db needs a path");
            else
                cli.db = argv[++i];
        } else if (!strncmp(argv[i], "--db=", 5)) {
            cli.db = argv[i] + 5;
        } else if (!strcmp(argv[i], "--json")) {
            cli.json = true;
        } else {
            rest[n++] = argv[i];
        }
    }
    if (rc) {
    } else if (n == 0 || !strcmp(rest[0], "--help") || !strcmp(rest[0], "-h") ||
               !strcmp(rest[0], "help")) {
        gs_cli_print_usage(prog, n == 0 ? stderr : stdout);
        rc = n == 0 ? GS_CLI_USAGE : GS_CLI_OK;
    } else if (!strcmp(rest[0], "--version")) {
        printf("%s %s\n", prog->name, GS_VERSION);
    } else if (!(cli.cmd = find_cmd(prog, rest[0], &cli.rt))) {
        rc = gs_cli_usage(prog->name, "unknown command \"%s\"", rest[0]);
    } else {
        cli.word = rest[0];
        cli.argc = n - 1;
        cli.argv = rest + 1;
        if (cli.cmd->flags & GS_CLI_SPLIT_EQUALS) {
            cli.argc = split_equals(n - 1, rest + 1, rest + n, owned);
            cli.argv = rest + n;
        }
        rc = cli.cmd->fn(&cli);
    }
    for (int i = 0; i < argc; i++)
        free(owned[i]);
    free(owned);
    free(rest);
    return rc;
}

/* ---- options ------------------------------------------------------------ */

int gs_cli_parse(const gs_cli *cli, const char *cmd, int argc, char **argv, const gs_cli_opt *opts,
                 gs_cli_lookup lookup, void *arg, gs_cli_args *out)
{
    const char *prog = cli->prog->name;
    out->n = out->npos = 0;
    bool only_words = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_words || a[0] != '-' || !a[1]) {
            if (out->npos == GS_CLI_MAX_ARGS)
                return gs_cli_usage(prog, "%s: too many arguments", cmd);
            out->pos[out->npos++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_words = true;
            continue;
        }
        /* --name=value: the name is what stands before the first '=' */
        char name[128];
        const char *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        if (len >= sizeof name)
            return gs_cli_usage(prog, "%s: unknown option %.60s", cmd, a);
        memcpy(name, a, len);
        name[len] = '\0';
        const gs_cli_opt *o = NULL;
        for (int k = 0; opts && opts[k].name && !o; k++)
            if (!strcmp(opts[k].name, name))
                o = &opts[k];
        int id = o ? o->id : lookup ? lookup(name, arg) : -1;
        bool takes_value = o ? o->value : id >= 0;
        if (id < 0)
            return gs_cli_usage(prog, "%s: unknown option %s", cmd, name);
        if (out->n == GS_CLI_MAX_ARGS)
            return gs_cli_usage(prog, "%s: too many options", cmd);
        struct gs_cli_item *it = &out->item[out->n];
        it->id = id;
        it->name = o ? o->name : NULL; /* a lookup's option is known by its id */
        it->value = NULL;
        if (eq && !takes_value)
            return gs_cli_usage(prog, "%s: %s takes no value", cmd, name);
        if (takes_value) {
            if (!eq && i + 1 >= argc)
                return gs_cli_usage(prog, "%s: %s needs a value", cmd, name);
            it->value = eq ? eq + 1 : argv[++i];
        }
        out->n++;
    }
    return GS_CLI_OK;
}

int gs_cli_parse_opts(const gs_cli *cli, const char *cmd, int argc, char **argv,
                      const gs_cli_opt *opts, gs_cli_args *out)
{
    int rc = gs_cli_parse(cli, cmd, argc, argv, opts, NULL, NULL, out);
    if (!rc && out->npos)
        rc = gs_cli_usage(cli->prog->name, "%s: unexpected argument %s", cmd, out->pos[0]);
    return rc;
}

const char *gs_cli_arg(const gs_cli_args *a, int id)
{
    for (int i = a->n - 1; i >= 0; i--)
        if (a->item[i].id == id)
            return a->item[i].value;
    return NULL;
}

int gs_cli_count(const gs_cli_args *a, int id)
{
    int n = 0;
    for (int i = 0; i < a->n; i++)
        n += a->item[i].id == id;
    return n;
}

int gs_cli_date(const gs_cli *cli, const char *cmd, const char *opt, const char *value,
                char day[11])
{
    gs_errbuf eb = {{0}};
    int rc = gs_find_day(opt, value, day, &eb);
    if (rc == GS_ENOMEM)
        return gs_cli_fail(cli->prog->name, "out of memory");
    return rc ? gs_cli_usage(cli->prog->name, "%s: %s", cmd, eb.msg) : GS_CLI_OK;
}

/* ---- TYPE list ------------------------------------------------------------ */

enum { L_STATUS, L_CATEGORY, L_GRID, L_VILLAGE, L_SINCE, L_UNTIL, L_TEXT, L_FORMAT, L_REPORTER,
       L_OVERDUE, L_COUNTY, L_TOWNSHIP, L_ASSIGNEE };
static const gs_cli_opt list_opts[] = {
    {"--status", true, L_STATUS},   {"--category", true, L_CATEGORY}, {"--grid", true, L_GRID},
    {"--village", true, L_VILLAGE}, {"--since", true, L_SINCE},       {"--until", true, L_UNTIL},
    {"--text", true, L_TEXT},       {"--format", true, L_FORMAT},     {"--reporter", true, L_REPORTER},
    {"--overdue", false, L_OVERDUE}, {"--county", true, L_COUNTY},  {"--township", true, L_TOWNSHIP},
    {"--assignee", true, L_ASSIGNEE}, {NULL, false, 0}};

int gs_cli_list_parse(const gs_cli *cli, gs_cli_list *q)
{
    const gs_rectype *rt = cli->rt;
    const char *prog = cli->prog->name;
    int d = gs_find_date_field(rt);
    memset(q, 0, sizeof *q);
    if (gs_cli_wants_help(cli->argc, cli->argv)) {
        printf("usage: %s %s list [--status S] [--category C] [--grid CODE] [--village CODE]\n"
               "       [--county CODE] [--township CODE] [--assignee NAME]\n"
               "       [--since DATE] [--until DATE] [--text TEXT] [--reporter NAME] [--overdue]\n"
               "       [--format table|csv|json] [--json] [--db PATH]\n\n"
               "列出%s: lists the %s records, in id order (oldest first), that pass every\n"
               "filter given. --category takes the categories under it too (safety: safety.fire);\n"
               "--county (6 digits) and --township (9 digits) keep the villages of that division;\n"
               "--text finds text in titles, descriptions, names and notes; --reporter and\n"
               "--assignee take the name as entered; --overdue keeps incidents past their deadline\n"
               "that are not closed (超期); --since and --until\n"
               "(inclusive) read the record's %s, as 2026-11-28, 2026/11/28 or 2026年11月28日.\n",
               prog, rt->name, rt->label_zh, rt->name, d >= 0 ? rt->fields[d].label_zh : "date");
        q->help = true;
        return GS_CLI_OK;
    }
    char cmd[64];
    snprintf(cmd, sizeof cmd, "%s list", rt->name);
    gs_cli_args a;
    int rc = gs_cli_parse_opts(cli, cmd, cli->argc - 1, cli->argv + 1, list_opts, &a);
    if (rc)
        return rc;
    gs_find_filter f = {gs_cli_arg(&a, L_STATUS),
                        gs_cli_arg(&a, L_CATEGORY),
                        gs_cli_arg(&a, L_GRID),
                        gs_cli_arg(&a, L_VILLAGE),
                        NULL,
                        NULL,
                        gs_cli_arg(&a, L_TEXT),
                        gs_cli_arg(&a, L_REPORTER),
                        gs_cli_count(&a, L_OVERDUE) > 0};
    if (gs_cli_arg(&a, L_SINCE) &&
        (rc = gs_cli_date(cli, cmd, "--since", gs_cli_arg(&a, L_SINCE), q->since)))
        return rc;
    if (gs_cli_arg(&a, L_UNTIL) &&
        (rc = gs_cli_date(cli, cmd, "--until", gs_cli_arg(&a, L_UNTIL), q->until)))
        return rc;
    f.county = gs_cli_arg(&a, L_COUNTY);
    f.township = gs_cli_arg(&a, L_TOWNSHIP);
    f.assignee = gs_cli_arg(&a, L_ASSIGNEE);
    f.since = gs_cli_arg(&a, L_SINCE) ? q->since : NULL;
    f.until = gs_cli_arg(&a, L_UNTIL) ? q->until : NULL;
    q->filter = f;
    int fmt = cli->json ? GS_FIND_JSON : GS_FIND_TABLE;
    if (gs_cli_arg(&a, L_FORMAT) && (fmt = gs_find_format_parse(gs_cli_arg(&a, L_FORMAT))) < 0)
        return gs_cli_usage(prog, "%s: --format is table, csv or json, not \"%s\"", cmd,
                            gs_cli_arg(&a, L_FORMAT));
    q->format = (gs_find_format)fmt;
    return GS_CLI_OK;
}

int gs_cli_list_run(gs_cli *cli, const gs_cli_store *store)
{
    const char *prog = cli->prog->name, *type = cli->rt->name;
    gs_cli_list q;
    gs_find_opts o = {0};
    gs_errbuf eb = {{0}};
    if (gs_find_take_opts(&cli->argc, cli->argv, &o, NULL, &eb))
        return gs_cli_usage(prog, "%s list: %s", type, eb.msg);
    int rc = gs_cli_list_parse(cli, &q);
    if (rc || q.help)
        return rc;
    if (gs_find_check_opts(q.format, &o, &eb))
        return gs_cli_usage(prog, "%s list: %s", type, eb.msg);
    void *s = store->open(cli);
    if (!s)
        return GS_CLI_ERROR;
    if (gs_find_print_list(cli->rt, &q.filter, q.format, &o, store->list, s, stdout, &eb))
        rc = gs_cli_fail(prog, "%s list: %s", type, eb.msg);
    store->close(s);
    return rc;
}

bool gs_cli_read_secret(const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO);
    if (tty) {
        fputs(prompt, stderr);
        fflush(stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = fgets(buf, (int)cap, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (ok)
        buf[strcspn(buf, "\r\n")] = '\0';
    return ok;
}

int gs_cli_new_password(char *pw, size_t cap, gs_errbuf *eb)
{
    char again[256] = "";
    int rc = GS_OK;
    if (!gs_cli_read_secret("新密码 new password: ", pw, cap))
        rc = gs_errf(eb, GS_EINVAL, "no password given");
    else if (!gs_password_long_enough(pw))
        rc = gs_errf(eb, GS_EINVAL, "密码至少 %d 个字符 (the password needs at least %d characters)",
                     GS_PASSWORD_MIN_CHARS, GS_PASSWORD_MIN_CHARS);
    else if (isatty(STDIN_FILENO) &&
             (!gs_cli_read_secret("再输一次 again: ", again, sizeof again) || strcmp(pw, again)))
        rc = gs_errf(eb, GS_EINVAL, "两次输入的密码不一样 (the two passwords differ); nothing changed");
    sodium_memzero(again, sizeof again);
    return rc;
}
