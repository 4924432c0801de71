/* SPDX-License-Identifier: MIT */
/* autocompress: entry point and subcommand dispatch. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: autocompress <command> [options]\n"
    "\n"
    "Post-training INT8 quantization of ONNX vision models.\n"
    "\n"
    "commands:\n"
    "  inspect MODEL [--json]   opsets, inputs/outputs, op histogram, parameters, and the\n"
    "                           nodes the engine cannot run yet\n"
    "  infer MODEL IN.pb... --out DIR [--threads N] [--isa LEVEL]\n"
    "                           run the model on TensorProto files, write DIR/output_K.pb\n"
    "  bench MODEL [--threads N] [--batch N] [--shape AxBxC] [--iters N] [--json] [--profile]\n"
    "                           time whole-model runs (median, min ms); per-node profile\n"
    "  calibrate --model MODEL --data DIR --save-stats FILE [--method NAME] [--num-images N]\n"
    "            [--shard i/n] [--batch N] [--threads N] [--preprocess YAML] [--inputs A.pb...]\n"
    "                           run MODEL over calibration images, save streaming statistics\n"
    "  merge OUT IN...          merge statistics files (shards merge exactly)\n"
    "  quantize --model MODEL (--stats FILE | --data DIR ...) --out DIR [--mode ort|tensorrt]\n"
    "           [--method NAME] [--per-tensor] [--skip-nodes a,b] [--op-types Conv,Gemm] ...\n"
    "                           write the INT8 QDQ model, calibration tables and deploy yaml\n"
    "  eval --model M --task cls|det|seg (--data F | --images DIR [--masks DIR]) [--json]\n"
    "       [--threads N] [--batch N] [--num-images N] [--shard i/n] [--save-state F]\n"
    "                           accuracy: top1/top5, COCO mAP/AP50 or mIoU (eval --help)\n"
    "  help                     this text\n"
    "  version                  print the version\n"
    "\n"
    "exit codes: 0 ok, 1 internal error or out of memory, 2 bad input (usage, invalid or\n"
    "hostile file, limit exceeded, unsupported content), 4 file could not be read or written.\n";

int ac_cli_exit_code(ac_status s) {
    switch (s) {
    case AC_OK:
        return AC_EXIT_OK;
    case AC_ERR_IO:
        return AC_EXIT_IO;
    case AC_ERR_FORMAT:
    case AC_ERR_MODEL:
    case AC_ERR_UNSUPPORTED:
    case AC_ERR_CONFIG:
    case AC_ERR_LIMIT:
    case AC_ERR_ARG:
        return AC_EXIT_BAD_INPUT;
    default:
        return AC_EXIT_FAILURE;
    }
}

int ac_cli_report(const ac_diag *d) {
    char line[sizeof d->where + sizeof d->msg + 8];
    fprintf(stderr, "autocompress: %s\n", ac_diag_line(d, line, sizeof line));
    return ac_cli_exit_code(d->status);
}

int ac_cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "autocompress %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'autocompress help')\n");
    va_end(ap);
    return AC_EXIT_BAD_INPUT;
}

static void stderr_logger(ac_log_level level, const char *msg, void *user) {
    (void)user;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "autocompress: %s: %s\n", names[level], msg);
}

int main(int argc, char **argv) {
    ac_log_set(stderr_logger, NULL, AC_LOG_WARN);
    if (argc < 2) {
        fputs(usage_text, stderr);
        return AC_EXIT_BAD_INPUT;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(usage_text, stdout);
        return AC_EXIT_OK;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("autocompress %s\n", AC_VERSION_STRING);
        return AC_EXIT_OK;
    }
    if (!strcmp(cmd, "inspect")) return ac_cmd_inspect(argc - 1, argv + 1);
    if (!strcmp(cmd, "infer")) return ac_cmd_infer(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return ac_cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval")) return ac_cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "calibrate")) return ac_cmd_calibrate(argc - 1, argv + 1);
    if (!strcmp(cmd, "merge")) return ac_cmd_merge(argc - 1, argv + 1);
    if (!strcmp(cmd, "quantize")) return ac_cmd_quantize(argc - 1, argv + 1);
    fprintf(stderr, "autocompress: unknown command '%s'\n\n%s", cmd, usage_text);
    return AC_EXIT_BAD_INPUT;
}
