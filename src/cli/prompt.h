// Asking the person at the terminal: a line of text, a secret without echo,
// a yes/no question. Prompts go to and answers come from /dev/tty, so they
// work while stdin/stdout are redirected and never end up in a pipe.
//
// Thread-safety: not thread-safe (touches terminal modes and a signal
// handler); the CLI is single-threaded.
#pragma once

#include <istream>
#include <string>

#include "core/result.h"

namespace pinhole::cli {

// Errors (reason "no_terminal") when there is no terminal, or (reason
// "cancelled") on end of input.
Result<std::string> PromptLine(const std::string& prompt);

// Like PromptLine with echo turned off. The terminal mode is restored on
// return and also if the user interrupts with Ctrl-C.
Result<std::string> PromptSecret(const std::string& prompt);

// Asks a yes/no question; an empty answer means `default_yes`. False when
// there is no terminal.
bool Confirm(const std::string& question, bool default_yes);

// One line from `in` (for --password-stdin) without its line ending. Errors
// (reason "cancelled") when `in` is already at its end.
Result<std::string> ReadLine(std::istream& in);

}  // namespace pinhole::cli
