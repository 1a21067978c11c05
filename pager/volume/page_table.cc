#include "pager/volume/page_table.h"

#include <cstring>

#include "pager/util/checksum.h"
#include "pager/util/error.h"

namespace pagefs {

PageTable::PageTable(Tier& tier, uint32_t page_size, std::string describe)
    : tier_(tier),
      page_size_(page_size),
      per_node_(page_size / sizeof(TableEntry)),
      describe_(std::move(describe)) {}

uint64_t PageTable::Capacity(uint32_t height) const {
  uint64_t cap = 1;
  for (uint32_t k = 0; k < height; ++k) {
    if (cap > (uint64_t{1} << 48) / per_node_) return uint64_t{1} << 48;
    cap *= per_node_;
  }
  return height == 0 ? 0 : cap;
}

void PageTable::Open(const TableRoot& root) {
  height_ = root.height;
  dir_.assign(height_ + 1, {});
  dirty_upper_.assign(height_ + 1, {});
  leaves_.clear();
  dirty_leaves_.clear();
  loaded_leaves_ = 0;
  any_upper_dirty_ = false;
  if (height_ == 0) return;
  dir_[height_] = {root.entry};
  for (uint32_t k = height_; k >= 2; --k) {
    // The whole level is asked for at once: on an object store that is a
    // GET or two per level, not one per node.
    WillNeed(dir_[k]);
    dir_[k - 1].resize(dir_[k].size() * per_node_);
    for (uint64_t j = 0; j < dir_[k].size(); ++j) {
      ReadNode(k, j, dir_[k][j], &dir_[k - 1][j * per_node_]);
    }
  }
  leaves_.resize(dir_[1].size());
  // And the leaves: they load on first use, then from the tier's local cache
  // (not memory), so a random read on an empty cache costs one GET, its page's.
  WillNeed(dir_[1]);
}

void PageTable::WillNeed(const std::vector<TableEntry>& nodes) {
  std::vector<SlotId> slots;
  slots.reserve(nodes.size());
  for (const TableEntry& e : nodes) {
    if (e.slot != 0) slots.push_back(e.slot);
  }
  if (slots.size() > 1) tier_.WillNeed(slots);
}

void PageTable::ReadNode(uint32_t level, uint64_t index, const TableEntry& where, TableEntry* out) {
  if (where.slot == 0) {
    std::memset(static_cast<void*>(out), 0, per_node_ * sizeof(TableEntry));
    return;
  }
  std::vector<uint8_t> buf(page_size_);
  tier_.Read(where.slot, buf.data());
  if (Checksum(buf.data(), page_size_, TableNodeSeed(level, index)) != where.checksum) {
    throw Error(ErrorCode::kCorruption, "checksum mismatch in " + describe_ +
                                            ": page table node at level " + std::to_string(level) +
                                            ", index " + std::to_string(index) + " (slot " +
                                            std::to_string(where.slot) + ")");
  }
  std::memcpy(static_cast<void*>(out), buf.data(), per_node_ * sizeof(TableEntry));
}

PageTable::Leaf& PageTable::LoadLeaf(uint64_t index) {
  Leaf& leaf = leaves_[index];
  if (!leaf.entries) {
    auto entries = std::make_unique<TableEntry[]>(per_node_);
    TableEntry where = index < dir_[1].size() ? dir_[1][index] : TableEntry{};
    ReadNode(1, index, where, entries.get());
    leaf.entries = std::move(entries);
    ++loaded_leaves_;
  }
  return leaf;
}

TableEntry PageTable::Get(PageId id) {
  uint64_t li = id / per_node_;
  if (li >= leaves_.size()) return {};
  return LoadLeaf(li).entries[id % per_node_];
}

void PageTable::GrowTo(PageId id) {
  while (Capacity(height_) <= id) {
    if (height_ == 0) {
      height_ = 1;
      dir_ = {{}, {TableEntry{}}};
      dirty_upper_.assign(2, {});
      continue;
    }
    // The old root becomes child 0 of a new root one level up.
    TableEntry old_root = dir_[height_][0];
    dir_[height_].assign(1, old_root);
    ++height_;
    dir_.push_back({TableEntry{}});
    dirty_upper_.emplace_back();
    MarkUpperDirty(height_, 0);
  }
  uint64_t need = id / per_node_ + 1;  // level-1 nodes needed
  for (uint32_t k = 1; k < height_; ++k) {
    if (dir_[k].size() < need) dir_[k].resize(need);
    need = (need + per_node_ - 1) / per_node_;
  }
  if (leaves_.size() < dir_[1].size()) leaves_.resize(dir_[1].size());
}

void PageTable::Set(PageId id, const TableEntry& entry) {
  GrowTo(id);
  uint64_t li = id / per_node_;
  Leaf& leaf = LoadLeaf(li);
  leaf.entries[id % per_node_] = entry;
  if (!leaf.dirty) {
    leaf.dirty = true;
    dirty_leaves_.push_back(li);
  }
}

void PageTable::MarkUpperDirty(uint32_t level, uint64_t index) {
  if (level > height_) return;
  auto& bits = dirty_upper_[level];
  if (bits.size() <= index) bits.resize(index + 1);
  bits[index] = true;
  any_upper_dirty_ = true;
}

TableRoot PageTable::WriteDirty(SlotAllocator& slots) {
  if (height_ == 0) return {};
  std::vector<uint8_t> buf(page_size_);
  auto write_node = [&](uint32_t level, uint64_t index, TableEntry& where) {
    uint64_t sum = Checksum(buf.data(), page_size_, TableNodeSeed(level, index));
    if (where.slot == 0 || !slots.IsFresh(where.slot)) {
      SlotId fresh = slots.Allocate();
      if (where.slot != 0) slots.Release(where.slot);
      where.slot = fresh;
    }
    tier_.Write(where.slot, buf.data());
    where.checksum = sum;
    MarkUpperDirty(level + 1, index / per_node_);
  };
  for (uint64_t li : dirty_leaves_) {
    std::memcpy(buf.data(), leaves_[li].entries.get(), per_node_ * sizeof(TableEntry));
    write_node(1, li, dir_[1][li]);
    leaves_[li].dirty = false;
  }
  dirty_leaves_.clear();
  for (uint32_t k = 2; k <= height_; ++k) {
    auto& bits = dirty_upper_[k];
    for (uint64_t j = 0; j < bits.size(); ++j) {
      if (!bits[j]) continue;
      std::memset(buf.data(), 0, page_size_);
      const auto& children = dir_[k - 1];
      uint64_t first = j * per_node_;
      uint64_t n =
          first < children.size() ? std::min<uint64_t>(per_node_, children.size() - first) : 0;
      std::memcpy(buf.data(), children.data() + first, n * sizeof(TableEntry));
      write_node(k, j, dir_[k][j]);
    }
    bits.clear();
  }
  any_upper_dirty_ = false;
  return {height_, dir_[height_][0]};
}

void PageTable::Walk(const std::function<void(SlotId)>& node_slot,
                     const std::function<void(PageId, const TableEntry&)>& data) {
  for (uint32_t k = 1; k <= height_; ++k) {
    for (const TableEntry& e : dir_[k]) {
      if (e.slot != 0) node_slot(e.slot);
    }
  }
  for (uint64_t li = 0; li < leaves_.size(); ++li) {
    if (!leaves_[li].entries && dir_[1][li].slot == 0) continue;
    const Leaf& leaf = LoadLeaf(li);
    for (uint32_t i = 0; i < per_node_; ++i) data(li * per_node_ + i, leaf.entries[i]);
  }
}

void PageTable::TrimLeaves(uint64_t max_bytes) {
  for (uint64_t step = 0; step < leaves_.size() && memory_bytes() > max_bytes; ++step) {
    trim_hand_ = (trim_hand_ + 1) % leaves_.size();
    Leaf& leaf = leaves_[trim_hand_];
    if (!leaf.entries || leaf.dirty) continue;
    leaf.entries.reset();
    --loaded_leaves_;
  }
}

uint64_t PageTable::memory_bytes() const {
  uint64_t bytes =
      loaded_leaves_ * per_node_ * sizeof(TableEntry) + leaves_.capacity() * sizeof(Leaf);
  for (const auto& level : dir_) bytes += level.capacity() * sizeof(TableEntry);
  return bytes;
}

}  // namespace pagefs
