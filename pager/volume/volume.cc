#include "pager/volume/volume.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "pager/util/checksum.h"
#include "pager/util/error.h"
#include "pager/util/no_wait.h"

namespace pagefs {

namespace {

bool ValidPageSize(uint32_t size) {
  return size >= 4096 && size <= 65536 && (size & (size - 1)) == 0;
}

}  // namespace

Volume::Volume(Tier& tier, std::string name, const VolumeOptions& options)
    : tier_(tier),
      name_(std::move(name)),
      page_size_(options.page_size),
      read_only_(options.read_only),
      readers_(options.readers),
      table_(std::make_unique<PageTable>(tier, options.page_size, name_)) {
  if (readers_ == nullptr) {
    own_readers_ = std::make_unique<ReaderTable>();
    readers_ = own_readers_.get();
  }
  if (!ValidPageSize(page_size_) || tier.slot_size() != page_size_) {
    throw Error(
        ErrorCode::kInvalidArgument,
        "page size must be a power of two from 4096 to 65536, not " + std::to_string(page_size_));
  }
  root_ = options.commit_root;
  if (root_ == nullptr) {
    own_root_ = std::make_unique<SuperblockSlots>(tier_);
    root_ = own_root_.get();
  }
  std::optional<Superblock> best = root_->Load();
  if (!best) {
    if (tier_.size() != 0) {
      throw Error(ErrorCode::kCorruption, "no valid superblock in " + name_ + " (" + tier_.name() +
                                              "): the store is damaged");
    }
    if (!options.create || read_only_) {
      throw Error(ErrorCode::kNotFound, "no store in " + name_ + " (" + tier_.name() + ")");
    }
    Superblock sb;
    sb.page_size = page_size_;
    sb.page_count = 1;
    Guarded([&] { root_->Publish(sb); });
    best = sb;
  }
  if (best->page_size != page_size_) {
    throw Error(ErrorCode::kInvalidArgument, name_ + " has page size " +
                                                 std::to_string(best->page_size) + ", not " +
                                                 std::to_string(page_size_));
  }
  if (read_only_ && readers_->has_file()) {
    reader_slot_ = readers_->Claim();
    best = PublishNewest();
  }
  committed_ = *best;
  page_count_ = std::max<uint64_t>(1, committed_.page_count);
  table_->Open(
      {committed_.table_height, {committed_.table_root_slot, committed_.table_root_checksum}});
  last_look_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
}

namespace {

ReaderSnapshot SnapshotOf(const Superblock& sb) {
  return {sb.epoch, sb.table_height, sb.table_root_slot, sb.table_root_checksum, sb.page_count};
}

}  // namespace

Superblock Volume::PublishNewest() {
  for (;;) {
    std::optional<Superblock> sb = root_->Load();
    if (!sb) {
      throw Error(ErrorCode::kCorruption, "no valid superblock in " + name_ + " (" + tier_.name() +
                                              "): the store is damaged");
    }
    reader_slot_->Publish(SnapshotOf(*sb));
    // The writer scans the table after its superblock is durable: if no newer
    // commit shows now, the writer of the next one sees this epoch.
    std::optional<Superblock> again = root_->Load();
    if (again && again->epoch == sb->epoch) return *sb;
  }
}

bool Volume::NewerCommit(bool force, int64_t interval_ns) {
  if (!read_only_) return false;
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  int64_t last = last_look_ns_.load();
  if (!force && now - last < interval_ns) return false;
  NoWaitScope::Refuse();  // the look reads the tier
  // One thread looks per interval.
  if (!last_look_ns_.compare_exchange_strong(last, now) && !force) return false;
  std::optional<Superblock> sb = root_->Load();
  MutexLock lock(mu_);
  return sb && sb->epoch > committed_.epoch;
}

bool Volume::FollowNewest() {
  if (!read_only_) return false;
  std::optional<Superblock> sb =
      reader_slot_ ? std::optional<Superblock>(PublishNewest()) : root_->Load();
  if (!sb) {
    throw Error(ErrorCode::kCorruption, "no valid superblock in " + name_ + " (" + tier_.name() +
                                            "): the store is damaged");
  }
  {
    MutexLock lock(mu_);
    if (sb->epoch == committed_.epoch) return false;
  }
  auto table = std::make_unique<PageTable>(tier_, page_size_, name_);
  table->Open({sb->table_height, {sb->table_root_slot, sb->table_root_checksum}});
  MutexLock lock(mu_);
  committed_ = *sb;
  table_ = std::move(table);
  page_count_ = std::max<uint64_t>(1, committed_.page_count);
  slots_.reset();  // the free ids of the new commit are found on demand
  free_ids_.clear();
  free_map_.clear();
  free_id_count_ = 0;
  return true;
}

template <class Fn>
auto Volume::Guarded(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (...) {
    failed_.store(true, std::memory_order_release);
    throw;
  }
}

void Volume::CheckWritable() const {
  if (read_only_) throw Error(ErrorCode::kReadOnly, name_ + " is open read-only");
  if (failed()) {
    throw Error(ErrorCode::kFailed, name_ +
                                        " refuses writes after a failed write or sync; "
                                        "reopen it to continue from the last commit");
  }
}

void Volume::CheckInRange(PageId id) const {
  // An id read out of a damaged page: storing it would grow the table (and
  // the memory it takes) up to that id.
  if (id == kNoPage || id >= page_count_) {
    throw Error(ErrorCode::kCorruption, "page " + std::to_string(id) + " is past the end of " +
                                            name_ + " (" + std::to_string(page_count_) + " pages)");
  }
}

void Volume::Load(PageId id, uint8_t* buf) {
  TableEntry entry;
  {
    MutexLock lock(mu_);
    CheckInRange(id);
    entry = table_->Get(id);
  }
  ReadVerified(id, entry, buf, {});
}

void Volume::ReadVerified(PageId id, const TableEntry& entry, uint8_t* buf,
                          std::string_view which) {
  if (entry.slot == 0) {
    std::memset(buf, 0, page_size_);
    return;
  }
  tier_.Read(entry.slot, buf);
  if (Checksum(buf, page_size_, DataPageSeed(id)) != entry.checksum) {
    throw Error(ErrorCode::kCorruption, "checksum mismatch in " + name_ + ": page " +
                                            std::to_string(id) + std::string(which) + " (slot " +
                                            std::to_string(entry.slot) + " of " + tier_.name() +
                                            ")");
  }
}

void Volume::WillNeed(PageId first, uint64_t count) {
  std::vector<SlotId> slots;
  try {
    MutexLock lock(mu_);
    const PageId end = std::min<uint64_t>(first + count, page_count_);
    for (PageId id = std::max<PageId>(first, 1); id < end; ++id) {
      const SlotId slot = table_->Get(id).slot;
      if (slot != 0) slots.push_back(slot);
    }
  } catch (...) {
    return;  // a table node failed to load: the Load of a page under it names it
  }
  if (!slots.empty()) tier_.WillNeed(slots);
}

size_t Volume::LoadMany(const PageId* ids, uint8_t* const* bufs, size_t n) {
  // Runs are capped so one tier request stays a bounded size (1 MiB at 4 KiB).
  constexpr size_t kMaxRun = 256;
  std::vector<TableEntry> entries(n);
  try {
    MutexLock lock(mu_);
    for (size_t i = 0; i < n; ++i) {
      if (ids[i] == kNoPage || ids[i] >= page_count_) {
        n = i;  // Load names it
        break;
      }
      entries[i] = table_->Get(ids[i]);
    }
  } catch (...) {
    return 0;  // a table node failed to load: Load names it
  }
  size_t i = 0;
  while (i < n) {
    if (entries[i].slot == 0) {
      std::memset(bufs[i], 0, page_size_);
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < n && end - i < kMaxRun && entries[end].slot == entries[end - 1].slot + 1) ++end;
    try {
      tier_.ReadRun(entries[i].slot, static_cast<uint32_t>(end - i), bufs + i);
    } catch (...) {
      // The run failed somewhere: read it slot by slot, so the pages before
      // the one that fails are still loaded.
      for (size_t j = i; j < end; ++j) {
        try {
          tier_.Read(entries[j].slot, bufs[j]);
        } catch (...) {
          end = j;
          break;
        }
      }
      for (; i < end; ++i) {
        if (Checksum(bufs[i], page_size_, DataPageSeed(ids[i])) != entries[i].checksum) return i;
      }
      return i;
    }
    for (; i < end; ++i) {
      if (Checksum(bufs[i], page_size_, DataPageSeed(ids[i])) != entries[i].checksum) return i;
    }
  }
  return n;
}

void Volume::Store(PageId id, const uint8_t* buf) {
  CheckWritable();
  SlotId slot;
  {
    MutexLock lock(mu_);
    CheckInRange(id);
    EnsureAllocators();
    TableEntry old = table_->Get(id);
    NoteChange(id, old);
    if (old.slot != 0 && slots_->IsFresh(old.slot)) {
      slot = old.slot;  // written since the last commit: no commit needs it
    } else {
      slot = slots_->Allocate();
      if (old.slot != 0) slots_->Release(old.slot);
    }
  }
  uint64_t sum = Checksum(buf, page_size_, DataPageSeed(id));
  Guarded([&] { tier_.Write(slot, buf); });
  MutexLock lock(mu_);
  table_->Set(id, {slot, sum});
}

PageId Volume::AllocateId() {
  CheckWritable();
  MutexLock lock(mu_);
  EnsureAllocators();
  while (!free_ids_.empty()) {
    PageId id = free_ids_.back();
    free_ids_.pop_back();
    if (!free_map_[id]) continue;  // stale: EnsureAllocated took it
    free_map_[id] = false;
    --free_id_count_;
    return id;
  }
  free_map_.push_back(false);
  return page_count_++;
}

void Volume::EnsureAllocated(PageId id) {
  CheckWritable();
  if (id == kNoPage) {
    throw Error(ErrorCode::kInvalidArgument, "page 0 of " + name_ + " is not a page");
  }
  MutexLock lock(mu_);
  EnsureAllocators();
  if (id >= page_count_) {
    GrowTo(id + 1);
  }
  if (free_map_[id]) {
    free_map_[id] = false;
    --free_id_count_;
    if (free_ids_.size() > 2 * free_id_count_ + 64) {  // too many stale entries
      std::erase_if(free_ids_, [this](PageId f) {
        mu_.AssertHeld();  // called by erase_if, under this scope's lock
        return !free_map_[f];
      });
    }
  }
}

void Volume::ExtendTo(uint64_t count) {
  CheckWritable();
  MutexLock lock(mu_);
  EnsureAllocators();
  if (count > page_count_) GrowTo(count);
}

void Volume::GrowTo(uint64_t count) {
  // New ids go on the stack highest first, so low ids are handed out first.
  for (PageId f = count - 1; f >= page_count_; --f) free_ids_.push_back(f);
  free_map_.resize(count, true);
  free_id_count_ += count - page_count_;
  page_count_ = count;
}

bool Volume::IsAllocated(PageId id) {
  MutexLock lock(mu_);
  if (id == kNoPage || id >= page_count_) return false;
  EnsureAllocators();
  return !free_map_[id];
}

std::vector<PageId> Volume::AllocatedIds() {
  MutexLock lock(mu_);
  EnsureAllocators();
  std::vector<PageId> ids;
  ids.reserve(page_count_ - 1 - free_id_count_);
  for (PageId id = 1; id < page_count_; ++id) {
    if (!free_map_[id]) ids.push_back(id);
  }
  return ids;
}

uint64_t Volume::page_count() const {
  MutexLock lock(mu_);
  return page_count_;
}

void Volume::FreeId(PageId id) {
  CheckWritable();
  MutexLock lock(mu_);
  EnsureAllocators();
  if (id == kNoPage || id >= page_count_ || free_map_[id]) {
    throw Error(ErrorCode::kInvalidArgument,
                "free of page " + std::to_string(id) + " that " + name_ + " has not allocated");
  }
  TableEntry old = table_->Get(id);
  NoteChange(id, old);
  if (old.slot != 0) slots_->Release(old.slot);
  table_->Set(id, {});
  free_ids_.push_back(id);
  free_map_[id] = true;
  ++free_id_count_;
}

void Volume::EnsureAllocators() {
  if (slots_) return;
  // The committed state is the only state on disk; everything it reaches is
  // in use and every id below page_count without a slot is free.
  SlotAllocator slots(kFirstDataSlot);
  const uint64_t page_count = page_count_;
  std::vector<bool> stored(page_count, false);
  table_->Walk([&](SlotId s) { slots.MarkUsed(s); },
               [&](PageId id, const TableEntry& e) {
                 if (e.slot == 0) return;
                 slots.MarkUsed(e.slot);
                 if (id < page_count) stored[id] = true;
               });
  std::vector<PageId> free_ids;
  std::vector<bool> free_map(page_count_, false);
  for (PageId id = 1; id < page_count_; ++id) {
    if (!stored[id]) {
      free_ids.push_back(id);
      free_map[id] = true;
    }
  }
  std::reverse(free_ids.begin(), free_ids.end());  // hand out low ids first
  if (!read_only_) HoldForReadersAndTrim(slots);
  slots_.emplace(std::move(slots));
  free_id_count_ = free_ids.size();
  free_ids_ = std::move(free_ids);
  free_map_ = std::move(free_map);
}

void Volume::Commit(const Anchors& anchors) {
  CheckWritable();
  MutexLock lock(mu_);
  if (!table_->dirty() && anchors == committed_.anchors && page_count_ == committed_.page_count) {
    return;
  }
  EnsureAllocators();
  Guarded([&] {
    mu_.AssertHeld();  // the lambda runs inside this scope's lock
    TableRoot root = table_->WriteDirty(*slots_);
    tier_.Sync();
    Superblock sb = committed_;
    sb.epoch += 1;
    sb.page_count = page_count_;
    sb.table_height = root.height;
    sb.table_root_slot = root.entry.slot;
    sb.table_root_checksum = root.entry.checksum;
    sb.anchors = anchors;
    root_->Publish(sb);
    slots_->CommitSucceeded(sb.epoch);
    committed_ = sb;
    committed_entries_.clear();
    ReclaimForReaders();
  });
}

bool Volume::has_uncommitted_changes() const {
  MutexLock lock(mu_);
  return table_->dirty() || page_count_ != committed_.page_count || !committed_entries_.empty();
}

void Volume::HoldForReadersAndTrim(SlotAllocator& slots) {
  // A writer that crashed held slots for readers of older commits; they may
  // still be reading. Walk each such commit's table (its slots were never
  // reused) and hold what the last commit does not use.
  for (const ReaderSnapshot& r : readers_->Scan().snapshots) {
    if (r.epoch >= committed_.epoch) continue;
    std::vector<SlotId> reached;
    try {
      PageTable old(tier_, page_size_, name_);
      old.Open({r.table_height, {r.table_root_slot, r.table_root_checksum}});
      old.Walk([&](SlotId s) { reached.push_back(s); },
               [&](PageId, const TableEntry& e) {
                 if (e.slot != 0) reached.push_back(e.slot);
               });
    } catch (const Error&) {
      continue;  // that reader meets the same damage itself
    }
    slots.Hold(committed_.epoch, reached);
  }
  // Everything else past the superblocks is free: give its disk space back
  // (a crashed writer's uncommitted pages), one request per free run.
  const SlotId end = tier_.size();
  SlotId run = 0;
  for (SlotId s = kFirstDataSlot; s <= end; ++s) {
    const bool free = s < end && !slots.IsUsed(s);
    if (free && run == 0) run = s;
    if (!free && run != 0) {
      tier_.DiscardRun(run, s - run);
      run = 0;
    }
  }
}

void Volume::ReclaimForReaders() {
  ReaderScan scan = readers_->Scan();
  slots_->Reclaim(scan.oldest);
  std::erase_if(pinned_tables_, [&](const auto& kv) {
    for (const ReaderSnapshot& r : scan.snapshots) {
      if (r.epoch == kv.first) return false;
    }
    return true;
  });
}

VolumeReaderStats Volume::reader_stats() {
  ReaderScan scan = readers_->Scan();
  MutexLock lock(mu_);
  VolumeReaderStats s;
  s.live = scan.live;
  s.oldest = scan.oldest;
  s.held_slots = slots_ ? slots_->held_slots() : 0;
  return s;
}

CommitPin Volume::PinCommitted() {
  // Under mu_: no commit (whose reclaim scans the pins) runs in between.
  MutexLock lock(mu_);
  return {committed_, readers_->PinLocal(SnapshotOf(committed_))};
}

void Volume::LoadPinned(const Superblock& at, PageId id, uint8_t* buf) {
  TableEntry entry;
  {
    MutexLock lock(mu_);
    if (id != kNoPage && id < at.page_count) {
      if (at.epoch == committed_.epoch) {
        auto it = committed_entries_.find(id);
        entry = it != committed_entries_.end() ? it->second : table_->Get(id);
      } else {
        std::unique_ptr<PageTable>& table = pinned_tables_[at.epoch];
        if (!table) {
          auto opened = std::make_unique<PageTable>(tier_, page_size_, name_);
          opened->Open({at.table_height, {at.table_root_slot, at.table_root_checksum}});
          table = std::move(opened);
        }
        entry = table->Get(id);
        // Pinned commits' leaves are read again when needed rather than kept.
        table->TrimLeaves(uint64_t{page_size_} * 16);
      }
    }
  }
  ReadVerified(id, entry, buf, " of commit " + std::to_string(at.epoch));
}

void Volume::NoteChange(PageId id, const TableEntry& old) {
  // The first change since the commit sees the committed entry; later ones
  // see entries of fresh slots, which no commit references.
  committed_entries_.try_emplace(id, old);
}

uint64_t Volume::LoadCommitted(PageId id, uint8_t* buf, std::optional<uint64_t> expect_epoch) {
  for (;;) {
    TableEntry entry;
    uint64_t epoch;
    {
      MutexLock lock(mu_);
      epoch = committed_.epoch;
      if (expect_epoch && *expect_epoch != epoch) {
        throw Error(ErrorCode::kStale, "commit " + std::to_string(*expect_epoch) + " of " + name_ +
                                           " was replaced by commit " + std::to_string(epoch));
      }
      if (id != kNoPage && id < committed_.page_count) {
        auto it = committed_entries_.find(id);
        entry = it != committed_entries_.end() ? it->second : table_->Get(id);
      }
    }
    if (entry.slot == 0) {
      std::memset(buf, 0, page_size_);
      return epoch;
    }
    // The slot stays as the commit left it until a newer commit succeeds
    // (then it may be reused): read outside the lock, then make sure no
    // commit happened meanwhile.
    tier_.Read(entry.slot, buf);
    const bool intact = Checksum(buf, page_size_, DataPageSeed(id)) == entry.checksum;
    {
      MutexLock lock(mu_);
      if (committed_.epoch != epoch) {
        if (expect_epoch) {
          throw Error(ErrorCode::kStale, "commit " + std::to_string(epoch) + " of " + name_ +
                                             " was replaced during a read");
        }
        continue;
      }
    }
    if (!intact) {
      throw Error(ErrorCode::kCorruption,
                  "checksum mismatch in " + name_ + ": committed page " + std::to_string(id) +
                      " (slot " + std::to_string(entry.slot) + " of " + tier_.name() + ")");
    }
    return epoch;
  }
}

Superblock Volume::committed() const {
  MutexLock lock(mu_);
  return committed_;
}

uint64_t Volume::pages_in_use() {
  MutexLock lock(mu_);
  EnsureAllocators();  // the free ids are known only after the walk
  return page_count_ - 1 - free_id_count_;
}

void Volume::TrimMetadata(uint64_t max_bytes) {
  MutexLock lock(mu_);
  // Only the table's leaves can be dropped (and read again); the tier's
  // memory is what it is, so it takes no leaves with it.
  const uint64_t table = table_->memory_bytes();
  const uint64_t all = OwnMetadataBytesLocked();
  if (all <= max_bytes) return;
  const uint64_t others = all - table;
  table_->TrimLeaves(max_bytes > others ? max_bytes - others : 0);
}

uint64_t Volume::metadata_bytes() const {
  uint64_t own;
  {
    MutexLock lock(mu_);
    own = OwnMetadataBytesLocked();
  }
  return own + tier_.memory_bytes();
}

uint64_t Volume::OwnMetadataBytesLocked() const {
  return table_->memory_bytes() + (slots_ ? slots_->memory_bytes() : 0) +
         free_ids_.capacity() * sizeof(PageId) + free_map_.capacity() / 8 +
         // an unordered_map node: the pair, a next pointer, the cached hash;
         // plus one bucket pointer
         committed_entries_.size() * (sizeof(std::pair<const PageId, TableEntry>) + 16) +
         committed_entries_.bucket_count() * sizeof(void*);
}

}  // namespace pagefs
