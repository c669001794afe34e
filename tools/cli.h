/* tools/cli.h - what the `zkc` subcommands share: exit codes, and opening
 * a client the way every command does (--url, else $ZKC_URL). */
#ifndef ZKC_CLI_H
#define ZKC_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "zkc.h"

/* Exit codes of every zkc command: the table of docs/cli.md, printed by
 * `zkc --help` (tests/integration/test_cli_codes.c checks that the two
 * agree and drives each code). */
#define CLI_OK 0          /* success */
#define CLI_FAIL 1        /* any other failure; the message says why */
#define CLI_USAGE 2       /* unknown command or bad arguments */
#define CLI_NONODE 3      /* the node does not exist */
#define CLI_EXISTS 4      /* the node already exists */
#define CLI_BADVERSION 5  /* version mismatch */
#define CLI_NOAUTH 6      /* not allowed: ACL or authentication */
#define CLI_CONNECT 7     /* no connection to the ensemble */
#define CLI_NOTEMPTY 8    /* the node has children */
#define CLI_UNKNOWN 9     /* a write's outcome could not be learned */
#define CLI_DISAGREE 10   /* index verify/rebuild: the index disagrees */
#define CLI_TIMEOUT 124   /* lock not acquired / queue empty in time */
#define CLI_CANNOT_RUN 126 /* lock/elect: CMD found but not runnable */
#define CLI_NOT_FOUND 127 /* lock/elect: CMD not found */

/* Set by the global --json flag (tools/zkc.c): commands that print print
 * one JSON document (or one per line for streams) instead of text. */
extern int cli_json;

/* Internal results, never an exit status: a command printed its --help
 * (cli_main turns it into CLI_OK), or, in parse-only mode, a command's
 * arguments were accepted and it stopped where it would connect or act. */
#define CLI_HELP 100
#define CLI_PARSED 101

/* The whole command line: global options, then the command (tools/cli_main.c).
 * Returns the exit status; main() then passes it through cli_output_done,
 * which closes standard output. */
int cli_main(int argc, char **argv);

/* Parse-only mode (for tests/fuzz/fuzz_cli.c): when non-zero, every
 * command parses and checks its arguments as usual (reading DATA and FILE
 * arguments too), then returns CLI_PARSED where it would open a client or
 * start or touch an ensemble. Nothing is sent, started or spawned. */
extern int cli_parse_only;

/* Maps a zkc code to an exit code and prints "zkc: WHAT: message" for
 * failures (tools/cli_common.c). */
int cli_fail(const char *what, int code);

/* Opens a client on --url / $ZKC_URL (printing why on failure). NULL on
 * failure with *exit_code set. */
zkc_t *cli_open(int *exit_code);
/* The same with an explicit URL (NULL: $ZKC_URL) and options (NULL: the
 * defaults); `what` names the failure ("connect", "discover"). */
zkc_t *cli_open_url(const char *what, const char *url, const zkc_options_t *o,
                    int *exit_code);

/* A recipe's path from a command's NAME argument: NAME itself when it is a
 * path ("/..."), else prefix + NAME. malloc'd; NULL when out of memory. */
char *cli_name_path(const char *prefix, const char *name);

/* The chroot of a zk:// style URL ("/app" of zk://h:2181/app?x=1),
 * malloc'd, or NULL when it has none (or is out of memory). */
char *cli_url_chroot(const char *url);

/* Milliseconds since the epoch as ISO 8601 UTC ("2026-12-05T07:15:00.123Z")
 * in buf (at least 32 bytes); returns buf. */
char *cli_iso_time(char *buf, size_t size, int64_t ms);

/* Watches that follow one node (tools/cli_common.c): with `node`, an
 * exists watch (creation, deletion, data) tagged CLI_WATCH_NODE; with
 * `kids`, a children watch tagged CLI_WATCH_KIDS when the node exists.
 * A missing node is not an error: the exists watch reports its creation.
 * The tag comes back as the event's payload. */
#define CLI_WATCH_NODE ((void *)1)
#define CLI_WATCH_KIDS ((void *)2)
int cli_watch_arm(zkc_t *zk, const char *path, int node, int kids);

/* The end of every command (tools/zkc.c): flushes and closes standard
 * output; a write error (a full disk, a closed pipe) is reported and turns
 * a success into CLI_FAIL. Returns the exit code. */
int cli_output_done(int code);

/* Prints "zkc: " fmt (with one %s for arg) and the --help hint to stderr;
 * returns CLI_USAGE. */
int cli_usage_error(const char *fmt, const char *arg);

