// The SQLite implementation of Store (see store/store.h for the contract).
//
// One writer connection, used through a GroupCommitter so that concurrent
// state changes share a transaction and an fsync; a few reader connections
// (WAL lets them read while a commit is in progress). WAL mode with
// synchronous=FULL: a change is on disk before its call returns.
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace pinhole {

struct SqliteOptions {
  // Batch concurrent changes into one transaction (see group_commit.h).
  bool group_commit = true;
  int max_batch = 256;
  // Reader connections; reads wait for a free one. 0 = read on the writer.
  int readers = 4;
  int busy_timeout_ms = 5000;
  // Per connection.
  int64_t mmap_bytes = int64_t{256} << 20;
  int64_t cache_kib = 16 << 10;
};

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options);

}  // namespace pinhole
