// RemoteGc: `pagefs gc`, the garbage step and compaction of a store in an S3
// bucket (docs/remote_format.md, "Garbage and compaction").
//
// Compaction (options.compact) takes the writer's lease first, so it runs
// only when no writer is live (Error(kBusy) naming the holder otherwise),
// rewrites the head's segments whose live frames are below
// options.compact_below of the object into new segments (frames copied as
// they are, each verified), and publishes a new commit (epoch + 1, the same
// pages) through the head's conditional write. The segments it replaced stay
// until no kept commit references them.
//
// The garbage step keeps the head's commit and every commit that was the
// head within options.retention (readers elsewhere read the commit they
// loaded until they refresh), and deletes the other commit objects, then the
// segment objects no kept commit references, with DeleteObjects requests of
// up to 1000 keys (single DELETEs on a server without them). Nothing younger than
// options.min_age is deleted: a live writer's segments and commit of a
// commit not yet published are young. Commit objects go before segments, so
// every commit object left has all its segments. It runs beside a live
// writer, and then deletes nothing younger than kLiveWriterMinAge whatever
// min_age says. A crash at any instant leaves the head's commit whole.
//
// The writer itself can run the garbage step on its own store
// (Store::CollectGarbage, GcWriter below): it holds its commits for the whole
// run, so nothing it uploads is in flight, and it adds the segments its slot
// map references (an upload whose commit failed included) to what is kept.
// Then min_age is what the caller says (no floor): everything else in the
// prefix that no kept commit references is garbage, however young, because
// the lease keeps every other writer out. That holds while the lease in the
// bucket is this process's and unexpired; otherwise the floor applies as
// beside any other writer, with a note.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pager/tier/remote/s3_client.h"

namespace pagefs {

// The least age of what a garbage step deletes while another writer holds
// the lease (its uploads for a commit not yet published are in the bucket).
inline constexpr std::chrono::seconds kLiveWriterMinAge{15 * 60};

struct GcOptions {
  bool dry_run = false;  // report what would be done; change nothing
  bool compact = true;
  std::chrono::seconds min_age{std::chrono::hours(1)};
  std::chrono::seconds retention{std::chrono::hours(1)};
  double compact_below = 0.5;  // live share of a segment object under which it is rewritten
  std::chrono::seconds lease_duration{30};  // the url overload: PAGEFS_LEASE_SECONDS
  // "now" in milliseconds since 1970 (tests); 0: the wall clock.
  int64_t now_ms = 0;
};

struct GcProgress {
  std::string phase;  // "list", "read", "compact", "delete"
  uint64_t done = 0, total = 0;
};
using GcProgressFn = std::function<void(const GcProgress&)>;

struct GcReport {
  std::string store;  // s3://BUCKET/PREFIX (endpoint)
  bool dry_run = false;
  uint64_t head_epoch = 0;  // after compaction; 0: the prefix holds no store
  std::string head_commit;
  uint64_t objects = 0, bytes = 0;  // listed under the prefix
  uint64_t commits_kept = 0, segments_kept = 0;
  uint64_t commits_deleted = 0, segments_deleted = 0;
  uint64_t objects_deleted = 0, bytes_deleted = 0;  // reclaimed (would be, when dry)
  uint64_t delete_requests = 0;  // DeleteObjects of up to 1000 keys each (or single DELETEs)
  uint64_t objects_too_young = 0, bytes_too_young = 0;  // unreferenced, within min_age
  uint64_t other_objects = 0;                           // names pagefs does not make: left alone
  // Compaction.
  uint64_t segments_compacted = 0, bytes_compacted = 0;  // rewritten, their object bytes
  uint64_t segments_written = 0, bytes_written = 0;
  std::string compaction_commit;  // the commit it published (empty: none)
  std::vector<std::string> notes;
};

// Garbage step and (options.compact) compaction of the store at url (s3://BUCKET[/PREFIX]),
// store prefix store_prefix, with the AWS settings of the process. Errors as S3Client's;
// Error(kBusy) for compaction beside a live writer, or when the head moved during it.
GcReport CollectRemoteGarbage(const std::string& url, const std::string& store_prefix,
                              const GcOptions& options, const GcProgressFn& progress = {});
// What the store's own writer still needs (see above). REQUIRES: the writer
// publishes no commit during the run.
struct GcWriter {
  std::vector<uint64_t> segments;  // referenced by its slot map now
};

// The same on a client of the store's objects; writer: run by the store's
// own writer (no compaction then: Error(kInvalidArgument)).
GcReport CollectRemoteGarbage(S3Client& client, const GcOptions& options,
                              const GcProgressFn& progress = {}, const GcWriter* writer = nullptr);

}  // namespace pagefs
