// Random passwords for `pinhole admin users create --generate-password`.
//
// Thread-safety: thread-safe (reads the kernel's CSPRNG, no shared state).
#pragma once

#include <string>

#include "core/result.h"

namespace pinhole::cli {

// `length` characters from an alphabet without look-alikes (no 0/O, 1/l/I),
// drawn uniformly from getrandom(2). Errors only if the kernel's random
// source fails.
Result<std::string> GeneratePassword(size_t length = 20);

}  // namespace pinhole::cli
