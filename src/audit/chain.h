// The audit log's hash chain: each event's hash covers its fields and the
// previous event's hash, so that removing or editing an event breaks every
// later hash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace pinhole {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Hex SHA-256 over an unambiguous encoding of (seq, time, actor, action,
// object, client_ip, details_json, prev_hash).
std::string ComputeAuditHash(const AuditEvent& event);

// Index of the first event whose prev_hash or hash does not check out, or -1.
// `events` must be consecutive; the first one's prev_hash is taken as given.
int FindBrokenLink(const std::vector<AuditEvent>& events);

// Hex SHA-256 of arbitrary bytes.
std::string Sha256Hex(std::string_view data);

}  // namespace pinhole
