// The objects of a remote store, encoded and decoded for what reads a bucket
// (RemoteTier, and the garbage step and compaction, remote_gc.h):
// names (seg/..., commit/...), the head record and commit objects, as
// docs/remote_format.md lays them out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pager/tier/remote/remote_slot_map.h"
#include "pager/tier/tier.h"

namespace pagefs {

inline constexpr char kRemoteSegmentMagic[8] = {'P', 'F', 'S', 'S', 'E', 'G', '1', '\0'};
inline constexpr const char* kRemoteHeadObject = "head";

struct RemoteHead {
  uint64_t epoch = 0;
  std::string commit;  // the commit object's name, "commit/..."
};

struct RemoteCommit {
  uint64_t epoch = 0;
  std::string record;  // the superblock slot image
  uint32_t slot_size = 0;
  // The slot map: its directory of chunks and the segments it references
  // (a first-format object: the whole map, and its segments found from it).
  SlotMapImage map;
};

// "seg/<id:016x>", "commit/<epoch:016x>-<session:08x>".
std::string RemoteSegmentName(uint64_t segment);
std::string RemoteCommitName(uint64_t epoch, uint64_t session);
// The id of "seg/<16 hex>", or nullopt for any other name.
std::optional<uint64_t> ParseRemoteSegmentName(std::string_view name);
// The epoch of "commit/<16 hex>-<8 hex>", or nullopt for any other name.
std::optional<uint64_t> ParseRemoteCommitName(std::string_view name);

// The format publishes commit 0 with a create-only head; every later commit
// moves a head it read. So with no head, commit 0 alone is a format cut short
// (an empty store), while a commit after it means the head was lost.
bool IsCommitAfterFormat(std::string_view name);
// "<head> is missing while <commit> holds a later commit: the store is
// damaged", for the descriptions of the two objects.
std::string LostHeadMessage(const std::string& head_what, const std::string& commit_what);

std::string EncodeRemoteHead(const RemoteHead& head);
// Throws Error(kCorruption) naming what for bytes that are not a head record.
RemoteHead DecodeRemoteHead(const std::string& bytes, const std::string& what);

// In the current format (PFSCMT2); map.flat must be empty.
std::string EncodeRemoteCommit(const RemoteCommit& c);
// Reads both formats. Throws Error(kCorruption) naming what for a damaged or
// truncated object.
RemoteCommit DecodeRemoteCommit(const std::string& bytes, const std::string& what);
// A commit object of the first format (PFSCMT1: the whole map, by slot), as
// stores written before the paged map hold them; for tests of reading them.
std::string EncodeFlatRemoteCommit(uint64_t epoch, std::string_view record, uint32_t slot_size,
                                   const std::vector<std::pair<SlotId, FrameLocation>>& slots);

// XXH3 of a frame as the slot map stores it.
uint64_t FrameChecksum(SlotId slot, const char* bytes, size_t length);

}  // namespace pagefs
