// The nftables enforcer: holes as elements of per-service sets in one
// `inet` table of this host (layout and reasons in nft_layout.h). Pinhole
// owns that table and never touches anything outside it.
//
// Every element carries a kernel timeout (the remaining lease time, whole
// seconds, at least 1 s, rounded down so the kernel never keeps a hole open
// past its lease by more than that minimum), so holes close even if pinholed
// is dead.
//
// Idempotence without reading first: every touched element is first added
// with a 1 s timeout, then deleted, then (for upserts) added back with its
// real timeout, all in one transaction. Removing a missing element therefore
// succeeds, and an upsert replaces the element atomically (no moment of
// closure), whatever the kernel held.
//
// Costs (measured, kernel 6.18, nft 1.0.6): Apply sends one transaction and
// never lists the table: 0.08 ms for one hole with 100 or with 100,000 holes
// present. SyncServices and ListHoles list the whole table, which the kernel
// dumps in O(n^2/chunk) for hash sets: 0.5-3 s with 100,000 holes. A failed
// Apply lists it once to repair, then retries once.
//
// Drift: ListHoles reads the kernel. Structure that went missing or changed
// (table, chains, rules, sets) is rebuilt on the spot, because a flushed
// service chain or a deleted dispatch rule would leave a service open.
// Missing or extra elements are reported as they are, for the controller to
// repair with Apply.
//
// Thread-safety: one thread at a time (see Enforcer). Calls act on the
// network namespace of the calling thread.
#pragma once

#include <memory>

#include "core/clock.h"
#include "enforce/enforcer.h"
#include "enforce/nftables/nft_runner.h"
#include "enforce/registry.h"

namespace pinhole {

inline constexpr std::string_view kNftablesBackend = "nftables";

// The enforcer on this host's libnftables. InvalidArgument ("invalid_config")
// for a bad table name. Does not touch the kernel until first used.
Result<std::unique_ptr<Enforcer>> NewNftablesEnforcer(const EnforcerOptions& options);

// Same, with an injected runner (tests use a recording fake) and clock
// (nullptr = system clock; a non-null clock must outlive the enforcer).
Result<std::unique_ptr<Enforcer>> NewNftablesEnforcer(const EnforcerOptions& options,
                                                      std::unique_ptr<NftRunner> runner,
                                                      const Clock* clock = nullptr);

}  // namespace pinhole
