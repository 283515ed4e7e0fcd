// A recording NftRunner for unit tests of the nftables enforcer: keeps every
// batch it was given (parsed), answers `list table` with a canned listing (or
// "No such file or directory" when there is none), and fails chosen calls.
#pragma once

#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "enforce/nftables/nft_runner.h"

namespace pinhole::testing {

class FakeNftRunner final : public NftRunner {
 public:
  struct Shared {
    std::vector<nlohmann::json> batches;  // every Run, parsed
    std::optional<std::string> listing;   // reply to `list table`; nullopt = no table
    std::deque<Status> change_failures;   // failures for the next non-list runs
  };

  explicit FakeNftRunner(Shared* shared) : shared_(shared) {}

  Result<std::string> Run(const std::string& json) override {
    shared_->batches.push_back(nlohmann::json::parse(json));
    if (!shared_->change_failures.empty()) {
      Status st = shared_->change_failures.front();
      shared_->change_failures.pop_front();
      return st;
    }
    return std::string();
  }

  Result<std::string> List(const std::string& json) override {
    shared_->batches.push_back(nlohmann::json::parse(json));
    if (!shared_->listing) return NftErrorStatus("Error: No such file or directory\n");
    return *shared_->listing;
  }

 private:
  Shared* shared_;
};

}  // namespace pinhole::testing
