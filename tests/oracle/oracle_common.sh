# SPDX-License-Identifier: MIT
# Shared set-up of the ONNX Runtime oracle scripts (sourced, not run). Each step exits the
# calling script: 0 with "<name>: skipped (...)" when something optional is missing (the shared
# folder, node, ONNX Runtime), so the suite still passes on machines without them.

# oracle_need_shared_and_node NAME: $AC_SHARED_DIR must hold models/ and node must exist; sets
# `shared`.
oracle_need_shared_and_node() {
    shared="${AC_SHARED_DIR:-}"
    if [ -z "$shared" ] || [ ! -d "$shared/models" ]; then
        echo "$1: skipped (shared folder '${shared}' not found)"
        exit 0
    fi
    if ! command -v node >/dev/null 2>&1; then
        echo "$1: skipped (node is not installed)"
        exit 0
    fi
}

# oracle_setup_ort NAME: installs ONNX Runtime through the shared setup.sh (which returns at once
# when it is already installed); sets `run_js` (the runner) and `work` (a temp folder removed on
# exit).
oracle_setup_ort() {
    local ort_dir="$shared/tools/ort"
    if ! sh "$ort_dir/setup.sh" >/dev/null 2>&1; then
        echo "$1: skipped (ONNX Runtime could not be installed by $ort_dir/setup.sh)"
        exit 0
    fi
    run_js="$ort_dir/ort_run.js"
    work="$(mktemp -d "${TMPDIR:-/tmp}/ac_$1.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
}
