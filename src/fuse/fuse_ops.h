// The table of low-level handlers (fuse_ops.cc). Internal to fuse/.
#pragma once

struct fuse_lowlevel_ops;

namespace tessera::fuse {
const fuse_lowlevel_ops& Ops();
}
