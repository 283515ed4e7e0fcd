// NftRunner: the one place where Pinhole talks to libnftables.
//
// The nftables enforcer builds typed JSON command batches (libnftables-json
// schema) and hands them to a runner; tests replace the runner with a
// recording fake. One Run() is one libnftables call, so every change in the
// batch is one kernel transaction: all of it applies, or none.
//
// Thread-safety: a runner is used from one thread at a time. The real runner
// talks to the network namespace of the calling thread.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"

namespace pinhole {

class NftRunner {
 public:
  virtual ~NftRunner() = default;

  // Runs a batch of changes (`json` is {"nftables":[...]}) as one
  // transaction. On failure nothing was changed, and the Status is NotFound
  // (reason "nft_not_found") when the kernel said ENOENT (missing table,
  // set, chain or element), PermissionDenied when CAP_NET_ADMIN is missing,
  // Unavailable (reason "nft_failed") otherwise; the message holds
  // libnftables' error text.
  virtual Result<std::string> Run(const std::string& json) = 0;

  // Runs a read-only batch ("list ...") and returns libnftables' JSON
  // output. Errors as for Run.
  virtual Result<std::string> List(const std::string& json) = 0;
};

// The runner backed by libnftables, bound to the network namespace of the
// thread that first calls it.
//
// Changes go through one long-lived nft context: closing a context whose
// socket committed element deletions waits for an RCU grace period (measured
// 8-16 ms per call with a fresh context, 0.07 ms with a kept one). Lists use
// a fresh context each time and drop it at once: a context that listed a big
// set keeps that cache and pays to rebuild it on its next command (60 ms with
// 100k elements), so the change context never lists.
std::unique_ptr<NftRunner> NewLibNftablesRunner();

// Maps libnftables' error text to a Status (exposed for tests).
Status NftErrorStatus(const std::string& error_text);

}  // namespace pinhole
