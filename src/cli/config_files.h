// Where the CLI keeps its own files ($XDG_CONFIG_HOME/pinhole/ if that is an
// absolute path, else ~/.config/pinhole/), and reading one of them. Shared by
// the saved login (credentials.json) and the tunnel host mapping (hosts).
//
// Thread-safety: plain functions of their arguments and the file system.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace pinhole::cli {

// The path of `name` in the CLI's directory. InvalidArgument
// "no_config_dir" (naming `what`) when neither variable gives a location.
Result<std::filesystem::path> ConfigFilePath(std::string_view name, std::string_view what,
                                             const char* xdg_config_home, const char* home);

// The file's contents, at most `max_bytes` + 1 bytes (so that a caller can
// tell a file that is too large). NotFound if it does not exist; otherwise
// Internal "permission_denied" or "io_error", with the path and the reason.
Result<std::string> ReadConfigFile(const std::filesystem::path& file, size_t max_bytes);

}  // namespace pinhole::cli
