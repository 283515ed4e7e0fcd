// Runs test code inside a network namespace of its own, so that nftables
// tests never touch the host's ruleset.
//
// The body runs on a fresh thread that calls unshare(CLONE_NEWNET): the
// namespace belongs to that thread alone and the kernel destroys it, with
// every table in it, when the thread ends, even if the test failed.
#pragma once

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

namespace pinhole::testing {

inline ino_t CurrentNetnsInode() {
  struct stat st {};
  if (stat("/proc/thread-self/ns/net", &st) != 0) return 0;
  return st.st_ino;
}

// Returns "" after running `body` in a new namespace, or why it could not
// (not root, no namespace support); `body` is not run then.
inline std::string RunInNewNetns(const std::function<void()>& body) {
  std::string error;
  std::thread worker([&] {
    ino_t host = CurrentNetnsInode();
    if (unshare(CLONE_NEWNET) != 0) {
      error = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    ino_t mine = CurrentNetnsInode();
    if (host == 0 || mine == 0 || mine == host) {
      error = "could not confirm that the thread left the host network namespace";
      return;
    }
    body();
  });
  worker.join();
  return error;
}

}  // namespace pinhole::testing

// Runs the braced body in a fresh namespace (RunInNewNetns). Skips the test
// when not root; as root, failing to get a namespace is a test failure.
#define IN_NETNS(...)                                                      \
  do {                                                                     \
    std::string why_ = ::pinhole::testing::RunInNewNetns([&] __VA_ARGS__); \
    if (!why_.empty()) {                                                   \
      if (geteuid() == 0) FAIL() << why_;                                  \
      GTEST_SKIP() << "needs root for network namespaces: " << why_;       \
    }                                                                      \
  } while (0)
