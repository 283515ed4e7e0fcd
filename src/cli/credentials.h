// The saved login: {server, token, email} in
// $XDG_CONFIG_HOME/pinhole/credentials.json (or ~/.config/pinhole/...).
// The file holds a bearer token, so it is created 0600 inside a 0700
// directory and replaced atomically (write to a temp file, then rename), so a
// crash never leaves a half-written or world-readable token behind.
//
// Thread-safety: free functions with no shared state; concurrent writers of
// the same file race benignly (last rename wins).
#pragma once

#include <filesystem>
#include <string>

#include "core/result.h"

namespace pinhole::cli {

struct Credentials {
  std::string server;  // normalized base URL
  std::string token;
  std::string email;
};

// Where the credentials live, from the values of XDG_CONFIG_HOME and HOME
// (either may be null). XDG_CONFIG_HOME is used only when it is an absolute
// path, as the XDG spec says. Errors when neither gives a location.
Result<std::filesystem::path> CredentialsPath(const char* xdg_config_home, const char* home);

// NotFound when the file does not exist; InvalidArgument (reason
// "bad_credentials_file") when it is not the expected JSON.
Result<Credentials> LoadCredentials(const std::filesystem::path& file);

// Creates missing directories (the last one 0700, and tightens it to 0700 if
// it already exists) and writes the file with mode 0600.
Status SaveCredentials(const std::filesystem::path& file, const Credentials& credentials);

// Ok when removed or already absent.
Status RemoveCredentials(const std::filesystem::path& file);

}  // namespace pinhole::cli
