// A real SMTP server for tests: Debian's python3-aiosmtpd, started on
// 127.0.0.1 on a port it picks, printing every message it receives (the
// aiosmtpd Debugging handler) to a file the test reads. Recipients starting
// with "reject" get a 550, with "later" a 451; AUTH accepts only
// "pinhole" / "right-password" and is optional.
//
// Not thread-safe; one per test.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace pinhole::test_support {

inline constexpr const char* kSmtpSinkScript = R"PY(
import asyncio, sys
from aiosmtpd.handlers import Debugging
from aiosmtpd.smtp import SMTP, AuthResult

class Handler(Debugging):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("later"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"pinhole" and auth_data.password == b"right-password"
    return AuthResult(success=ok, handled=False)

async def main():
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(
        lambda: SMTP(Handler(sys.stdout), authenticator=authenticate,
                     auth_require_tls=False, auth_required=False),
        "127.0.0.1", 0)
    print("PORT", srv.sockets[0].getsockname()[1], flush=True)
    await srv.serve_forever()

asyncio.run(main())
)PY";

class SmtpSink {
 public:
  // nullptr with `why` set when aiosmtpd is missing or does not start.
  static std::unique_ptr<SmtpSink> Start(std::string& why) {
    // Debian's python, which has python3-aiosmtpd (not a python first on PATH).
    const char* python = "/usr/bin/python3";
    if (std::system("/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1") != 0) {
      why = "python3-aiosmtpd is not installed for /usr/bin/python3";
      return nullptr;
    }
    auto sink = std::unique_ptr<SmtpSink>(new SmtpSink());
    sink->dir_ = std::filesystem::temp_directory_path() /
                 ("pinhole_smtp_" + std::to_string(::getpid()) + "_" +
                  std::to_string(reinterpret_cast<uintptr_t>(sink.get())));
    std::filesystem::create_directories(sink->dir_);
    std::ofstream(sink->dir_ / "sink.py") << kSmtpSinkScript;
    std::string out = (sink->dir_ / "out.txt").string();
    std::string err = (sink->dir_ / "err.txt").string();
    std::string script = (sink->dir_ / "sink.py").string();

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> env = {"PATH=/usr/bin:/bin"};
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = {python, "-I", "-u", script};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&sink->pid_, python, &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      why = "cannot start /usr/bin/python3";
      sink->pid_ = -1;
      return nullptr;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string text = sink->Output();
      size_t at = text.find("PORT ");
      if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
        sink->port_ = std::stoi(text.substr(at + 5));
        return sink;
      }
      int status;
      if (::waitpid(sink->pid_, &status, WNOHANG) == sink->pid_) {
        sink->pid_ = -1;
        why = "the SMTP sink exited: " + sink->Read("err.txt");
        return nullptr;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    why = "the SMTP sink did not start within 15 s: " + sink->Read("err.txt");
    return nullptr;
  }

  ~SmtpSink() {
    Kill();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }

  // Stops the server (to test an outage); messages printed so far remain.
  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  // Everything between the Debugging handler's markers, one entry per message.
  std::vector<std::string> Messages() const {
    std::vector<std::string> out;
    std::string text = Output();
    const std::string begin = "---------- MESSAGE FOLLOWS ----------\n";
    const std::string end = "------------ END MESSAGE ------------\n";
    size_t pos = 0;
    while ((pos = text.find(begin, pos)) != std::string::npos) {
      size_t stop = text.find(end, pos);
      if (stop == std::string::npos) break;
      out.push_back(text.substr(pos + begin.size(), stop - pos - begin.size()));
      pos = stop + end.size();
    }
    return out;
  }

  std::vector<std::string> WaitForMessages(size_t n) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::vector<std::string> got = Messages();
    while (got.size() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      got = Messages();
    }
    return got;
  }

 private:
  SmtpSink() = default;
  std::string Output() const { return Read("out.txt"); }
  std::string Read(const char* name) const {
    std::ifstream in(dir_ / name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace pinhole::test_support
