// The whole pinhole command line: builds the CLI11 parser, parses argv, runs
// the chosen command, and maps every outcome to an exit status (see
// context.h). main() is a thin wrapper so tests can run commands against a
// fake HttpClient.
//
// Thread-safety: single-threaded.
#pragma once

#include "cli/context.h"

namespace pinhole::cli {

// Parses and runs; returns the process exit status. Help and --version
// print to ctx.out() and return 0; usage errors print to ctx.err() and
// return 2.
int RunCli(int argc, const char* const* argv, Context& ctx);

}  // namespace pinhole::cli
