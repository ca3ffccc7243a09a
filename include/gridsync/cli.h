/*
 * gridsync/cli.h: the command line both programs share: one command table
 * per program (name, function, one-line Chinese and English summary, usage)
 * that dispatches and writes the usage text, the global options (--db,
 * --json, --help, --version), error reporting, and option parsing.
 *
 * The contract every command keeps, and this module enforces where it can:
 *  - an error is one line on stderr, "PROG: what was wrong", exit 1
 *    (gs_cli_fail); a command line that cannot be understood exits 2 and
 *    points at --help (gs_cli_usage);
 *  - options are parsed as getopt_long parses long options: `--title=测试`
 *    and `--title 测试` are the same, a value option takes the next word
 *    whatever it looks like, `--` ends the options, and the last of a
 *    repeated option wins. The messages are the same in both programs:
 *    "CMD: unknown option --x", "CMD: --x needs a value",
 *    "CMD: --x takes no value", naming the option and the command;
 *  - --db PATH (or --db=PATH) and --json are global: they may stand
 *    anywhere and are taken out before the command sees its arguments.
 *
 * Nothing here keeps state between calls: a gs_cli is the caller's, and the
 * tables are constant data.
 */
#ifndef GS_CLI_H
#define GS_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "gridsync/find.h"
#include "gridsync/schema.h"

/* Exit codes. */
enum { GS_CLI_OK = 0, GS_CLI_ERROR = 1, GS_CLI_USAGE = 2 };

typedef struct gs_cli gs_cli;
typedef struct gs_cli_cmd gs_cli_cmd;

/* A command: returns an exit code. */
typedef int (*gs_cli_fn)(gs_cli *cli);

/* Flags of a command table row. */
enum {
    /* The row stands for every record type that is not reference data
     * (incident, incidents, 网格事件 ...); its name is the placeholder shown
     * in the usage text (TYPE) and cli->rt is the type given. */
    GS_CLI_RECORD_TYPES = 1 << 0,
    /* The command reads argv itself rather than through gs_cli_parse:
     * --name=value is split into two words before it sees them. */
    GS_CLI_SPLIT_EQUALS = 1 << 1,
};

/* One row of a program's command table. */
struct gs_cli_cmd {
    const char *name; /* the word that selects it; NULL ends the table */
    gs_cli_fn fn;
    const char *summary; /* one line: Chinese, then English */
    const char *usage;   /* the arguments after the name, one line */
    unsigned flags;      /* GS_CLI_* */
};

/* A program: its name, its table and the text around the command list. */
typedef struct gs_cli_prog {
    const char *name;       /* "gridnode" */
    const char *title;      /* the first line of the usage text */
    const char *db_env;     /* the environment variable naming the database */
    const char *db_default; /* "./gridnode.db" */
    const gs_cli_cmd *cmds; /* ends with a row whose name is NULL */
    const char *footer;     /* after the command list; may be NULL */
} gs_cli_prog;

/* What a command is given. argv holds its own arguments (the command word,
 * --db and --json removed); the strings are the process's. */
struct gs_cli {
    const gs_cli_prog *prog;
    const gs_cli_cmd *cmd;
    const char *word;     /* the command as typed */
    const gs_rectype *rt; /* for a GS_CLI_RECORD_TYPES row */
    const char *db;       /* --db, the environment's, or the default */
    bool json;            /* --json */
    int argc;
    char **argv;
};

/* Runs the program: the process's set-up (malloc and SQLite tuning, the
 * C.UTF-8 locale), global options, --help/help/--version, dispatch through
 * the table. Returns the exit code. Both programs' main is this one call. */
int gs_cli_main(const gs_cli_prog *prog, int argc, char **argv);

/* Writes the usage text made from the table. */
void gs_cli_print_usage(const gs_cli_prog *prog, FILE *f);

