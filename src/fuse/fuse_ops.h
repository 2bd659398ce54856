// The table of low-level handlers (fuse_ops.cc). Internal to fuse/.
#pragma once

struct fuse_lowlevel_ops;

#include <functional>

namespace tessera::fuse {
const fuse_lowlevel_ops& Ops();
// Runs `fn` once, inside the first request after INIT (by then the kernel has
// applied the INIT reply). Set before the session starts.
void SetAfterInit(std::function<void()> fn);
}
