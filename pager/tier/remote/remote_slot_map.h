// RemoteSlotMap: where each slot a remote tier stores lies in the bucket (its
// FrameLocation), paged, so that neither RAM nor a commit object holds the
// whole map of a large store.
//
// Slots are grouped in chunks of entries_per_chunk() slots, a page's worth of
// 24-byte entries (170 at 4 KiB). A chunk is stored as a page is: a zstd
// frame in a segment object, uploaded by the tier's Sync; a commit object
// holds only the directory (each chunk's frame, count and bytes), the
// segments the map references and the totals (docs/remote_format.md). Chunks
// are loaded on demand through the loader. A chunk changed since it was
// stored (dirty) stays in RAM until Stored() says where its new frame is;
// stored (clean) ones are kept most recently used first, up to
// max_clean_chunks. An entry of zero length marks a slot not stored (no zstd
// frame is empty); a chunk left with no entry is dropped and needs no frame.
//
// It keeps the count, the stored bytes, the end (one past the highest slot
// stored) and, for each segment, how many frames of the map (pages' and
// chunks') lie in it, so none of them costs a pass or a load.
// Not thread-safe: the tier guards it with its own lock (and loads chunks
// under it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pager/tier/tier.h"

namespace pagefs {

// Where one slot's compressed frame is: segment id, byte range, XXH3 of the
// frame seeded by the slot.
struct FrameLocation {
  uint64_t segment = 0;
  uint32_t offset = 0;
  uint32_t length = 0;  // > 0 for a stored frame
  uint64_t checksum = 0;
};

// The most slots a remote tier holds (16 TiB of 4 KiB pages): a commit
// object naming a slot past it is damaged, not a reason to allocate.
inline constexpr SlotId kMaxRemoteSlots = SlotId{1} << 32;

// The frame checksum seed of slot-map chunk c is kChunkSeed | c (slots are
// below 2^32, so no page frame shares it).
inline constexpr uint64_t kChunkSeed = uint64_t{1} << 63;

// One chunk of a stored map, as a commit object's directory names it.
struct ChunkRef {
  uint64_t chunk = 0;
  FrameLocation frame;
  uint32_t count = 0;  // slots stored in it, > 0
  uint64_t bytes = 0;  // their frames' lengths, summed
};

// What a commit object holds of a map.
struct SlotMapImage {
  SlotId end_slot = 0;
  std::vector<ChunkRef> chunks;                         // ascending
  std::vector<std::pair<uint64_t, uint64_t>> segments;  // (segment, frames), ascending
  // A commit object of the first format (PFSCMT1) holds the whole map
  // instead, by slot ascending; chunks and segments are then empty.
  std::vector<std::pair<SlotId, FrameLocation>> flat;
};

class RemoteSlotMap {
 public:
  static constexpr uint32_t kEntryBytes = 24;
  static constexpr size_t kDefaultCleanChunks = 256;
  // Fills page (slot_size bytes) with the stored frame of chunk, decoded and
  // verified; throws what fetching it throws.
  using Loader = std::function<void(uint64_t chunk, const FrameLocation& frame, uint8_t* page)>;

  explicit RemoteSlotMap(uint32_t slot_size, size_t max_clean_chunks = kDefaultCleanChunks);
  void set_loader(Loader loader) { loader_ = std::move(loader); }

  uint32_t slot_size() const { return slot_size_; }
  uint32_t entries_per_chunk() const { return per_chunk_; }

  // Slot's location; nullopt when it is not stored. May load its chunk.
  std::optional<FrameLocation> Find(SlotId slot);
  // Makes loc (loc.length > 0) slot's location. May load its chunk.
  void Set(SlotId slot, const FrameLocation& loc);
  // Forgets the slots [first, first + n); loads only chunks that hold some.
  void Erase(SlotId first, uint64_t n = 1);
  void clear();

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  uint64_t bytes() const { return bytes_; }              // the stored frames' lengths, summed
  uint64_t chunk_bytes() const { return chunk_bytes_; }  // the stored chunks' frames, summed
  SlotId end_slot() const { return end_; }               // one past the highest slot stored
  // Every segment a frame of the map lies in, ascending.
  std::vector<uint64_t> Segments() const;
  uint64_t memory_bytes() const;
  size_t loaded_chunks() const { return loaded_.size(); }

  // The chunks a Sync must store, as pages: each dirty one, and each one
  // `then` changes, as it will be once `then` is applied (it is not applied
  // here; chunks it leaves empty are left out). May load chunks.
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> PagesToStore(
      const std::vector<std::pair<SlotId, FrameLocation>>& then);
  // Chunk, as PagesToStore gave it (with `then` applied since), is stored at
  // frame: it is clean.
  void Stored(uint64_t chunk, const FrameLocation& frame);
  // Every chunk is dirty (a compaction moves them all off old segments).
  void MarkAllDirty();
  bool dirty() const { return dirty_count_ > 0; }

  // REQUIRES: !dirty().
  SlotMapImage Image() const;
  // Takes the map a commit object holds; a flat (first-format) one is
  // loaded whole and dirty, so the next Sync stores it as chunks.
  void Adopt(const SlotMapImage& image);
  // Calls fn for every stored slot, ascending. Loads every chunk in turn.
  void ForEach(const std::function<void(SlotId, const FrameLocation&)>& fn);

  // A chunk's page from its entries (zero past them), and back: entries.size()
  // entries from page (Get checks them against the chunk's directory entry).
  static void EncodeChunk(const std::vector<FrameLocation>& entries, uint8_t* page,
                          uint32_t slot_size);
  static void DecodeChunk(const uint8_t* page, std::vector<FrameLocation>& entries);

 private:
  struct Dir {
    FrameLocation frame;  // length 0: not stored (a dirty chunk, or none)
    uint32_t count = 0;
    uint64_t bytes = 0;
  };
  struct Chunk {
    std::vector<FrameLocation> entries;
    bool dirty = false;
    std::list<uint64_t>::iterator lru;  // in clean_ when !dirty
  };

  // The chunk, loaded; nullptr when it holds nothing and !create.
  Chunk* Get(uint64_t chunk, bool create);
  void MarkDirty(Chunk& chunk);
  void EvictClean(uint64_t keep);
  // Takes entry e (stored) of the chunk whose directory entry is d out of
  // the totals and empties it.
  void Forget(Dir& d, FrameLocation& e);
  // Takes d's stored frame, if any, out of the references.
  void ForgetFrame(Dir& d);
  void Drop(uint64_t chunk);
  void Reference(uint64_t segment, int64_t frames);
  void FindEnd();

  const uint32_t slot_size_;
  const uint32_t per_chunk_;
  const size_t max_clean_;
  Loader loader_;
  std::vector<Dir> dir_;  // by chunk
  std::unordered_map<uint64_t, Chunk> loaded_;
  std::list<uint64_t> clean_;  // loaded clean chunks, most recently used first
  size_t dirty_count_ = 0;
  std::map<uint64_t, uint64_t> segments_;  // segment -> frames of the map in it
  size_t count_ = 0;
  uint64_t bytes_ = 0;
  uint64_t chunk_bytes_ = 0;
  SlotId end_ = 0;
};

}  // namespace pagefs
