#include "cli/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cli/config_files.h"

namespace pinhole::cli {
namespace {

namespace fs = std::filesystem;

Status ErrnoStatus(const std::string& what, const fs::path& path, int err) {
  return Status(err == ENOENT ? Code::kNotFound : Code::kInternal,
                err == EACCES ? "permission_denied" : "io_error",
                what + " " + path.string() + ": " + std::strerror(err));
}

// mkdir -p, where only directories we create get 0700; the leaf directory is
// forced to 0700 even if it already existed with looser bits.
Status MakePrivateDirectory(const fs::path& dir) {
  fs::path partial;
  for (const fs::path& part : dir) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus("cannot create directory", partial, errno);
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("cannot stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) {
    return Status::Internal(dir.string() + " exists and is not a directory");
  }
  if ((st.st_mode & 0777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) {
    return ErrnoStatus("cannot chmod", dir, errno);
  }
  return Status::Ok();
}

Status WriteAll(int fd, const std::string& data, const fs::path& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Result<fs::path> CredentialsPath(const char* xdg_config_home, const char* home) {
  return ConfigFilePath("credentials.json", "a place for credentials", xdg_config_home, home);
}

Result<Credentials> LoadCredentials(const fs::path& file) {
  // A credentials file is tiny; a large one is junk and fails to parse.
  ASSIGN_OR_RETURN(std::string text, ReadConfigFile(file, 1 << 20));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string& why) {
    return Status::Invalid("bad_credentials_file",
                           file.string() + ": " + why + "; run `pinhole login` again");
  };
  if (!j.is_object()) return bad("not a JSON object");
  Credentials c;
  for (auto [key, field] : {std::pair{"server", &c.server}, std::pair{"token", &c.token},
                            std::pair{"email", &c.email}}) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_string()) return bad(std::string("\"") + key + "\" is not a string");
    *field = it->get<std::string>();
  }
  if (c.server.empty() || c.token.empty()) return bad("server or token missing");
  return c;
}

Status SaveCredentials(const fs::path& file, const Credentials& credentials) {
  RETURN_IF_ERROR(MakePrivateDirectory(file.parent_path()));
  std::string data = nlohmann::json{{"server", credentials.server},
                                    {"token", credentials.token},
                                    {"email", credentials.email}}
                         .dump(2) +
                     "\n";
  fs::path temp = file;
  temp += ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus("cannot create", temp, errno);
  Status st = WriteAll(fd, data, temp);
  // The umask cannot widen 0600 but may be odd; make the mode explicit.
  if (st.ok() && ::fchmod(fd, 0600) != 0) st = ErrnoStatus("cannot chmod", temp, errno);
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus("cannot sync", temp, errno);
  if (::close(fd) != 0 && st.ok()) st = ErrnoStatus("cannot close", temp, errno);
  if (st.ok() && ::rename(temp.c_str(), file.c_str()) != 0) {
    st = ErrnoStatus("cannot replace", file, errno);
  }
  if (!st.ok()) ::unlink(temp.c_str());
  return st;
}

Status RemoveCredentials(const fs::path& file) {
  if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("cannot remove", file, errno);
  }
  return Status::Ok();
}

}  // namespace pinhole::cli
