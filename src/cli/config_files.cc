#include "cli/config_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pinhole::cli {

namespace fs = std::filesystem;

Result<fs::path> ConfigFilePath(std::string_view name, std::string_view what,
                                const char* xdg_config_home, const char* home) {
  // A relative XDG_CONFIG_HOME is invalid by the XDG spec and is ignored.
  if (xdg_config_home != nullptr && xdg_config_home[0] == '/') {
    return fs::path(xdg_config_home) / "pinhole" / std::string(name);
  }
  if (home != nullptr && home[0] != '\0') {
    return fs::path(home) / ".config" / "pinhole" / std::string(name);
  }
  return Status::Invalid("no_config_dir",
                         "cannot find " + std::string(what) + ": set HOME or XDG_CONFIG_HOME");
}

Result<std::string> ReadConfigFile(const fs::path& file, size_t max_bytes) {
  auto failure = [&file](int err) {
    return Status(err == ENOENT ? Code::kNotFound : Code::kInternal,
                  err == EACCES ? "permission_denied" : "io_error",
                  "cannot read " + file.string() + ": " + std::strerror(err));
  };
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failure(errno);
  std::string text;
  char chunk[4096];
  while (text.size() <= max_bytes) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return failure(err);
    }
    if (n == 0) break;
    text.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  if (text.size() > max_bytes + 1) text.resize(max_bytes + 1);
  return text;
}

}  // namespace pinhole::cli
