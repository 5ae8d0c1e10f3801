// Header-only shims; see include/edgevec_shims.h.
