// The web portal: the static files of web/ (one page and its assets), served
// by pinholed beside the API. The page talks to the server only through the
// public API, so the portal needs nothing from the server but these files and
// the headers that keep a browser strict about them.
//
// Thread-safety: a Portal is immutable after construction; Serve may be
// called concurrently.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"

namespace pinhole {

// One file, named by its path under web/ ("index.html", "assets/app.js").
struct PortalFile {
  std::string_view path;
  std::string_view body;
};

// The files compiled into the binary (generated from web/ at build time).
std::vector<PortalFile> EmbeddedPortalFiles();

// The Content-Security-Policy of every portal response: scripts, styles and
// requests only from this origin, no inline script, never inside a frame.
extern const char kPortalContentSecurityPolicy[];

class Portal {
 public:
  // Serves `files` (normally EmbeddedPortalFiles()).
  explicit Portal(std::vector<PortalFile> files);
  // Serves the files under `root`, read on every request: for working on the
  // portal without rebuilding.
  explicit Portal(std::filesystem::path root);

  // Whether `request` is the portal's to answer: a GET for any path outside
  // /api/ and the operational endpoints (/healthz, /readyz, /metrics,
  // /connection).
  static bool Claims(const HttpRequest& request);

  // /assets/<path> is that file (404 if there is none); any other path is
  // the page itself, whose script routes it. Answers 304 to a matching
  // If-None-Match.
  HttpResponse Serve(const HttpRequest& request) const;

 private:
  struct File {
    std::string body;
    std::string etag;
  };
  // The file at `path` under web/, or nullopt if there is none (or the path
  // tries to leave web/).
  std::optional<File> Find(std::string_view path) const;

  std::vector<std::pair<std::string, File>> files_;  // embedded, sorted by path
  std::filesystem::path root_;                       // set: read from disk
};

}  // namespace pinhole
