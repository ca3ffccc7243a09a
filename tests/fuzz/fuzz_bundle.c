/*
 * fuzz_bundle.c: libFuzzer target for the node bundle parser (proto/bundle.c),
 * the first thing `gridnode init --bundle` does with a file that came on a
 * USB stick.
 *
 * Any input must parse or fail cleanly (the sanitizers catch the rest), and
 * a failure must say why (gs_errbuf non-empty: "every error names the line
 * and the key"). What parses must be a usable bundle (every required value
 * present and well-formed) and survive a round trip: format it, parse that,
 * and get the same bundle field by field; and the format is canonical, so
 * formatting the second parse gives the same bytes again. A mismatch aborts.
 *
 * Seed corpus: tests/fuzz/corpus/bundle/ (valid-* parse, bad-* do not; their
 * keys are throwaway test keys that secure nothing; bug-* reproduce a defect
 * this target detects and that is still open, so the replay fails until it
 * is fixed).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/bundle.h"
#include "gridsync/change.h"

/* Field-by-field equality of two parsed bundles. */
static int bundle_equal(const gs_bundle *a, const gs_bundle *b)
{
    return !strcmp(a->node_id, b->node_id) && !strcmp(a->village, b->village) &&
           !strcmp(a->name, b->name) && !strcmp(a->hub_endpoint, b->hub_endpoint) &&
           !strcmp(a->hub_public_key, b->hub_public_key) &&
           !strcmp(a->node_public_key, b->node_public_key) &&
           !strcmp(a->node_secret_key, b->node_secret_key);
}

/* What a successful parse promises gridnode init: the required values are
 * there and valid, the secret key absent or valid. */
static int bundle_usable(const gs_bundle *b)
{
    return gs_origin_valid(b->node_id) && strcmp(b->node_id, GS_HUB_ORIGIN) &&
           gs_village_code_valid(b->village) && gs_endpoint_valid(b->hub_endpoint) &&
           gs_z85_key_valid(b->hub_public_key) && gs_z85_key_valid(b->node_public_key) &&
           (!b->node_secret_key[0] || gs_z85_key_valid(b->node_secret_key));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char nothing[1] = "";
    const char *text = size ? (const char *)data : nothing; /* never NULL to memchr */
    gs_bundle first, second;
    gs_errbuf eb = {{0}};
    if (gs_bundle_parse(text, size, &first, &eb) != GS_OK) {
        if (!eb.msg[0])
            abort(); /* refused without saying why */
        return 0;
    }
    if (!bundle_usable(&first))
        abort();
    gs_buf out = GS_BUF_INIT, again = GS_BUF_INIT;
    gs_bundle_format(&first, &out);
    if (out.err || !out.data)
        abort();
    if (gs_bundle_parse(out.data, out.len, &second, &eb) != GS_OK)
        abort();
    if (!bundle_equal(&first, &second))
        abort();
    gs_bundle_format(&second, &again);
    if (again.err || again.len != out.len || memcmp(again.data, out.data, out.len))
        abort();
    gs_buf_free(&out);
    gs_buf_free(&again);
    return 0;
}
