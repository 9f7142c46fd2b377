/* libFuzzer target: any bytes through the BPMN reader, builder and
 * validator must give a model or diagnostics, never a crash, hang or leak.
 * Built with BPM_FUZZ=ON (clang); replay_main.c runs it over files in ctest. */
#include <stddef.h>
#include <stdint.h>

#include "bpmn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bpm_diags diags;
    bpm_diags_init(&diags);
    bpm_model *m = NULL;
    bpm_bpmn_limits limits = {.max_bytes = 1 << 20, .max_depth = 64};
    if (bpm_bpmn_read_buffer((const char *)data, size, "fuzz.bpmn", &limits, &m, &diags, NULL) == BPM_OK)
        bpm_model_unref(m);
    bpm_diags_cleanup(&diags);
    return 0;
}
