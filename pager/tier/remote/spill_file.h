// SpillFile: the pages written to a RemoteTier and not yet uploaded, kept on
// local disk instead of in RAM, so that a large uncommitted change costs disk
// (one page per slot) and only an index in memory (slot -> offset, about 50
// bytes a page). The file is unlinked from the start (O_TMPFILE, else a
// name removed at once): nothing of it survives the process, and it never
// needs cleaning up. A slot written again reuses its page of the file; a
// discarded slot's page is reused by the next new slot; Clear (after an
// upload) gives all of it back.
// Thread safety: every method may be called from several threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pager/tier/tier.h"
#include "pager/util/mutex.h"

namespace pagefs {

class SpillFile {
 public:
  // An unlinked file in folder dir. Throws Error(kIo) naming dir when it
  // cannot be made.
  SpillFile(const std::string& dir, uint32_t page_size);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Throws Error(kIo/kNoSpace) when the local disk refuses the page.
  void Put(SlotId slot, const uint8_t* page);
  // False when slot is not pending.
  bool Get(SlotId slot, uint8_t* page) const;
  void Erase(SlotId slot);
  // A pending slot and the version of its page (bumped by every Put).
  struct Pending {
    SlotId slot;
    uint64_t version;
  };
  // The pending slots, ascending.
  std::vector<Pending> Slots() const;
  // Forgets the slots given (uploaded) unless written again since Slots()
  // and, when none is left, gives the file's disk space back.
  void Forget(const std::vector<Pending>& uploaded);
  bool empty() const;
  // One past the highest pending slot; 0 when none.
  SlotId end() const;
  // Bytes of local disk the file holds.
  uint64_t bytes() const;
  // The RAM its index of pending pages takes.
  uint64_t memory_bytes() const;

 private:
  const std::string dir_;
  const uint32_t page_size_;
  int fd_ = -1;
  mutable Mutex mu_;
  struct Page {
    uint64_t number;  // in the file
    uint64_t version;
  };
  std::map<SlotId, Page> pages_ GUARDED_BY(mu_);
  uint64_t next_version_ GUARDED_BY(mu_) = 1;
  std::vector<uint64_t> free_ GUARDED_BY(mu_);
  uint64_t file_pages_ GUARDED_BY(mu_) = 0;
};

}  // namespace pagefs
