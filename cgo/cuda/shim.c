//go:build cgo && linux

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include "shim.h"

struct rc_api rc;

static const char *const rc_names[] = {
#define RC_NAME(lib, ret, name, params, args) #name,
    RC_SYMBOLS(RC_NAME)
#undef RC_NAME
};

static const int rc_libs[] = {
#define RC_LIB(lib, ret, name, params, args) lib,
    RC_SYMBOLS(RC_LIB)
#undef RC_LIB
};

static const size_t rc_offsets[] = {
#define RC_OFFSET(lib, ret, name, params, args) offsetof(struct rc_api, name),
    RC_SYMBOLS(RC_OFFSET)
#undef RC_OFFSET
};

int rc_nsyms(void) { return (int)(sizeof rc_names / sizeof rc_names[0]); }
const char *rc_sym_name(int i) { return rc_names[i]; }
int rc_sym_lib(int i) { return rc_libs[i]; }

// Function pointers are stored through memcpy: POSIX guarantees that a
// dlsym result converts to a function pointer of the same size.
void rc_sym_set(struct rc_api *t, int i, void *p) { memcpy((char *)t + rc_offsets[i], &p, sizeof p); }

void *rc_sym_get(const struct rc_api *t, int i) {
    void *p;
    memcpy(&p, (const char *)t + rc_offsets[i], sizeof p);
    return p;
}

void rc_install(const struct rc_api *t) { rc = *t; }

void *rc_dlopen(const char *path, int noload, const char **err) {
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | (noload ? RTLD_NOLOAD : 0));
    *err = h ? NULL : dlerror();
    return h;
}

void *rc_dlsym(void *handle, const char *name, const char **err) {
    dlerror();
    void *p = dlsym(handle, name);
    const char *e = dlerror();
    *err = e;
    return e ? NULL : p;
}

static unsigned rc_generation;
static int rc_device;
static void *rc_context;
static __thread unsigned rc_thread_generation;

void rc_select(int device, void *ctx) {
    rc_device = device;
    rc_context = ctx;
    __atomic_add_fetch(&rc_generation, 1, __ATOMIC_RELEASE);
}

void rc_bind_thread(void) {
    unsigned g = __atomic_load_n(&rc_generation, __ATOMIC_ACQUIRE);
    if (g == 0 || rc_thread_generation == g) return;
    // Failures surface in the call that follows: it runs on the wrong (or no)
    // device or context and returns its own error.
    rc.cudaSetDevice(rc_device);
    if (rc_context) rc.cuCtxSetCurrent(rc_context);
    rc_thread_generation = g;
}
