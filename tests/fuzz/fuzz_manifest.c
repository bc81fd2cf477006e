/*
 * libFuzzer target for the manifest parser: arbitrary bytes as one manifest file, through
 * parsing, expansion, diagnostics rendering, the JSON report and the YAML renderer. Anything
 * but a clean return (crash, sanitizer report, leak, hang) is a finding.
 */
#include "manifest/manifest.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plumb_manifest_set set;
	plumb_manifest_init(&set);
	if (plumb_manifest_add(&set, "fuzz.yaml", (const char *)data, size) == 0 &&
	    plumb_manifest_finish(&set) == 0) {
		struct plumb_buf b = PLUMB_BUF_INIT;
		plumb_manifest_render_diags(&set, &b, true);
		if (plumb_manifest_errors(&set) == 0)
			plumb_manifest_render_yaml(&set, &b);
		plumb_buf_release(&b);
		json_decref(plumb_manifest_report_json(&set));
	}
	plumb_manifest_release(&set);
	return 0;
}
