// PageTable: logical page id -> (tier slot, checksum), for one Volume.
//
// On disk it is a radix tree of table nodes, each one tier slot of
// page_size/16 entries. Leaves (level 1) hold the entries of data pages; a
// node at level k >= 2 holds the entries of level k-1 nodes; the superblock
// holds the entry of the root (level = height). A node is verified against the
// checksum its parent holds, so every stored byte the table reaches is covered.
//
// In memory the levels above the leaves are always loaded (1/256 of the leaf
// count at 4 KiB pages; Open asks the tier for each level, and then for all
// leaves, with one Tier::WillNeed, so an object store fetches them in a few
// GETs into its local cache, not one GET per node); leaves load on first use and are counted in
// memory_bytes(), which the buffer pool charges against the cache budget;
// leaves without uncommitted changes can be dropped again (TrimLeaves).
//
// WriteDirty() writes changed nodes bottom-up to slots from the allocator
// (shadow paging: a committed node is never overwritten) and returns the new
// root entry. Not thread-safe: the Volume serializes calls.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pager/tier/tier.h"
#include "pager/util/page.h"
#include "pager/volume/slot_allocator.h"

namespace pagefs {

struct TableEntry {
  SlotId slot = 0;  // 0: no stored bytes (reads as zeros)
  uint64_t checksum = 0;
};
static_assert(sizeof(TableEntry) == 16);

struct TableRoot {
  uint32_t height = 0;
  TableEntry entry;
};

class PageTable {
 public:
  // describe() names the volume in error messages ("prefix 'data'").
  PageTable(Tier& tier, uint32_t page_size, std::string describe);

  // Loads the upper levels of a committed table. Throws Error(kCorruption).
  void Open(const TableRoot& root);

  TableEntry Get(PageId id);
  // Records a new location for id, growing the table if needed.
  void Set(PageId id, const TableEntry& entry);

  // Writes every changed node; returns the new root. Slots of replaced
  // committed nodes are released to the allocator (pending until commit).
  TableRoot WriteDirty(SlotAllocator& slots);
  bool dirty() const { return !dirty_leaves_.empty() || any_upper_dirty_; }

  // Calls fn(slot) for every slot the table references (its own nodes and the
  // data pages), and data(id, entry) for every data entry. Loads all leaves.
  void Walk(const std::function<void(SlotId)>& node_slot,
            const std::function<void(PageId, const TableEntry&)>& data);

  // Drops loaded leaves that hold no change since the last commit (they are
  // read again from their committed slot when next needed) until
  // memory_bytes() <= max_bytes or only changed leaves are left.
  void TrimLeaves(uint64_t max_bytes);

  uint64_t memory_bytes() const;
  uint32_t entries_per_node() const { return per_node_; }

 private:
  struct Leaf {
    std::unique_ptr<TableEntry[]> entries;
    bool dirty = false;
  };

  uint64_t Capacity(uint32_t height) const;
  void GrowTo(PageId id);
  Leaf& LoadLeaf(uint64_t index);
  // Tells the tier these nodes will be read (Tier::WillNeed).
  void WillNeed(const std::vector<TableEntry>& nodes);
  void ReadNode(uint32_t level, uint64_t index, const TableEntry& where, TableEntry* out);
  void MarkUpperDirty(uint32_t level, uint64_t index);

  Tier& tier_;
  const uint32_t page_size_;
  const uint32_t per_node_;
  const std::string describe_;
  uint32_t height_ = 0;
  // dir_[k] (1 <= k <= height_) holds the entries of the level-k nodes;
  // dir_[height_] has exactly one, the root's.
  std::vector<std::vector<TableEntry>> dir_;
  // dirty_upper_[k]: level-k nodes (k >= 2) whose content changed.
  std::vector<std::vector<bool>> dirty_upper_;
  bool any_upper_dirty_ = false;
  std::vector<Leaf> leaves_;
  std::vector<uint64_t> dirty_leaves_;
  uint64_t loaded_leaves_ = 0;
  uint64_t trim_hand_ = 0;  // where the next TrimLeaves sweep starts
};

}  // namespace pagefs
