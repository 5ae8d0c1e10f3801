// See include/edgevec_shims.h.
#include "edgevec_shims.h"

#if defined(__linux__)
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#endif

#if defined(__linux__) && defined(MADV_HUGEPAGE)
#define EV_HUGE_PAGE ((size_t)2 << 20)

// -1 unknown, 0 off, 1 on. A benign race: every thread computes the same value.
static int ev_huge_pages = -1;

static int ev_huge_pages_on(void) {
    int on = ev_huge_pages;
    if (on < 0) {
        const char *value = getenv("EDGEVEC_HUGEPAGES");
        on = !(value && strcmp(value, "0") == 0);
        ev_huge_pages = on;
    }
    return on;
}

size_t _ev_huge_page_alignment(size_t bytes) {
    return bytes >= 2 * EV_HUGE_PAGE && ev_huge_pages_on() ? EV_HUGE_PAGE : 0;
}

void _ev_advise_huge_pages(void *pointer, size_t bytes) {
    // Advice only: a kernel without THP, or with it set to "never", says no
    // and the buffer keeps 4 KiB pages.
    (void)madvise(pointer, bytes, MADV_HUGEPAGE);
}
#else
size_t _ev_huge_page_alignment(size_t bytes) { (void)bytes; return 0; }
void _ev_advise_huge_pages(void *pointer, size_t bytes) { (void)pointer; (void)bytes; }
#endif
