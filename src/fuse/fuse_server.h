// fuse/: the thin adapter between the kernel's FUSE protocol (libfuse3
// low-level API) and vfs::Vfs. Each handler unpacks the request, calls the
// Vfs, and replies exactly once; a Status becomes an errno here and nowhere
// else. All state lives in the Vfs reached through the session's userdata.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "vfs/vfs.h"

namespace tessera::fuse {

struct MountOptions {
  std::string mountpoint;
  std::string fsname = "tessera";         // shown as the source in /proc/mounts
  std::vector<std::string> fuse_options;  // passed to the kernel as "-o" (allow_other, ...)
  bool debug = false;                     // log every FUSE request
  int max_threads = 16;                   // worker threads of the FUSE loop
};

// Checks that `mountpoint` is an existing, empty-or-not directory that is not
// already a mount point; returns a clear error otherwise.
Status CheckMountpoint(const std::string& mountpoint);

// Mounts `vfs` at options.mountpoint and serves requests until the file
// system is unmounted or SIGINT/SIGTERM/SIGHUP arrives; then unmounts.
// `on_ready` is called once: with OK when the mount is live, or with the
// error that prevented it.
Status Serve(vfs::Vfs& vfs, const MountOptions& options,
             const std::function<void(const Status&)>& on_ready);

}  // namespace tessera::fuse
