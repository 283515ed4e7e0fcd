#include "cli/prompt.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>

namespace pinhole::cli {
namespace {

// State for restoring the terminal from the SIGINT handler.
int g_tty_fd = -1;
struct termios g_saved_mode;

void RestoreAndReraise(int sig) {
  if (g_tty_fd >= 0) ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_saved_mode);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

class Tty {
 public:
  Tty() : fd_(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) {}
  ~Tty() {
    if (fd_ >= 0) ::close(fd_);
  }
  Tty(const Tty&) = delete;
  Tty& operator=(const Tty&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  void Write(const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
      ssize_t n = ::write(fd_, s.data() + done, s.size() - done);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

  // Reads up to a newline; false on end of input or error.
  bool ReadLine(std::string& line) {
    line.clear();
    char c;
    for (;;) {
      ssize_t n = ::read(fd_, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return !line.empty();
      if (c == '\n') break;
      line += c;
      if (line.size() > 4096) break;  // nobody types this much; stop on junk
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }

 private:
  int fd_;
};

Status NoTerminal() {
  return Status::Invalid("no_terminal", "no terminal to prompt on; give the value with a flag");
}
Status Cancelled() { return Status::Invalid("cancelled", "cancelled (end of input)"); }

}  // namespace

Result<std::string> PromptLine(const std::string& prompt) {
  Tty tty;
  if (!tty.ok()) return NoTerminal();
  tty.Write(prompt);
  std::string line;
  if (!tty.ReadLine(line)) return Cancelled();
  return line;
}

Result<std::string> PromptSecret(const std::string& prompt) {
  Tty tty;
  if (!tty.ok()) return NoTerminal();
  struct termios mode;
  if (::tcgetattr(tty.fd(), &mode) != 0) return NoTerminal();
  g_saved_mode = mode;
  g_tty_fd = tty.fd();
  auto old_handler = std::signal(SIGINT, RestoreAndReraise);
  mode.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  mode.c_lflag |= ECHONL;
  ::tcsetattr(tty.fd(), TCSAFLUSH, &mode);
  tty.Write(prompt);
  std::string line;
  bool got = tty.ReadLine(line);
  ::tcsetattr(tty.fd(), TCSAFLUSH, &g_saved_mode);
  std::signal(SIGINT, old_handler);
  g_tty_fd = -1;
  if (!got) return Cancelled();
  return line;
}

bool Confirm(const std::string& question, bool default_yes) {
  Result<std::string> answer = PromptLine(question + (default_yes ? " [Y/n] " : " [y/N] "));
  if (!answer.ok()) return false;
  if (answer->empty()) return default_yes;
  char c = (*answer)[0];
  return c == 'y' || c == 'Y';
}

Result<std::string> ReadLine(std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) return Cancelled();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace pinhole::cli
