#include "http/portal.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace pinhole {
namespace {

std::string_view ContentTypeFor(std::string_view path) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (path.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

// A validator that changes whenever the content does (FNV-1a, 64 bits).
std::string EtagOf(std::string_view body) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("\"{:016x}\"", h);
}

// A path under web/ made only of ordinary names: no "..", ".", empty
// segments, backslashes or NULs, so it cannot point outside web/.
bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.size() > 512) return false;
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) {
    return false;
  }
  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    std::string_view segment = path.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

HttpResponse NotFound() {
  HttpResponse r;
  r.status = 404;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "not found\n";
  return r;
}

}  // namespace

const char kPortalContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

Portal::Portal(std::vector<PortalFile> files) {
  for (const auto& f : files) {
    files_.emplace_back(std::string(f.path), File{std::string(f.body), EtagOf(f.body)});
  }
  std::sort(files_.begin(), files_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
}

Portal::Portal(std::filesystem::path root) : root_(std::move(root)) {}

bool Portal::Claims(const HttpRequest& request) {
  if (request.method != "GET") return false;
  const std::string& p = request.path;
  if (p == "/api" || p.starts_with("/api/")) return false;
  return p != "/healthz" && p != "/readyz" && p != "/metrics" && p != "/connection";
}

std::optional<Portal::File> Portal::Find(std::string_view path) const {
  if (!IsSafeRelativePath(path)) return std::nullopt;
  if (root_.empty()) {
    auto it =
        std::lower_bound(files_.begin(), files_.end(), path,
                         [](const auto& entry, std::string_view p) { return entry.first < p; });
    if (it == files_.end() || it->first != path) return std::nullopt;
    return it->second;
  }
  std::filesystem::path full = root_ / std::filesystem::path(std::string(path));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(full, ec)) return std::nullopt;
  std::ifstream in(full, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream body;
  body << in.rdbuf();
  File f{body.str(), ""};
  f.etag = EtagOf(f.body);
  return f;
}

HttpResponse Portal::Serve(const HttpRequest& request) const {
  std::string_view path = request.path;
  std::string file_path = "index.html";
  if (path.starts_with("/assets/")) file_path = std::string(path.substr(1));
  auto file = Find(file_path);
  if (!file) return NotFound();

  HttpResponse r;
  r.content_type = std::string(ContentTypeFor(file_path));
  r.headers.emplace_back("Content-Security-Policy", kPortalContentSecurityPolicy);
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
  // Asset names carry no version, so the browser must revalidate each time;
  // the ETag makes that a cheap 304.
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("ETag", file->etag);
  if (request.Header("if-none-match") == file->etag) {
    r.status = 304;
    return r;
  }
  r.body = std::move(file->body);
  return r;
}

}  // namespace pinhole
