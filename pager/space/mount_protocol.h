// The files through which a process works on a pagefs mount (MountedSpace)
// and the daemon serves it (fs/client_files, pager/space/flat_view): their byte layouts,
// with one writer and one reader each, shared by both sides. All integers
// are little-endian u64s. Described in docs/mount.md.
#pragma once

#include <sys/ioctl.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "pager/util/page.h"

namespace pagefs {

inline void PutLe64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

inline uint64_t GetLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// MOUNT/PREFIX/anchors: the last commit's anchors (read-only), 16 bytes.
inline constexpr size_t kAnchorsBytes = 16;

inline void EncodeAnchors(const Anchors& a, uint8_t* out) {
  PutLe64(out, a.root_map);
  PutLe64(out + 8, a.orphan_head);
}

inline Anchors DecodeAnchors(const uint8_t* in) { return Anchors{GetLe64(in), GetLe64(in + 8)}; }

// The writer's requests: ioctls on a descriptor of MOUNT/PREFIX/data opened
// for writing. FUSE passes only "restricted" ioctls, whose argument size is
// encoded in the command, so each argument is a fixed-size struct. They are
// requests, not reads, so no file of the view has a read with a side effect.
//
//   kIoctlClaimWriter  takes the prefix's writer role for this open file
//                      (EBUSY while another has it) and returns the last
//                      commit's anchors. The role ends with
//                      kIoctlReleaseWriter or when the file closes; changes
//                      not committed by then are rolled back.
//   kIoctlReleaseWriter gives the role back now. A close alone does not do
//                      it at once: the kernel sends RELEASE after close(2)
//                      has returned, and not at all while a forked child or
//                      a dup still holds the open file.
//   kIoctlAllocate     allocates kAllocBatch pages (zero-filled) and returns
//                      their ids. Writer only.
//   kIoctlCommit       commits the prefix with these anchors. Writer only: a
//                      prefix with a writer is committed by nothing else.
inline constexpr size_t kAllocBatch = 64;

struct AnchorsArg {
  uint8_t bytes[kAnchorsBytes];
};
struct AllocArg {
  uint8_t ids[kAllocBatch * 8];  // little-endian u64 each
};

inline constexpr unsigned kIoctlClaimWriter = _IOR('P', 1, AnchorsArg);
inline constexpr unsigned kIoctlAllocate = _IOR('P', 2, AllocArg);
inline constexpr unsigned kIoctlCommit = _IOW('P', 3, AnchorsArg);
inline constexpr unsigned kIoctlReleaseWriter = _IO('P', 5);

// kIoctlSpaceInfo: the prefix's state as the daemon has it now, on any open
// descriptor of MOUNT/PREFIX/data or MOUNT/PREFIX/committed (read-only ones
// and read-only mounts too): what a client needs to open the prefix and
// show its stats. PREFIX/info.json says the same for people. 40 bytes,
// little-endian u64s: the magic, then the fields in order.
struct SpaceInfo {
  static constexpr uint64_t kMagic = 0x314f464e49534650;  // "PFSINFO1"
  static constexpr size_t kBytes = 40;
  uint64_t page_size = 0;
  uint64_t epoch = 0;       // the daemon's last commit
  uint64_t page_count = 0;  // data's size in pages (uncommitted growth included)
  uint64_t writer_pid = 0;  // the process holding the writer role; 0: none
  bool operator==(const SpaceInfo&) const = default;
};

struct SpaceInfoArg {
  uint8_t bytes[SpaceInfo::kBytes];
};

inline constexpr unsigned kIoctlSpaceInfo = _IOR('P', 4, SpaceInfoArg);

inline void EncodeSpaceInfo(const SpaceInfo& s, uint8_t* out) {
  const uint64_t words[5] = {SpaceInfo::kMagic, s.page_size, s.epoch, s.page_count, s.writer_pid};
  for (int w = 0; w < 5; ++w) PutLe64(out + 8 * w, words[w]);
}

// False unless the bytes start with the magic.
inline bool DecodeSpaceInfo(const uint8_t* in, SpaceInfo& s) {
  uint64_t words[5];
  for (int w = 0; w < 5; ++w) words[w] = GetLe64(in + 8 * w);
  if (words[0] != SpaceInfo::kMagic) return false;
  s = {words[1], words[2], words[3], words[4]};
  return true;
}

// How both sides name the holder of the writer role in messages.
inline std::string DescribeMountWriter(uint64_t pid) {
  return "process " + std::to_string(pid) + " through the mount";
}

// Whether read-only opens of a prefix's data and page files are served
// through the kernel's page cache (so that a client may map them): only when
// a page is no larger than the kernel's page, so that no kernel page ever
// holds parts of two versions of a page. committed is always cached.
inline bool MountCachesData(uint64_t page_size, uint64_t kernel_page_size) {
  return page_size <= kernel_page_size;
}

// MOUNT/PREFIX/committed, the read-only clients' view: the pages of one
// commit (the last when the file was opened) at id * page_size, as in data.
// Page 0 is no page, so it carries this header instead (the rest of page 0
// reads as zeros); little-endian u64s.
struct CommittedHeader {
  static constexpr uint64_t kMagic = 0x5453434d4f434650;  // "PFCOMMST"
  static constexpr size_t kBytes = 48;
  uint64_t epoch = 0;     // the commit this open file reads
  uint64_t root_map = 0;  // its anchors
  uint64_t orphan_head = 0;
  uint64_t page_count = 0;    // its page count
  uint64_t latest_epoch = 0;  // the daemon's last commit at the time of the read
};

inline void EncodeCommittedHeader(const CommittedHeader& h, uint8_t* out) {
  const uint64_t words[6] = {CommittedHeader::kMagic, h.epoch,      h.root_map,
                             h.orphan_head,           h.page_count, h.latest_epoch};
  for (int w = 0; w < 6; ++w) PutLe64(out + 8 * w, words[w]);
}

// False unless the bytes start with the magic.
inline bool DecodeCommittedHeader(const uint8_t* in, CommittedHeader& h) {
  uint64_t words[6];
  for (int w = 0; w < 6; ++w) words[w] = GetLe64(in + 8 * w);
  if (words[0] != CommittedHeader::kMagic) return false;
  h = {words[1], words[2], words[3], words[4], words[5]};
  return true;
}

}  // namespace pagefs
