/*
 * The federation's commands (`mesnode keygen|sign|verify|bundle|publish`), called by node/main.c's
 * command table. Each takes the command's own argv (argv[0] is the command's name) and returns
 * the exit code: 0 success, 1 failure, 2 usage error.
 */
#ifndef MES_FEDERATION_CLI_H
#define MES_FEDERATION_CLI_H

int fed_cmd_keygen(int argc, char **argv);
int fed_cmd_sign(int argc, char **argv);
int fed_cmd_verify(int argc, char **argv);
int fed_cmd_bundle(int argc, char **argv);
int fed_cmd_publish(int argc, char **argv);
int fed_cmd_enroll(int argc, char **argv);
int fed_cmd_sync(int argc, char **argv);
int fed_cmd_report(int argc, char **argv);
int fed_cmd_rotate_key(int argc, char **argv);

extern const char fed_usage_keygen[], fed_usage_sign[], fed_usage_verify[], fed_usage_bundle[],
    fed_usage_publish[], fed_usage_enroll[], fed_usage_sync[], fed_usage_report[],
    fed_usage_rotate_key[];

#endif
