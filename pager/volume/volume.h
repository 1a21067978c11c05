// Volume: the logical page space of one prefix, on one Tier.
//
// Commit, in three lines (LMDB-style):
//   1. write dirty pages and changed page-table nodes to slots no commit uses;
//   2. sync the tier;
//   3. publish the superblock for epoch+1 through the CommitRoot (by default:
//      write it into slot (epoch+1) % 2, then sync).
// A crash before 3 completes leaves epoch's superblock, which references only
// slots that were not touched since, so reopening finds exactly the last commit.
// Slots released by a commit become reusable once it is durable and no live
// reader reads an older commit (ReaderTable, docs/readers.md): they are held,
// tagged with the epoch of the commit that released them, until the oldest
// reader's epoch reaches that tag. Slots that no commit references and no
// reader holds (written by a writer that crashed before committing) are given
// back to the file system at the writer's first write after open.
//
// After any failed write or sync the Volume refuses further writes and commits
// (Error(kFailed)) until it is reopened: it never carries on half-written.
//
// Thread safety: all methods may be called concurrently; an internal mutex
// guards the table and allocators, and tier I/O of Load runs outside it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pager/cache/page_backing.h"
#include "pager/tier/tier.h"
#include "pager/util/mutex.h"
#include "pager/volume/commit_root.h"
#include "pager/volume/page_table.h"
#include "pager/volume/reader_table.h"
#include "pager/volume/slot_allocator.h"
#include "pager/volume/superblock.h"

namespace pagefs {

struct VolumeOptions {
  uint32_t page_size = 4096;
  bool read_only = false;
  bool create = true;  // format an empty tier
  // Who reads which commit (must outlive the volume); none: the volume keeps
  // an in-memory table of its own pins. A read-only volume with a table that
  // has a file claims a slot of it and publishes the commit it reads.
  ReaderTable* readers = nullptr;
  // Where commits are found and published (must outlive the volume); none:
  // the superblock slots 0 and 1 of the tier (SuperblockSlots), which the
  // volume never uses for pages either way.
  CommitRoot* commit_root = nullptr;
};

// A commit kept readable for an in-process reader (Volume::PinCommitted): its
// slots are not reused while the pin lives, even after newer commits.
struct CommitPin {
  Superblock commit;
  std::shared_ptr<const ReaderSnapshot> pin;
};

struct VolumeReaderStats {
  uint64_t live = 0;               // readers of this prefix (processes and pins)
  std::optional<uint64_t> oldest;  // the oldest epoch one of them reads
  uint64_t held_slots = 0;         // slots a writer keeps back for them
};

class Volume final : public PageBacking {
 public:
  static constexpr SlotId kFirstDataSlot = SuperblockSlots::kSlotCount;  // slots 0 and 1

  // Opens the volume stored on tier (which must outlive it), or formats it
  // when the tier is empty and options.create is set. name appears in errors
  // ("prefix 'data'"). Throws Error(kCorruption) when the tier holds data but
  // no valid superblock, kNotFound when it is empty and create is false,
  // kInvalidArgument for a page size mismatch or a bad page size.
  Volume(Tier& tier, std::string name, const VolumeOptions& options);
  Volume(const Volume&) = delete;
  Volume& operator=(const Volume&) = delete;

  // PageBacking. Load verifies the checksum: Error(kCorruption) names the page.
  // Load and Store refuse an id at or past page_count() (Error(kCorruption):
  // such an id can only come from a damaged page).
  void Load(PageId id, uint8_t* buf) override;
  // One table lookup under the lock for all n pages, then one tier ReadRun per
  // run of adjacent slots; every page's checksum is verified.
  size_t LoadMany(const PageId* ids, uint8_t* const* bufs, size_t n) override;
  // The slots of the range's stored pages, in one Tier::WillNeed.
  void WillNeed(PageId first, uint64_t count) override;
  void Store(PageId id, const uint8_t* buf) override;
  // The page table's leaves in memory, the allocators, and the tier's own
  // memory (Tier::memory_bytes: a remote tier's slot map and indexes).
  uint64_t metadata_bytes() const override;
  uint64_t fixed_metadata_bytes() const override { return tier_.memory_bytes(); }
  // Drops page-table leaves until the Volume's own metadata (the tier's
  // memory apart) is at most max_bytes.
  void TrimMetadata(uint64_t max_bytes) override;

  PageId AllocateId();
  // Throws Error(kInvalidArgument) for an id that is not allocated (never
  // handed out, or already freed).
  void FreeId(PageId id);

  // For the mount, where a write names the page (offset / page size) rather
  // than asking for a new one. EnsureAllocated makes id allocated: ids at or
  // past page_count() extend the space (the ids skipped over become free), a
  // free id below it is taken off the free list; an allocated id is left as
  // it is. A page that is allocated but never stored reads as zeros and is
  // free again after reopen. Throws like AllocateId.
  void EnsureAllocated(PageId id);
  // Grows page_count() to count (the new ids are free); never shrinks.
  void ExtendTo(uint64_t count);
  bool IsAllocated(PageId id);
  // Every allocated id, ascending.
  std::vector<PageId> AllocatedIds();
  // One past the highest id ever allocated (uncommitted allocations included).
  uint64_t page_count() const;

  // Commits everything stored since the last commit, with these anchors.
  void Commit(const Anchors& anchors);
  // Whether anything was stored, freed or grown since the last commit (what a
  // Commit with the committed anchors would write). Pages only dirty in a
  // buffer pool are the pool's to count.
  bool has_uncommitted_changes() const;

