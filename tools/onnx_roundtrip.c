/* SPDX-License-Identifier: MIT */
/* onnx_roundtrip IN.onnx OUT.onnx: reads a model and writes it back with ac_model_save.
 * The ORT oracle (tests/oracle/ort_roundtrip.sh) runs both files to prove the writer keeps the
 * model's meaning; by hand it shows how a model looks after our reader/writer. */
#include "autocompress/ac_model.h"

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: onnx_roundtrip IN.onnx OUT.onnx\n");
        return 2;
    }
    ac_diag d = {0};
    ac_model *m = NULL;
    ac_status s = ac_model_load(argv[1], NULL, &m, &d);
    if (s == AC_OK) s = ac_model_save(m, argv[2], &d);
    ac_model_free(m);
    if (s != AC_OK) {
        char line[900];
        fprintf(stderr, "onnx_roundtrip: %s\n", ac_diag_line(&d, line, sizeof line));
        return 1;
    }
    return 0;
}
