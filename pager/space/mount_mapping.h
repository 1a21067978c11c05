// MountMapping: a read-only shared mapping (PROT_READ, MAP_SHARED) of one of
// a pagefs mount's cached files (PREFIX/committed, or PREFIX/data opened
// read-only), from which a client copies pages with no syscall when the
// kernel's page cache holds them. Every process that maps the file shares the
// kernel's one copy of each page, which counts inside the daemon's budget
// (docs/mount.md, "The kernel's page cache").
//
// Coherence is the kernel's: when the daemon changes pages it invalidates
// their range, which unmaps them from every mapping, and the next touch
// faults the new bytes in. A commit's `committed` never changes; a new commit
// is a new file, mapped anew.
//
// Growth: a large range of address space is reserved at construction
// (PROT_NONE, costing no memory) and the file is mapped over its start up to
// its size; a page past that extent makes the mapping look at the file's size
// again and map the new part. Nothing past the file's end is ever touched.
//
// Faults bring what they touch and nothing around it (MADV_RANDOM): the
// kernel reads around a fault by the mount's readahead (1 MiB), and those
// pages are in its cache before the daemon can count them, so four readers
// faulting at random held 4 MiB more than the daemon's budget allowed. A page
// larger than the kernel's is asked for whole on its first touch, and a scan
// asks for the pages it reads next (WillRead): both by POSIX_FADV_WILLNEED,
// so what is in flight is what the readers asked for.
//
// Failed faults (the daemon answers EIO: a damaged page; ENOTCONN: the daemon
// died) would be SIGBUS: every copy goes through CopyFromMapping, and PageAt
// probes the page in with ProbeMapping (util/sigbus_guard.h), so they fail
// instead, and the caller preads the page to get the real error. The
// reservation is registered as read in place (RegisterInPlaceRange).
//
// Thread safety: CopyPage, PageAt and ProbedPageAt from any thread. The
// descriptor is the caller's and must stay open while the mapping lives.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include "pager/util/mutex.h"
#include "pager/util/page.h"

namespace pagefs {

class MountMapping {
 public:
  // Address space reserved for the file (mapped up to its size only); pages
  // past it are read with pread.
  static constexpr uint64_t kReserveBytes = uint64_t{1} << 38;

  // Maps fd (opened read-only, through the kernel's page cache). A file that
  // cannot be mapped leaves the mapping empty: every CopyPage is false.
  MountMapping(int fd, uint32_t page_size);
  ~MountMapping();
  MountMapping(const MountMapping&) = delete;
  MountMapping& operator=(const MountMapping&) = delete;

  // Copies page id into buf (page_size bytes). False when the page is not in
  // the file as mapped (past its end, even after a look at its size) or its
  // fault failed; buf then holds unspecified bytes.
  bool CopyPage(PageId id, uint8_t* buf);
  // Page id in place, its kernel pages faulted in: nullptr when CopyPage
  // would be false. Valid while the mapping lives; see mounted_space.h for
  // what may read it.
  const uint8_t* PageAt(PageId id);
  // The same, but only for a page PageAt gave before, and with no probe: a
  // page this process has faulted in, which the kernel most likely still
  // holds (it may have dropped it since: then the touch faults it in again).
  // For a caller that must not wait (util/no_wait.h).
  const uint8_t* ProbedPageAt(PageId id) const;
  // Asks the kernel to read these pages in now (in runs of adjacent ids), as
  // a scan that will read them next. Advice only: the pages the kernel holds
  // already cost nothing, the rest are read in the background.
  void WillRead(std::span<const PageId> ids) const;

  bool usable() const { return base_ != nullptr; }
  uint64_t mapped_bytes() const { return mapped_.load(std::memory_order_acquire); }

 private:
  // Maps the file up to its current size (at least end, if the file has it).
  // Returns whether [0, end) is now mapped.
  bool Extend(uint64_t end);
  // base_ + id * page_size_ when that page is in the file as mapped.
  const uint8_t* Locate(PageId id);
  // POSIX_FADV_WILLNEED of pages [first, first + count).
  void Advise(PageId first, uint64_t count) const;
  // One bit per page PageAt probed in, in chunks of kChunkPages made on
  // first use (a 10 GiB file of 4 KiB pages takes 320 KiB of bits).
  static constexpr uint64_t kChunkPages = uint64_t{1} << 19;
  static constexpr size_t kChunks = kReserveBytes / 4096 / kChunkPages;
  void MarkProbed(PageId id);
  bool Probed(PageId id) const;

  const int fd_;
  const uint32_t page_size_;
  const uint32_t os_page_;
  uint8_t* base_ = nullptr;
  uint64_t reserved_ = 0;
  std::atomic<uint64_t> mapped_{0};      // [base_, base_ + mapped_) maps the file
  std::atomic<bool> unmappable_{false};  // mmap refused the file: never try again
  std::atomic<std::atomic<uint64_t>*> probed_[kChunks] = {};
  Mutex extend_mu_;
};

}  // namespace pagefs
