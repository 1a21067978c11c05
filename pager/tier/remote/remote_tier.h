// RemoteTier: a Tier whose slots live in an S3 bucket as immutable objects
// (docs/remote_format.md). Nothing in the bucket is ever overwritten except
// the small head record, and that only by a conditional write.
//
// - Write keeps the page in a SpillFile on local disk (options.spill_dir)
//   until the next Sync: a large uncommitted change costs disk, not RAM.
// - Sync compresses each pending page (zstd; first rewritten by
//   options.filter when it takes the page), checksums the compressed bytes
//   (XXH3, seeded by the slot), packs them into segment objects of about
//   kSegmentTarget bytes and uploads them (create-only), two at a time, each
//   on a thread of its own while the next is packed; after the pages, the
//   chunks of the slot map they change (remote_slot_map.h). Slots then point
//   at (segment, offset, length, checksum) in the tier's slot map, once
//   every upload landed.
// - PublishCommit uploads a commit object (the caller's commit record plus
//   the slot map's directory) under a name no one else uses, then moves `head` to
//   it with If-Match (If-None-Match for the first commit): a crash at any
//   instant leaves the head on the last complete commit, whose segments are
//   never touched. Another writer having moved the head is Error(kBusy).
// - LoadCommit reads head and its commit object, adopts its slot map's
//   directory and fetches its chunks into the local cache in few GETs.
// - Read / ReadRun look in the LocalPageCache first (options.cache, when
//   given), then fetch with ranged GETs; ReadRun coalesces slots stored side
//   by side in one segment (gaps of up to kCoalesceGap included) into one GET. Every frame's
//   checksum and size are verified: Error(kCorruption) names the object and the slot. Fetched and
//   uploaded pages go into the local cache.
// - Reads that walk forward through the slots (a scan) fetch ahead:
//   windows of up to kMaxWindow bytes (and at most an eighth of the local
//   cache), on kReadaheadThreads background threads (two GETs in flight
//   measured faster than one or three on SeaweedFS here: the next window's
//   GET overlaps the decoding of the last), into the local cache (readahead.h); a
//   read whose frame is being fetched waits for it. Other reads fetch only
//   their own frames. A failed or short readahead GET, or a frame in it that
//   fails its checksum, only leaves the frame uncached: the read fetches it
//   itself. No local cache: no readahead.
// - WillNeed fetches the slots named into the local cache in few GETs (the
//   page table's nodes at open, so a random read costs about one GET).
// - PeekCommit reads the head's commit without adopting it (a read-only
//   store asking whether a newer commit exists keeps reading its own).
// Writes, Sync and PublishCommit come from one writer thread at a time (the
// Volume serializes them); reads may run concurrently with everything.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pager/tier/page_filter.h"
#include "pager/tier/remote/local_page_cache.h"
#include "pager/tier/remote/readahead.h"
#include "pager/tier/remote/remote_objects.h"
#include "pager/tier/remote/s3_client.h"
#include "pager/tier/remote/spill_file.h"
#include "pager/tier/tier.h"
#include "pager/util/mutex.h"

namespace pagefs {

struct RemoteTierStats {
  uint64_t gets = 0, puts = 0, bytes_received = 0, bytes_sent = 0;
  uint64_t segments_uploaded = 0;
  // Frames fetched ahead of a scan into the local cache (not WillNeed's);
  // of those, read from it since, and dropped unread (evicted, or not cached
  // at all). The rest are still waiting in the cache. Counted by the local
  // cache, so they add up over the tiers that share it (a reader's, one per
  // commit it follows).
  uint64_t readahead_frames = 0, readahead_hits = 0, readahead_unused = 0;
  uint64_t pending_bytes = 0;  // local disk holding pages not yet uploaded
};

struct RemoteTierOptions {
  // The folder of the file of pages not yet uploaded (unlinked: nothing is
  // left behind); empty: the system's temporary folder.
  std::string spill_dir;
  // Fetched and uploaded pages are kept here (it must outlive the tier);
  // nullptr: every read that misses memory is a GET.
  LocalPageCache* cache = nullptr;
  bool read_only = false;  // no spill file; Write throws Error(kReadOnly)
  // Rewrites pages before they are compressed, and frames it rewrote back
  // (it must outlive the tier); nullptr: pages are compressed as they are,
  // and a rewritten frame does not decode (Error(kCorruption)).
  const PageFilter* filter = nullptr;
};

class RemoteTier final : public Tier {
 public:
  static constexpr size_t kSegmentTarget = 4 << 20;
  // Bytes between two frames of one segment a ReadRun fetches rather than
  // send a second GET.
  static constexpr uint64_t kCoalesceGap = 256 << 10;
  // The largest readahead window (bytes of one ranged GET).
  static constexpr uint64_t kMaxWindow = 2 << 20;
  // Readahead GETs in flight at once (one window each); memory: this many
  // kMaxWindow bodies at most.
  static constexpr size_t kReadaheadThreads = 2;
  // A WillNeed sends at most this many GETs (the runs with the most frames).
  static constexpr size_t kMaxWillNeedGets = 8;

  // client must outlive the tier.
  RemoteTier(S3Client& client, uint32_t slot_size, const RemoteTierOptions& options = {});
  ~RemoteTier() override;
  RemoteTier(const RemoteTier&) = delete;
  RemoteTier& operator=(const RemoteTier&) = delete;

