/*
 * cmd_user.c: `gridhub user add|list|disable|enable|passwd`: the people who
 * log in to `gridhub web` (the city, county and township offices), each
 * with a role and the division whose villages they see. The rows live in
 * the hub store (hub_user_*); a user added without a password sets one at
 * the first login on the web's login page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "gridsync/hlc.h"
#include "gridsync/http.h"
#include "gridsync/record.h"
#include "gridsync/table.h"


/* The level a role's division must have; NULL for the city (none). */
static const char *role_level(const char *role)
{
    return !strcmp(role, "county") ? "county" : !strcmp(role, "township") ? "township" : NULL;
}

/* A login name: 1-63 ASCII letters, digits, '.', '_', '-'. */
static bool login_valid(const char *login)
{
    size_t n = strlen(login);
    return n >= 1 && n < 64 &&
           strspn(login, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int hub_user_check(hub_store *s, const hub_user *u, gs_errbuf *eb)
{
    if (!u->name[0] || strlen(u->name) > 60 || !gs_utf8_valid(u->name, strlen(u->name)))
        return gs_errf(eb, GS_EINVAL, "--name: 1 to 60 bytes of UTF-8 text");
    if (!login_valid(u->login))
        return gs_errf(eb, GS_EINVAL, "--login \"%s\": 1-63 letters, digits, '.', '_' or '-'",
                       u->login);
    if (strcmp(u->role, "city") && strcmp(u->role, "county") && strcmp(u->role, "township"))
        return gs_errf(eb, GS_EINVAL, "--role \"%s\": expected city, county or township", u->role);
    const char *level = role_level(u->role);
    if (!level && u->division[0])
        return gs_errf(eb, GS_EINVAL, "--division: a city user sees the whole city and has none");
    if (level && !u->division[0])
        return gs_errf(eb, GS_EINVAL, "--role %s needs --division, the %s's code", u->role, level);
    if (!level)
        return GS_OK;
    hub_division d;
    int rc = hub_division_get(s, u->division, &d, eb);
    if (rc == GS_ENOTFOUND)
        return gs_errf(eb, GS_EINVAL,
                       "--division %s: not in the division table (gridhub refdata load "
                       "divisions FILE loads it)",
                       u->division);
    if (rc)
        return rc;
    if (strcmp(d.level, level))
        return gs_errf(eb, GS_EINVAL, "--division %s (%s) is a %s, not a %s as --role %s needs",
                       u->division, d.name, d.level, level, u->role);
    return GS_OK;
}

static int cmd_user_add(hub_cli *cli, int argc, char **argv)
{
    enum { O_NAME, O_LOGIN, O_ROLE, O_DIVISION };
    static const gs_cli_opt opts[] = {{"--name", true, O_NAME},
                                      {"--login", true, O_LOGIN},
                                      {"--role", true, O_ROLE},
                                      {"--division", true, O_DIVISION},
                                      {NULL, false, 0}};
    if (gs_cli_wants_help(argc, argv)) {
        puts("usage: gridhub user add --name NAME --login LOGIN --role city|county|township\n"
             "                        [--division CODE]\n\n"
             "Adds a person who logs in to `gridhub web`. A county user sees its county's\n"
             "villages (--division: a 6-digit county code of the division table), a township\n"
             "user its township's (a 9-digit township code), a city user every village (no\n"
             "--division). The user sets a password at the first login (or `gridhub user\n"
             "passwd LOGIN` sets one now).");
        return 0;
    }
    gs_cli_args a;
    int rc = gs_cli_parse(cli, "user add", argc, argv, opts, NULL, NULL, &a);
    if (rc)
        return rc;
    if (a.npos)
        return hub_usage("user add: unexpected argument %s", a.pos[0]);
    const char *name = gs_cli_arg(&a, O_NAME), *login = gs_cli_arg(&a, O_LOGIN),
               *role = gs_cli_arg(&a, O_ROLE), *division = gs_cli_arg(&a, O_DIVISION);
    if (!name || !login || !role)
        return hub_usage("user add: --name, --login and --role are required");
    hub_store *s = hub_open(cli);
    if (!s)
        return 1;
    gs_errbuf eb = {{0}};
    hub_user u = {0};
    snprintf(u.login, sizeof u.login, "%s", login);
    snprintf(u.name, sizeof u.name, "%s", name);
    snprintf(u.role, sizeof u.role, "%s", role);
    snprintf(u.division, sizeof u.division, "%s", division ? division : "");
    if (strlen(name) > 60)
        rc = hub_fail("user add: --name: 1 to 60 bytes of UTF-8 text");
    else if (strlen(login) >= sizeof u.login)
        rc = hub_fail("user add: --login: 1-63 letters, digits, '.', '_' or '-'");
    else if (division && strlen(division) >= sizeof u.division)
        rc = hub_fail("user add: --division %s: not in the division table", division);
    else if (hub_user_check(s, &u, &eb) || hub_user_add(s, &u, &eb))
        rc = hub_fail("user add: %s", eb.msg);
    hub_division d = {{0}};
    if (!rc && u.division[0])
        hub_division_get(s, u.division, &d, &eb);
    if (!rc)
        printf("用户已添加 user added: %s (%s, %s%s%s); 首次登录时设置密码 (sets a password at "
               "the first login)\n",
               login, name, role, d.name[0] ? " " : "", d.name);
    hub_store_close(&s);
    return rc;
}

typedef struct list_ctx {
    gs_table *t;
    json_t *arr;
    hub_store *s;
    int n;
} list_ctx;

static int list_one(const hub_user *u, void *arg)
{
    list_ctx *c = arg;
    hub_division d = {{0}};
    gs_errbuf eb = {{0}};
    if (u->division[0])
        hub_division_get(c->s, u->division, &d, &eb);
    gs_buf created = GS_BUF_INIT;
    gs_hlc_format(GS_HLC_MAKE(u->created_ms, 0), &created);
    if (c->arr) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:b, s:b, s:s}", "login", u->login,
                              "name", u->name, "role", u->role, "division",
                              u->division[0] ? u->division : NULL, "division_name",
                              d.name[0] ? d.name : NULL, "password_set", u->pw_hash[0] != '\0',
                              "disabled", u->disabled, "created", created.data ? created.data : "");
        if (!o || json_array_append_new(c->arr, o)) {
            gs_buf_free(&created);
            return GS_ENOMEM;
        }
    } else {
        const char *row[] = {u->login,
                             u->name,
                             u->role,
                             u->division,
                             d.name,
                             u->pw_hash[0] ? "已设置 set" : "首次登录设置 at first login",
                             u->disabled ? "停用 disabled" : "启用 enabled",
                             created.data ? created.data : ""};
        gs_table_add(c->t, row);
    }
    gs_buf_free(&created);
    c->n++;
    return 0;
}