  // Reads page id as of the last commit into buf (page_size bytes), whatever
  // was stored, freed or allocated since: a page changed since then is read
  // from the slot the commit references (pending-free, so intact until the
  // next commit succeeds); a page the commit did not have reads as zeros.
  // The checksum is verified (Error(kCorruption)). Returns the epoch of the
  // commit read. With expect_epoch set, throws Error(kStale) instead of
  // reading any other commit (a commit succeeded after the caller's snapshot);
  // without it, a commit that succeeds during the read makes it retry.
  uint64_t LoadCommitted(PageId id, uint8_t* buf,
                         std::optional<uint64_t> expect_epoch = std::nullopt);

  // Pins the last commit (see CommitPin); reads of it go through LoadPinned.
  CommitPin PinCommitted();
  // Reads page id as of the pinned commit at (which the caller keeps pinned)
  // into buf; a page the commit did not have reads as zeros. Never stale:
  // newer commits do not touch the pinned commit's slots. Throws
  // Error(kCorruption) on a checksum mismatch.
  void LoadPinned(const Superblock& at, PageId id, uint8_t* buf);

  // Read-only volumes: whether a newer commit than the one shown exists (it
  // looks at most every interval unless force), and FollowNewest moves the
  // view (and the reader slot) to the newest commit; returns whether it
  // moved. REQUIRES for FollowNewest: no read of this volume in progress.
  bool NewerCommit(bool force, int64_t interval_ns);
  bool FollowNewest();

  // Readers of this prefix; scanning clears dead readers' slots.
  VolumeReaderStats reader_stats();

  // Throws Error(kReadOnly) or Error(kFailed) unless writes are allowed.
  void CheckWritable() const;

  uint32_t page_size() const { return page_size_; }
  bool read_only() const { return read_only_; }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  Superblock committed() const;
  // Logical pages in use (allocated ids). The first call after open walks
  // the page table.
  uint64_t pages_in_use();
  const std::string& name() const { return name_; }
  // The tier the volume reads, for tools that verify it slot by slot (`pagefs check`).
  Tier& tier() const { return tier_; }

 private:
  void EnsureAllocators() REQUIRES(mu_);
  // Read-only with a reader slot: publishes the newest commit until a re-read
  // of the superblocks confirms it (the protocol of reader_table.h).
  Superblock PublishNewest();
  // Writers, at open: keeps the slots of older commits live readers read,
  // then gives back every slot no commit and no reader uses. REQUIRES mu_.
  void HoldForReadersAndTrim(SlotAllocator& slots) REQUIRES(mu_);
  // After a commit: frees held slots no live reader can reach and drops the
  // tables of commits no longer pinned. REQUIRES mu_ held.
  void ReclaimForReaders() REQUIRES(mu_);
  // Error(kCorruption) unless 0 < id < page_count_. REQUIRES mu_ held.
  void CheckInRange(PageId id) const REQUIRES(mu_);
  // The table's leaves in memory and the allocators (not the tier's memory).
  uint64_t OwnMetadataBytesLocked() const REQUIRES(mu_);
  // Reads entry's slot into buf (zeros for no slot) and verifies it as page
  // id; a mismatch is Error(kCorruption) naming "page <id><which>".
  void ReadVerified(PageId id, const TableEntry& entry, uint8_t* buf, std::string_view which);
  // Remembers id's entry at the last commit before it first changes.
  // REQUIRES mu_ held; old is id's current table entry.
  void NoteChange(PageId id, const TableEntry& old) REQUIRES(mu_);
  void GrowTo(uint64_t count) REQUIRES(mu_);  // allocators built, count > page_count_
  template <class Fn>
  auto Guarded(Fn&& fn) -> decltype(fn());  // runs fn; on Error marks the volume failed

  Tier& tier_;
  const std::string name_;
  const uint32_t page_size_;
  const bool read_only_;
  std::atomic<bool> failed_{false};

  std::unique_ptr<CommitRoot> own_root_;  // when the options named none
  CommitRoot* root_ = nullptr;
  std::unique_ptr<ReaderTable> own_readers_;  // when the options named none
  ReaderTable* readers_;
  std::unique_ptr<ReaderTable::Slot> reader_slot_;  // read-only: the slot of this reader
  std::atomic<int64_t> last_look_ns_{0};            // read-only: when NewerCommit last looked

  mutable Mutex mu_;
  Superblock committed_ GUARDED_BY(mu_);
  std::unique_ptr<PageTable> table_ GUARDED_BY(mu_);
  // Page tables of pinned commits older than committed_ (LoadPinned).
  std::unordered_map<uint64_t, std::unique_ptr<PageTable>> pinned_tables_ GUARDED_BY(mu_);
  uint64_t page_count_ GUARDED_BY(mu_) = 1;  // ids start at 1
  // Built on first write (walk of the table).
  std::optional<SlotAllocator> slots_ GUARDED_BY(mu_);
  // Free ids: a stack to hand out (entries whose bit in free_map_ is clear are
  // stale, left behind by EnsureAllocated, and skipped), the bitmap, and the count.
  std::vector<PageId> free_ids_ GUARDED_BY(mu_);
  std::vector<bool> free_map_ GUARDED_BY(mu_);  // indexed by id, sized page_count_
  uint64_t free_id_count_ GUARDED_BY(mu_) = 0;
  // Pages stored (to a new slot) or freed since the last commit: the entry
  // each had at that commit (slot 0: none). Their slots are pending-free, so
  // LoadCommitted can read them until the next commit succeeds, which clears
  // this. Pages only dirty in a buffer pool still have their entry in table_.
  std::unordered_map<PageId, TableEntry> committed_entries_ GUARDED_BY(mu_);
};

}  // namespace pagefs
