// ReaderTable: who reads which commit of a prefix, so that the writer never
// reuses a slot a live reader can still reach (LMDB's lock file). Two kinds of
// reader are counted:
//
// - Read-only processes: each holds one slot of the file ROOT/PREFIX/readers
//   (docs/readers.md), mapped shared. A slot is owned while its owner holds an
//   OFD write lock on the slot's first byte; the kernel drops the lock when the
//   owner dies, so a dead reader is recognised by anyone who can take the lock
//   (a reused pid cannot fake liveness), and its slot is then cleared.
// - Pins in this process (the mount daemon's open PREFIX/committed files):
//   counted in memory, so they survive the Volume being reopened (a rollback).
//
// Publishing protocol (a reader): claim a slot, publish the commit it is about
// to read, then read the superblock again; if a newer commit appeared in
// between, publish that one and repeat. The writer scans the table only after
// its new superblock is durable, so it either sees the published epoch or the
// reader sees the new commit.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pager/util/mutex.h"

namespace pagefs {

// What a reader reads: a commit's epoch and the root of its page table (the
// writer walks it after a crash, to keep what only older commits reference).
struct ReaderSnapshot {
  uint64_t epoch = 0;
  uint32_t table_height = 0;
  uint64_t table_root_slot = 0;
  uint64_t table_root_checksum = 0;
  uint64_t page_count = 0;
  bool operator==(const ReaderSnapshot&) const = default;
};

struct ReaderScan {
  uint64_t live = 0;                      // readers with a published commit
  std::optional<uint64_t> oldest;         // the oldest epoch they read
  uint64_t cleared = 0;                   // slots of dead readers cleared by this scan
  std::vector<ReaderSnapshot> snapshots;  // one per distinct epoch read
};

class ReaderTable {
 public:
  static constexpr uint32_t kSlots = 510;
  static constexpr uint32_t kSlotBytes = 64;
  static constexpr const char* kFileName = "readers";

  // A table of in-process pins only (no file): for volumes on test tiers.
  ReaderTable();
  // Opens dir/readers, creating it (mode 0600) when missing. Returns nullptr
  // when the file cannot be opened for writing and writable is false (a
  // read-only folder: that reader goes unregistered, see docs/readers.md).
  // Throws Error(kIo) when a writer cannot open it, Error(kCorruption) when
  // it is not a reader table.
  static std::unique_ptr<ReaderTable> Open(const std::string& dir, bool writable);
  ~ReaderTable();
  ReaderTable(const ReaderTable&) = delete;
  ReaderTable& operator=(const ReaderTable&) = delete;

  // A claimed slot of the file, released when destroyed.
  class Slot {
   public:
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    // Publishes the commit the owner reads from now on.
    void Publish(const ReaderSnapshot& s);
    uint32_t index() const { return index_; }

   private:
    friend class ReaderTable;
    Slot(ReaderTable& table, uint32_t index, int fd) : table_(table), index_(index), fd_(fd) {}
    ReaderTable& table_;
    const uint32_t index_;
    const int fd_;  // its own open file description: the slot's OFD lock is on it
  };
  // Claims a free slot (one whose owner is gone). Throws Error(kBusy) when
  // all kSlots are held by live readers, Error(kInvalidArgument) without a file.
  std::unique_ptr<Slot> Claim();
  bool has_file() const { return map_ != nullptr; }

  // An in-process pin of a commit, dropped when the last copy goes.
  std::shared_ptr<const ReaderSnapshot> PinLocal(const ReaderSnapshot& s);

  // Every live reader (file slots and local pins); clears dead readers' slots.
  ReaderScan Scan();

 private:
  explicit ReaderTable(std::string path, int fd, uint8_t* map);
  uint8_t* SlotBytes(uint32_t index) const;
  bool TryLock(int fd, uint32_t index) const;
  void Unlock(int fd, uint32_t index) const;

  const std::string path_;
  const int fd_ = -1;  // the scanner's own description (its locks test others')
  uint8_t* const map_ = nullptr;

  Mutex mu_;  // also serializes scans of the file
  // epoch -> (snapshot, pins)
  std::map<uint64_t, std::pair<ReaderSnapshot, uint64_t>> local_ GUARDED_BY(mu_);
};

}  // namespace pagefs
