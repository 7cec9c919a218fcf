/* test_unsupported.c - capabilities of later milestones report UNSUPPORTED with a message.
 * Each issue that implements one of these removes its line here and tests the real thing. */
#include "localai.h"
#include "test_util.h"

#define CHECK_UNSUPPORTED(expr, word)                                                   \
    do {                                                                                \
        CHECK_STATUS(expr, LOCALAI_STATUS_UNSUPPORTED);                                 \
        CHECK_MSG(strstr(localai_errmsg(), word) != NULL, "message '%s' lacks '%s'",   \
                  localai_errmsg(), word);                                              \
    } while (0)

int main(void) {
    return test_finish("test_unsupported");
}
