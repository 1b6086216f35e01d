// Placement new: <new> on the host; the kernel (no C++ library headers)
// declares it itself, as the language requires it to exist.
#pragma once

#if __has_include(<new>)
#include <new>
#else
inline void* operator new(decltype(sizeof 0), void* p) noexcept { return p; }
inline void* operator new[](decltype(sizeof 0), void* p) noexcept { return p; }
#endif
