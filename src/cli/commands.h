// The verbs of the `tessera` command. Each Add*Command registers a CLI11
// subcommand whose callback does the work and sets the process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "common/status.h"

namespace tessera::cli {

void AddFormatCommand(CLI::App& app);
void AddMountCommand(CLI::App& app);
void AddUmountCommand(CLI::App& app);
void AddStatusCommand(CLI::App& app);
void AddInfoCommand(CLI::App& app);
void AddCompactCommand(CLI::App& app);
void AddObjbenchCommand(CLI::App& app);
void AddBenchMetaCommand(CLI::App& app);
void AddBenchCommand(CLI::App& app);
void AddDumpCommand(CLI::App& app);
void AddLoadCommand(CLI::App& app);
void AddStatsCommand(CLI::App& app);
void AddWarmupCommand(CLI::App& app);
void AddRestoreCommand(CLI::App& app);

// The counters of the mount whose root is `mountpoint` (its tessera.stats xattr).
Result<std::map<std::string, double>> ReadMountMetrics(const std::string& mountpoint);

// Prints "tessera: <message>" to stderr and exits with status 1.
[[noreturn]] void Die(const std::string& message);

// Expands a leading "~/" with $HOME.
std::string ExpandHome(const std::string& path);

// Makes a sqlite3:// URL's path absolute (a daemon changes directory).
std::string AbsoluteMetaUrl(const std::string& url);

}  // namespace tessera::cli
