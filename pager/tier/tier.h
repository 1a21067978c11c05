// Tier: where page bytes live. A tier is an array of fixed-size slots; every
// page the engine stores goes to one slot and comes back from it. All I/O of a
// Volume goes through this one interface, so tests can put a FaultTier in
// between and inject ENOSPC, EIO, torn writes and crashes, and so later tiers
// (an object store behind the local segments) fit without touching the Volume.
//
// Contract:
// - Read of a slot never written returns zeros.
// - Write of one slot may be torn by a crash; nothing else may be changed.
// - After Sync() returns, every Write that returned before it is durable.
// - Discard says a slot's bytes are no longer needed; reading it afterwards
//   returns unspecified bytes (zeros on tiers that punch holes).
// - Failures throw pagefs::Error (kIo, kNoSpace).
// Implementations are safe for concurrent calls from several threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pagefs {

using SlotId = uint64_t;

struct TierStats {
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t syncs = 0;
  uint64_t bytes_on_disk = 0;  // allocated bytes, holes excluded
};

class Tier {
 public:
  virtual ~Tier() = default;

  virtual uint32_t slot_size() const = 0;
  virtual void Read(SlotId slot, uint8_t* buf) = 0;
  // Reads the n slots first .. first+n-1 into bufs[0] .. bufs[n-1] (each
  // slot_size bytes; the buffers need not be adjacent). The same contract as
  // n calls of Read; tiers that can fetch a run in fewer requests override it
  // (a sequential scan is then one system call per run, not one per page).
  // On failure the buffers hold unspecified bytes.
  virtual void ReadRun(SlotId first, uint32_t n, uint8_t* const* bufs) {
    for (uint32_t i = 0; i < n; ++i) Read(first + i, bufs[i]);
  }
  // Advisory: these slots will be read soon (POSIX_FADV_WILLNEED). A tier
  // whose reads are round trips (an object store) may fetch them now in few
  // requests into its local cache; others ignore it. Never throws for a slot
  // it cannot fetch (the later Read reports it).
  virtual void WillNeed(const std::vector<SlotId>& /*slots*/) {}
  virtual void Write(SlotId slot, const uint8_t* buf) = 0;
  virtual void Sync() = 0;
  virtual void Discard(SlotId slot) = 0;
  // Discard of the n slots first .. first+n-1 (tiers that punch holes do it
  // in one request per file).
  virtual void DiscardRun(SlotId first, uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) Discard(first + i);
  }
  // One past the highest slot ever written.
  virtual SlotId size() const = 0;
  virtual TierStats stats() const = 0;
  // Short human-readable name ("segments:/data/store/main").
  virtual std::string name() const = 0;
  // RAM the tier keeps that grows with what it stores (a remote tier's slot
  // map and indexes; 0 for one that keeps none): the Volume counts it with
  // its own metadata, so the memory budget covers it (buffer_pool.h).
  virtual uint64_t memory_bytes() const { return 0; }
};

}  // namespace pagefs