/* Before a command's getopt loop, with the optstring the loop uses: sets
 * optind to 1 after a full reset of getopt's state. optind = 1 alone keeps
 * where the last scan stopped inside a cluster of short options ("-xyz")
 * and the ordering (+) of the first scan ever; a later scan would read that
 * old argv (fuzz_cli found it as a use after free when cli_main runs
 * twice in one process). */
void cli_getopt_reset(const char *optstring);

/* Arguments (tools/cli_input.c). Strict base-10 numbers in [lo, hi]: 0,
 * or -1 for "", trailing characters or out of range. */
int cli_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);
int cli_parse_int(const char *s, int lo, int hi, int *out);
/* DATA argument: the text itself, or "-" for standard input read whole.
 * *out is malloc'd (not NUL-terminated from stdin). 0, or -1 on error. */
int cli_read_arg(const char *arg, char **out, size_t *len);
/* The same for a FILE argument ("-": standard input). */
int cli_read_file(const char *path, char **out, size_t *len);

/* --json output (tools/cli_json.c): `len` bytes as a JSON string on
 * stdout, quotes, backslashes and control bytes escaped. cli_json_string
 * passes other bytes (UTF-8 text) as they are; cli_json_bytes writes every
 * byte over 0x7e as its own \u00XX (binary keys). */
void cli_json_string(const void *data, size_t len);
void cli_json_bytes(const void *data, size_t len);
/* Node data as a JSON member: "data":"text" when it is UTF-8 text without
 * NUL bytes, else "data_b64":"base64" (the dump format's convention). */
void cli_json_data(const char *data, size_t len);
/* A stat as a JSON object (times in ms since the epoch, as ZooKeeper). */
void cli_json_stat(const zkc_stat_t *st);
/* base64 of n bytes (malloc'd, NULL when out of memory); 1 if d is UTF-8
 * text without NUL bytes. */
char *cli_b64_encode(const unsigned char *d, size_t n);
/* Decodes canonical base64 into out (room for 3/4 of strlen(s)); the
 * length, or -1 for anything else. */
long cli_b64_decode(const char *s, unsigned char *out);
int cli_is_text(const char *d, size_t n);

/* Signals (tools/cli_signal.c): SIGINT and SIGTERM, plus the signals in
 * `also` (0-terminated; NULL: none), are caught; each wakes
 * cli_wake_wait. */
void cli_signals_catch(const int *also);
/* The SIGINT or SIGTERM received (the last one), or 0. */
int cli_stop_signal(void);
/* 1 if `sig` (one of `also`) arrived since the last call for it. */
int cli_signal_take(int sig);

/* For commands that hold something while they run (tools/cli_proc.c).
 * One self-pipe per process: cli_wake() (async-signal-safe, also from
 * zkc's event thread) makes the next cli_wake_wait() return. */
int cli_wake_open(void);             /* 0, or -1 with errno */
void cli_wake_close(void);
void cli_wake(void);
int cli_wake_wait(int timeout_ms);   /* -1 wait forever; 0, or -1 on error */
/* Runs cmd in a child with default signal handling and env (NAME, VALUE,
 * ..., NULL) added; a command that cannot be run exits 127 (not found) or
 * 126, saying why as "zkc: WHAT: ...". Returns the child's pid, or -1. */
pid_t cli_spawn(const char *what, char **cmd, const char *const *env);
/* A child's wait status as an exit code: its own, or 128+N for signal N. */
int cli_exit_of(int status);

/* `zkc ensemble` (tools/cmd_ensemble.c) and its part of `zkc --help`. */
int cli_ensemble(int argc, char **argv);
extern const char cli_ensemble_usage[];

/* The node commands (tools/cmd_node.c). */
int cli_ls(int argc, char **argv);
int cli_get(int argc, char **argv);
int cli_set(int argc, char **argv);
int cli_create(int argc, char **argv);
int cli_rm(int argc, char **argv);
int cli_stat(int argc, char **argv);
int cli_tree(int argc, char **argv);
int cli_watch(int argc, char **argv);
/* Subtree and ACL commands (tools/cmd_tree_ops.c). */
int cli_du(int argc, char **argv);
int cli_find(int argc, char **argv);
int cli_grep(int argc, char **argv);
int cli_dump(int argc, char **argv);
int cli_load(int argc, char **argv);
int cli_cp(int argc, char **argv);
int cli_diff(int argc, char **argv);
int cli_acl(int argc, char **argv);
/* `zkc watch --tree`: a subtree through the cache (tools/cmd_watch.c). */
int cli_watch_tree(int argc, char **argv);

#endif
