// Debian's libjemalloc-dev: unprefixed malloc plus the *allocx extended API.
#include <jemalloc/jemalloc.h>