static int cmd_user_list(hub_cli *cli, int argc, char **argv)
{
    enum { O_FORMAT };
    static const gs_cli_opt opts[] = {{"--format", true, O_FORMAT}, {NULL, false, 0}};
    if (gs_cli_wants_help(argc, argv)) {
        puts("usage: gridhub user list [--format table|csv|json]\n\nEvery user of `gridhub web` "
             "with role, division and state.");
        return 0;
    }
    gs_cli_args a;
    int rc = gs_cli_parse(cli, "user list", argc, argv, opts, NULL, NULL, &a);
    if (rc)
        return rc;
    if (a.npos)
        return hub_usage("user list: unexpected argument %s", a.pos[0]);
    const char *format = gs_cli_arg(&a, O_FORMAT);
    if (!format)
        format = cli->json ? "json" : "table";
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
        return hub_usage("user list: --format \"%s\": expected table, csv or json", format);
    hub_store *s = hub_open(cli);
    if (!s)
        return 1;
    static const char *const heads[] = {"登录名 login",  "姓名 name",   "角色 role",
                                        "区划 division", "区划名称",    "密码 password",
                                        "状态 state",    "创建 created"};
    bool json = !strcmp(format, "json");
    list_ctx c = {gs_table_new(8, heads), json ? json_array() : NULL, s, 0};
    gs_errbuf eb = {{0}};
    if (!c.t || (json && !c.arr))
        rc = hub_fail("out of memory");
    else if ((rc = hub_user_each(s, list_one, &c, &eb)))
        rc = hub_fail("user list: %s", eb.msg[0] ? eb.msg : gs_strerror(rc));
    else if (json) {
        char *text = json_dumps(c.arr, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        if (text)
            printf("%s\n", text);
        free(text);
    } else if (!strcmp(format, "csv")) {
        gs_buf b = GS_BUF_INIT;
        gs_table_csv(c.t, &b);
        if (b.len)
            fwrite(b.data, 1, b.len, stdout);
        gs_buf_free(&b);
    } else {
        gs_table_print(c.t, stdout);
        printf("(%d users)\n", c.n);
    }
    json_decref(c.arr);
    gs_table_destroy(&c.t);
    hub_store_close(&s);
    return rc;
}

static int cmd_user_enable(hub_cli *cli, int argc, char **argv, bool enable)
{
    const char *verb = enable ? "user enable" : "user disable";
    if (gs_cli_wants_help(argc, argv)) {
        printf("usage: gridhub %s LOGIN\n\n%s\n", verb,
               enable ? "Lets a disabled user log in again."
                      : "Stops the user from logging in; a session open in `gridhub web` ends at "
                        "its next request.");
        return 0;
    }
    gs_cli_args a;
    int rc = gs_cli_parse(cli, verb, argc, argv, NULL, NULL, NULL, &a);
    if (rc)
        return rc;
    if (a.npos != 1)
        return hub_usage("%s needs exactly one login", verb);
    hub_store *s = hub_open(cli);
    if (!s)
        return 1;
    gs_errbuf eb = {{0}};
    if (hub_user_set_disabled(s, a.pos[0], !enable, &eb))
        rc = hub_fail("%s: %s", verb, eb.msg);
    else {
        hub_audit_add(s, "(command line)", "", enable ? "user enable" : "user disable", a.pos[0],
                      &eb);
        printf("%s %s\n", a.pos[0], enable ? "enabled 已启用" : "disabled 已停用");
    }
    hub_store_close(&s);
    return rc;
}

static int cmd_user_passwd(hub_cli *cli, int argc, char **argv)
{
    if (gs_cli_wants_help(argc, argv)) {
        puts("usage: gridhub user passwd LOGIN\n\nSets the user's password: read twice from the "
             "terminal (once from standard\ninput when that is not a terminal); at least 8 "
             "characters.");
        return 0;
    }
    gs_cli_args a;
    int rc = gs_cli_parse(cli, "user passwd", argc, argv, NULL, NULL, NULL, &a);
    if (rc)
        return rc;
    if (a.npos != 1)
        return hub_usage("user passwd needs exactly one login");
    hub_store *s = hub_open(cli);
    if (!s)
        return 1;
    hub_user u;
    gs_errbuf eb = {{0}};
    char pw[256] = "", hash[256];
    if (hub_user_get(s, a.pos[0], &u, &eb) || gs_cli_new_password(pw, sizeof pw, &eb))
        rc = hub_fail("user passwd: %s", eb.msg);
    else if (gs_password_hash(pw, hash, sizeof hash, &eb) ||
             hub_user_set_password(s, u.login, hash, &eb))
        rc = hub_fail("user passwd: %s", eb.msg);
    else {
        hub_audit_add(s, "(command line)", "", "user passwd", u.login, &eb);
        printf("密码已设置 password set for %s\n", u.login);
    }
    sodium_memzero(pw, sizeof pw);
    hub_store_close(&s);
    return rc;
}

int hub_cmd_user(hub_cli *cli)
{
    if (cli->argc == 0)
        return hub_usage("user needs add, list, disable, enable or passwd");
    const char *verb = cli->argv[0];
    int argc = cli->argc - 1;
    char **argv = cli->argv + 1;
    if (!strcmp(verb, "add"))
        return cmd_user_add(cli, argc, argv);
    if (!strcmp(verb, "list"))
        return cmd_user_list(cli, argc, argv);
    if (!strcmp(verb, "disable"))
        return cmd_user_enable(cli, argc, argv, false);
    if (!strcmp(verb, "enable"))
        return cmd_user_enable(cli, argc, argv, true);
    if (!strcmp(verb, "passwd"))
        return cmd_user_passwd(cli, argc, argv);
    if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
        puts("usage: gridhub user add|list|disable|enable|passwd ... (--help after each)");
        return 0;
    }
    return hub_usage("user: unknown action \"%s\"", verb);
}
