// Every entry point of shim.h as a weak stub returning 0 (success): with
// fakecuda.c it forms a stand-in for the CUDA libraries in loader_test.go.
#include "../shim.h"

struct rc_api rc;
void rc_bind_thread(void) {}

#define FAKE(lib, ret, name, params, args) __attribute__((weak)) ret name params { return (ret)0; }
RC_SYMBOLS(FAKE)
