#include "pager/volume/reader_table.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "pager/util/coding.h"
#include "pager/util/error.h"

namespace pagefs {

namespace {

// The file: a 64-byte header, then kSlots slots of 64 bytes (docs/readers.md).
constexpr uint64_t kMagic = 0x3144524653474150ULL;  // "PAGSFRD1" in little-endian bytes
constexpr uint32_t kVersion = 1;
constexpr uint64_t kNoEpoch = ~uint64_t{0};
constexpr size_t kFileBytes = size_t{ReaderTable::kSlots + 1} * ReaderTable::kSlotBytes;

// Words of a slot, each an aligned u64 updated atomically.
enum Word : int { kSeq, kEpoch, kPid, kHeight, kRootSlot, kRootChecksum, kPageCount };

std::atomic_ref<uint64_t> At(uint8_t* slot, Word w) {
  return std::atomic_ref<uint64_t>(reinterpret_cast<uint64_t*>(slot)[w]);
}

}  // namespace

ReaderTable::ReaderTable() = default;

ReaderTable::ReaderTable(std::string path, int fd, uint8_t* map)
    : path_(std::move(path)), fd_(fd), map_(map) {}

std::unique_ptr<ReaderTable> ReaderTable::Open(const std::string& dir, bool writable) {
  const std::string path = dir + "/" + kFileName;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (!writable && (errno == EACCES || errno == EROFS || errno == EPERM)) return nullptr;
    throw Error::FromErrno(errno, "open the reader table " + path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error::FromErrno(err, "stat the reader table " + path);
  }
  // Creation may race with another opener: growing to the fixed size and
  // writing the same header are idempotent.
  if (static_cast<size_t>(st.st_size) < kFileBytes && ::ftruncate(fd, kFileBytes) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error::FromErrno(err, "size the reader table " + path);
  }
  void* map = ::mmap(nullptr, kFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    const int err = errno;
    ::close(fd);
    throw Error::FromErrno(err, "map the reader table " + path);
  }
  auto* bytes = static_cast<uint8_t*>(map);
  uint8_t header[24] = {0};
  SetField<uint64_t>(header, 0, kMagic);
  SetField<uint32_t>(header, 8, kVersion);
  SetField<uint32_t>(header, 12, kSlots);
  SetField<uint32_t>(header, 16, kSlotBytes);
  static constexpr uint8_t kZero[24] = {0};
  if (std::memcmp(bytes, kZero, sizeof(kZero)) == 0) {
    // A new file (all zeros: no slot holds an epoch yet). Slots start with
    // kNoEpoch before the header says the file is ready.
    for (uint32_t i = 1; i <= kSlots; ++i) {
      uint64_t expected = 0;
      At(bytes + size_t{i} * kSlotBytes, kEpoch).compare_exchange_strong(expected, kNoEpoch);
    }
    std::memcpy(bytes, header, sizeof(header));
  } else if (std::memcmp(bytes, header, sizeof(header)) != 0) {
    ::munmap(map, kFileBytes);
    ::close(fd);
    throw Error(ErrorCode::kCorruption,
                path + " is not a pagefs reader table of version 1 (wrong header)");
  }
  return std::unique_ptr<ReaderTable>(new ReaderTable(path, fd, bytes));
}

ReaderTable::~ReaderTable() {
  if (map_ != nullptr) ::munmap(map_, kFileBytes);
  if (fd_ >= 0) ::close(fd_);
}

uint8_t* ReaderTable::SlotBytes(uint32_t index) const {
  return map_ + size_t{index + 1} * kSlotBytes;
}

bool ReaderTable::TryLock(int fd, uint32_t index) const {
  struct flock lk {};
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_SET;
  lk.l_start = static_cast<off_t>(size_t{index + 1} * kSlotBytes);
  lk.l_len = 1;
  return ::fcntl(fd, F_OFD_SETLK, &lk) == 0;
}

void ReaderTable::Unlock(int fd, uint32_t index) const {
  struct flock lk {};
  lk.l_type = F_UNLCK;
  lk.l_whence = SEEK_SET;
  lk.l_start = static_cast<off_t>(size_t{index + 1} * kSlotBytes);
  lk.l_len = 1;
  (void)::fcntl(fd, F_OFD_SETLK, &lk);
}

std::unique_ptr<ReaderTable::Slot> ReaderTable::Claim() {
  if (map_ == nullptr) throw Error(ErrorCode::kInvalidArgument, "this reader table has no file");
  int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw Error::FromErrno(errno, "open the reader table " + path_);
  // Slots that look free first, then any (the owner of one that shows an
  // epoch may be dead and not cleared yet).
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t i = 0; i < kSlots; ++i) {
      uint8_t* slot = SlotBytes(i);
      if (pass == 0 && At(slot, kEpoch).load() != kNoEpoch) continue;
      if (!TryLock(fd, i)) continue;
      At(slot, kEpoch).store(kNoEpoch);  // whatever a dead owner left
      At(slot, kPid).store(static_cast<uint64_t>(::getpid()));
      return std::unique_ptr<Slot>(new Slot(*this, i, fd));
    }
  }
  ::close(fd);
  throw Error(ErrorCode::kBusy, "all " + std::to_string(kSlots) + " reader slots of " + path_ +
                                    " are held by live readers");
}

