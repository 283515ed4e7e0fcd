// Tokens in links that act without a session: confirming an invitation, a
// one-click approve or deny from an admin's email, setting a password.
//
// A link token is "<purpose letter>.<random 128+ bits>.<expiry, unix
// seconds>.<HMAC-SHA256 over the rest, truncated>". The signature lets the
// server refuse forged or altered links before touching the store; the store
// keeps only the token's hash (ActionToken) and marks it used, which makes it
// single-use. Pure functions of their inputs (plus the CSPRNG); thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/model.h"
#include "core/result.h"

namespace pinhole {

struct IssuedLinkToken {
  std::string token;   // goes into the URL, never stored
  ActionToken record;  // what the store keeps (hash, purpose, expiry)
};

// A new token for `purpose` ("invite" | "approve" | "deny" | "set_password"),
// signed with `key`. lease_id / user_id go into the record (0 = the object
// the same store call creates).
IssuedLinkToken IssueLinkToken(std::string_view key, std::string_view purpose, Id lease_id,
                               Id user_id, Time now, Time expires);

// Checks a token's form, signature and purpose. Errors: NotFound
// "invalid_link" for anything forged, malformed or of another purpose; a
// well-signed but expired token is Conflict "link_expired" (HTTP 410).
// Whether it was used is the store's to say.
Status VerifyLinkToken(std::string_view key, std::string_view token, std::string_view purpose,
                       Time now);

}  // namespace pinhole