  uint32_t slot_size() const override { return slot_size_; }
  void Read(SlotId slot, uint8_t* buf) override;
  void ReadRun(SlotId first, uint32_t n, uint8_t* const* bufs) override;
  void WillNeed(const std::vector<SlotId>& slots) override;
  void Write(SlotId slot, const uint8_t* buf) override;
  void Sync() override;
  void Discard(SlotId slot) override;
  void DiscardRun(SlotId first, uint64_t n) override;
  SlotId size() const override;
  TierStats stats() const override;
  std::string name() const override;
  // The slot map, the pending pages' index and the local cache's index: all
  // the RAM the tier keeps that grows with the store.
  uint64_t memory_bytes() const override;

  // See above; returns the commit object's name. REQUIRES: Sync() since
  // the last Write.
  std::string PublishCommit(uint64_t epoch, std::string_view record);
  // The record of the commit the head names, or nullopt when the bucket
  // prefix holds no head. Throws Error(kCorruption) for a damaged head or
  // commit object, Error(kNotFound) when the head names a missing commit.
  std::optional<std::string> LoadCommit();
  // The record LoadCommit would return now, without adopting its slot map
  // (reads go on against the commit loaded before).
  std::optional<std::string> PeekCommit();
  // The epoch the head names (one small GET), nullopt without a head.
  std::optional<uint64_t> HeadEpoch();

  RemoteTierStats remote_stats() const;
  // The segment object a slot is stored in ("seg/..."), for tests and tools.
  std::optional<std::string> SegmentOf(SlotId slot) const;
  // Every segment the slot map references (ascending): what a garbage step
  // run by this writer must keep, besides what the kept commits reference.
  std::vector<uint64_t> Segments() const;

  static std::string SegmentName(uint64_t segment);

  // For compaction (remote_gc.h), which moves frames itself:
  // every stored slot and its frame, ascending (loads every chunk of the map);
  std::vector<std::pair<SlotId, FrameLocation>> StoredSlots();
  // slot's frame is now loc (a copy of its frame, in an uploaded object);
  void Relocate(SlotId slot, const FrameLocation& loc);
  // the next Sync stores every chunk of the slot map anew.
  void RewriteSlotMap();

 private:
  using Location = FrameLocation;
  // Decompresses and verifies the frame of slot at loc from bytes.
  void DecodeFrame(SlotId slot, const Location& loc, const char* bytes, uint8_t* out) const;
  // Fetches frames (of one segment, ascending, in the slot map at those
  // places) with one ranged GET and puts them in the local cache; a frame
  // that fails to verify is left out. ahead: for the readahead (counted in
  // the readahead_ figures). Throws what the GET throws.
  struct Wanted {
    SlotId slot;
    Location loc;
  };
  void FetchIntoCache(const std::vector<Wanted>& frames, bool ahead);
  // Puts segment id (bytes: its frames, which are those slots) create-only,
  // then keeps those pages in the local cache. Runs on an upload thread.
  void UploadSegment(uint64_t id, const std::string& bytes,
                     const std::vector<std::pair<SlotId, Location>>& frames);
  // The frames of a job still in the slot map where the job saw them and
  // not yet cached, in runs of one GET each.
  std::vector<std::vector<Wanted>> Missing(const std::vector<FrameRef>& frames);
  // Those of want not in the local cache, by place, in runs of one GET each
  // (neighbours in one segment, gaps of at most kCoalesceGap).
  std::vector<std::vector<Wanted>> UncachedRuns(std::vector<Wanted> want);
  // Tells the readahead policy about a read of stored slots first .. last.
  void NoteRead(SlotId first, SlotId last);
  uint64_t MaxWindow() const;
  // Takes the commit's slot map.
  void AdoptSlots(const SlotMapImage& image) REQUIRES(mu_);
  // Fetches the map's chunks into the local cache, in few GETs.
  void PrefetchChunks(const SlotMapImage& image);
  // Fetches runs (one GET each) into the local cache, the longest first, at
  // most kMaxWillNeedGets and a quarter of the local cache.
  void FetchRuns(std::vector<std::vector<Wanted>> runs);
  // The slot map's loader: chunk's page from the local cache or its frame.
  void LoadChunk(uint64_t chunk, const Location& frame, uint8_t* page);
  // The head's commit, decoded, named (what) and the head's etag; nullopt
  // when there is no head.
  struct FetchedCommit {
    RemoteCommit commit;
    std::string what, etag;
  };
  std::optional<FetchedCommit> FetchCommit();
  // Throws Error(kCorruption) for a damaged head.
  // Throws Error(kCorruption) when the head is missing but a commit after
  // the format's exists (the head was lost: formatting would hide the data).
  void RefuseLostHead();
  std::optional<RemoteHead> ReadHead();

  S3Client& client_;
  const uint32_t slot_size_;
  const uint64_t session_;  // high bits of this process's segment and commit names
  const PageFilter* const filter_;
  LocalPageCache* const cache_;
  std::unique_ptr<SpillFile> spill_;  // written, not yet synced; none when read-only
  mutable Mutex mu_;
  // Stored in the bucket; mutable: a lookup may load a chunk (under mu_).
  mutable RemoteSlotMap slots_ GUARDED_BY(mu_);
  uint32_t next_segment_ GUARDED_BY(mu_) = 0;  // low bits of the next segment name
  std::string head_etag_ GUARDED_BY(mu_);      // of the head we last read or wrote
  ReadaheadPolicy readahead_ GUARDED_BY(mu_);
  std::atomic<uint64_t> reads_{0}, writes_{0}, syncs_{0}, segments_uploaded_{0};
  // Last: destroyed first, so its thread stops before what it uses goes.
  // None without a local cache.
  std::unique_ptr<FetchQueue> fetches_;
};

}  // namespace pagefs