ReaderTable::Slot::~Slot() {
  At(table_.SlotBytes(index_), kEpoch).store(kNoEpoch);
  table_.Unlock(fd_, index_);
  ::close(fd_);
}

void ReaderTable::Slot::Publish(const ReaderSnapshot& s) {
  // A seqlock: the words change between two odd/even steps of kSeq, so a
  // scanner never takes half of one snapshot with half of another.
  uint8_t* slot = table_.SlotBytes(index_);
  const uint64_t seq = At(slot, kSeq).load();
  At(slot, kSeq).store(seq | 1);
  At(slot, kEpoch).store(s.epoch);
  At(slot, kHeight).store(s.table_height);
  At(slot, kRootSlot).store(s.table_root_slot);
  At(slot, kRootChecksum).store(s.table_root_checksum);
  At(slot, kPageCount).store(s.page_count);
  At(slot, kSeq).store((seq | 1) + 1);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

std::shared_ptr<const ReaderSnapshot> ReaderTable::PinLocal(const ReaderSnapshot& s) {
  MutexLock lock(mu_);
  auto [it, inserted] = local_.try_emplace(s.epoch, s, 0);
  ++it->second.second;
  auto* pinned = new ReaderSnapshot(s);
  return std::shared_ptr<const ReaderSnapshot>(pinned, [this](const ReaderSnapshot* p) {
    {
      MutexLock l(mu_);
      auto at = local_.find(p->epoch);
      if (at != local_.end() && --at->second.second == 0) local_.erase(at);
    }
    delete p;
  });
}

ReaderScan ReaderTable::Scan() {
  MutexLock lock(mu_);
  ReaderScan scan;
  std::map<uint64_t, ReaderSnapshot> by_epoch;
  for (const auto& [epoch, pinned] : local_) {
    scan.live += pinned.second;
    by_epoch.emplace(epoch, pinned.first);
  }
  if (map_ != nullptr) {
    for (uint32_t i = 0; i < kSlots; ++i) {
      uint8_t* slot = SlotBytes(i);
      if (At(slot, kEpoch).load() == kNoEpoch) continue;
      if (TryLock(fd_, i)) {
        // The owner is gone (its lock went with it): clear the slot while
        // holding the lock, so no new owner can be in it meanwhile.
        At(slot, kEpoch).store(kNoEpoch);
        Unlock(fd_, i);
        ++scan.cleared;
        continue;
      }
      ReaderSnapshot s;
      for (;;) {
        const uint64_t before = At(slot, kSeq).load();
        if (before & 1) continue;
        s.epoch = At(slot, kEpoch).load();
        s.table_height = static_cast<uint32_t>(At(slot, kHeight).load());
        s.table_root_slot = At(slot, kRootSlot).load();
        s.table_root_checksum = At(slot, kRootChecksum).load();
        s.page_count = At(slot, kPageCount).load();
        if (At(slot, kSeq).load() == before) break;
      }
      if (s.epoch == kNoEpoch) continue;  // claimed, nothing published yet
      ++scan.live;
      by_epoch.emplace(s.epoch, s);
    }
  }
  if (!by_epoch.empty()) scan.oldest = by_epoch.begin()->first;
  for (auto& [epoch, s] : by_epoch) scan.snapshots.push_back(s);
  return scan;
}

}  // namespace pagefs