/* Prints "PROG: message" on stderr; returns GS_CLI_ERROR. */
int gs_cli_fail(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "PROG: message (see PROG --help)" on stderr; returns GS_CLI_USAGE. */
int gs_cli_usage(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True if argv holds --help or -h (before a `--`). */
bool gs_cli_wants_help(int argc, char **argv);

/* ---- options ----------------------------------------------------------- */

#define GS_CLI_MAX_ARGS 128

/* An option a command takes. */
typedef struct gs_cli_opt {
    const char *name; /* "--status", "-v"; NULL ends a table */
    bool value;       /* takes a value */
    int id;           /* what the command calls it (>= 0) */
} gs_cli_opt;

/* For options a table cannot list (a record type's fields): the id of the
 * value option name (">= 0"), or -1 when there is none. */
typedef int (*gs_cli_lookup)(const char *name, void *arg);

/* The options given, in order, and the other words. */
typedef struct gs_cli_args {
    int n;
    struct gs_cli_item {
        int id;
        const char *name;  /* as the table spells it, or the word given */
        const char *value; /* NULL for a flag */
    } item[GS_CLI_MAX_ARGS];
    int npos;
    const char *pos[GS_CLI_MAX_ARGS];
} gs_cli_args;

/* Parses argv against opts (may be NULL) and lookup (may be NULL; its ids
 * must not clash with the table's). cmd names the command in messages
 * ("incident list"). GS_CLI_OK, or the exit code of the usage error it
 * printed. */
int gs_cli_parse(const gs_cli *cli, const char *cmd, int argc, char **argv, const gs_cli_opt *opts,
                 gs_cli_lookup lookup, void *arg, gs_cli_args *out);

/* gs_cli_parse for a command that takes options only: a word that is not an
 * option is the usage error "CMD: unexpected argument WORD". */
int gs_cli_parse_opts(const gs_cli *cli, const char *cmd, int argc, char **argv,
                      const gs_cli_opt *opts, gs_cli_args *out);

/* The value of the last option id given, or NULL. */
const char *gs_cli_arg(const gs_cli_args *a, int id);
/* How many times option id was given. */
int gs_cli_count(const gs_cli_args *a, int id);

/* Reads a --since/--until style value as a date the way entry reads dates
 * (2026-11-28, 2026/11/28, 2026年11月28日) into day (YYYY-MM-DD). GS_CLI_OK,
 * or the exit code of the usage error it printed, naming cmd and opt. */
int gs_cli_date(const gs_cli *cli, const char *cmd, const char *opt, const char *value,
                char day[11]);

/* Reads one line (a password) from standard input, without echo and after
 * prompt on stderr when it is a terminal; the line end is dropped. False at
 * end of input. (`gridnode web passwd`, `gridhub user passwd`) */
bool gs_cli_read_secret(const char *prompt, char *buf, size_t cap);
/* Reads a new password into pw: once, then again to compare when standard
 * input is a terminal; at least GS_PASSWORD_MIN_CHARS characters. 0, or
 * GS_EINVAL with eb's message ("no password given", "密码至少 8 个字符 ...",
 * "两次输入的密码不一样 ..."). The caller clears pw after use. */
int gs_cli_new_password(char *pw, size_t cap, gs_errbuf *eb);

/* ---- `TYPE list`, the same in both programs ------------------------------ */

/* What `PROG TYPE list` was asked (gridsync/find.h has the filters). */
typedef struct gs_cli_list {
    gs_find_filter filter;
    gs_find_format format; /* --format, or JSON with --json, else a table */
    char since[11], until[11];
    bool help; /* --help was given and printed */
} gs_cli_list;

/* Parses `TYPE list [--status S] [--category C] [--grid CODE] [--village
 * CODE] [--county CODE] [--township CODE] [--assignee NAME] [--since DATE]
 * [--until DATE] [--text T] [--reporter NAME] [--overdue] [--format F]` (argv[0] is
 * "list", cli->rt the type), or prints its help. GS_CLI_OK, or the exit code
 * of the usage error printed. */
int gs_cli_list_parse(const gs_cli *cli, gs_cli_list *q);

/* How a program reaches its store for `TYPE list`: open (NULL after
 * printing why), close, and the store's list query. */
typedef struct gs_cli_store {
    void *(*open)(const gs_cli *cli);
    void (*close)(void *store);
    gs_find_lister list;
} gs_cli_store;

/* `PROG TYPE list [filters] [--format table|csv|json|xlsx] [--out FILE]
 * [--bom]` in either program: the output options and the filters are
 * checked before the store is opened; the records go through the sheet
 * model (gs_find_print_list). An exit code. */
int gs_cli_list_run(gs_cli *cli, const gs_cli_store *store);

#endif
