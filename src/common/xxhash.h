// xxHash3 at the widest vector width the CPU has. Debian's libxxhash is built
// for baseline x86-64 (SSE2); its dispatch entry points choose AVX2 or
// AVX-512 at run time, which hashes 4 KiB pieces about 2.8 times faster on
// the development VM. Include this instead of <xxhash.h>; the hashes are the
// same whichever code computes them.
#pragma once

#include <xxhash.h>
#if defined(__x86_64__)
#include <xxh_x86dispatch.h>
#endif
