// The C library functions the compiler may emit calls to in freestanding
// code ([C11] 7.24): memcpy, memmove, memset, memcmp (string_ops.h holds
// them, host-tested). Kernel only.
#include "src/kernel/string_ops.h"

extern "C" {

void* memcpy(void* dst, const void* src, size_t n) { return kernel::copy_bytes(dst, src, n); }
void* memmove(void* dst, const void* src, size_t n) { return kernel::move_bytes(dst, src, n); }
void* memset(void* dst, int c, size_t n) { return kernel::fill_bytes(dst, c, n); }
int memcmp(const void* a, const void* b, size_t n) { return kernel::compare_bytes(a, b, n); }

}  // extern "C"
