// Checker: the table and checksum walk, the collection walk and the
// bookkeeping comparisons of `pagefs check` (checker.h says what is checked).
#include "pager/checker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "pager/collections/blobs.h"
#include "pager/collections/collection_check.h"
#include "pager/collections/collection_headers.h"
#include "pager/collections/heap.h"
#include "pager/collections/kind_registry.h"
#include "pager/store.h"
#include "pager/store_folders.h"
#include "pager/util/checksum.h"
#include "pager/util/coding.h"
#include "pager/util/error.h"
#include "pager/util/utf8.h"
#include "pager/values/value_format.h"
#include "pager/volume/page_table.h"
#include "pager/volume/volume.h"

namespace pagefs {
namespace {

constexpr size_t kMaxRun = 256;                  // slots per tier read in the checksum walk
constexpr uint64_t kMaxUtf8Check = 16ull << 20;  // longer blob strs are not read back for UTF-8

std::string Num(uint64_t v) { return std::to_string(v); }

// What the walk learns about one collection id.
struct Collection {
  uint64_t refs = 0;  // references found (values, the root map's anchor)
  PageId first_referrer = kNoPage;
  uint8_t ref_kind = 0;  // the kind the first reference to it names
  bool visited = false;
  bool valid = false;  // its header is a collection header
  bool on_orphan_list = false;
  bool unreachable = false;  // found by the scan of unreached pages
  uint8_t kind = 0;
  uint64_t refcount = 0;  // as stored in its header
  PageId orphan_prev = kNoPage, orphan_next = kNoPage;
};

// "1 (list)", "1 (list) or 2 (root map)": kinds, for messages.
std::string KindNames(const KindRegistry& kinds, const std::vector<uint8_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out += i + 1 == ids.size() ? " or " : ", ";
    out += Num(ids[i]) + " (" + kinds.Find(ids[i])->name + ")";
  }
  return out;
}

class PrefixChecker {
 public:
  PrefixChecker(Store& store, const CheckOptions& options, const CheckProgressFn& progress)
      : kinds_(store.heap().kinds()),
        volume_(store.volume()),
        heap_(store.heap()),
        space_(store.space()),
        tier_(volume_.tier()),
        options_(options),
        progress_(progress),
        sb_(volume_.committed()),
        page_size_(volume_.page_size()),
        per_node_(page_size_ / sizeof(TableEntry)) {
    report_.prefix = store.prefix();
    report_.epoch = sb_.epoch;
    report_.page_size = page_size_;
    report_.page_count = std::max<uint64_t>(1, sb_.page_count);
    page_count_ = report_.page_count;
    stored_.assign(page_count_, false);
    reached_.assign(page_count_, false);
    referenceable_ = kinds_.referenceable();
    for (size_t i = 0; i < referenceable_.size(); ++i) {
      if (i != 0) referenceable_names_ += i + 1 == referenceable_.size() ? " and " : ", ";
      referenceable_names_ += kinds_.Find(referenceable_[i])->name + "s";
    }
  }

  CheckReport Run() {
    WalkTable();
    WalkCollections();
    CheckBookkeeping();
    ReportLeaks();
    return std::move(report_);
  }

 private:
  // ---- problems ----------------------------------------------------------------

  void Problem(const char* kind, PageId page, PageId collection, std::string message) {
    if (report_.problems.size() >= options_.max_problems) {
      ++report_.problems_omitted;
      return;
    }
    report_.problems.push_back({kind, page, collection, std::move(message)});
  }

  void Progress(const char* phase, uint64_t done, uint64_t total) {
    if (progress_) progress_({phase, done, total});
  }

  // ---- 1 and 2: the page table and the data pages' checksums --------------------

  // Marks slot used by what (a page or a node); false when it cannot be read.
  bool UseSlot(SlotId slot, const std::string& what, PageId page) {
    if (slot < Volume::kFirstDataSlot) {
      Problem("slot", page, kNoPage, what + " points at slot " + Num(slot) + ", a superblock slot");
      return false;
    }
    if (slot >= tier_.size()) {
      Problem("slot", page, kNoPage,
              what + " points at slot " + Num(slot) + ", past the end of the segments (" +
                  Num(tier_.size()) + " slots)");
      return false;
    }
    if (slots_.size() <= slot) slots_.resize(std::max<uint64_t>(tier_.size(), slot + 1));
    if (slots_[slot]) {
      shared_slots_[slot];  // users named by a second walk
    }
    slots_[slot] = true;
    return true;
  }

  void WalkTable() {
    if (sb_.table_height == 0) return;
    const TableEntry root{sb_.table_root_slot, sb_.table_root_checksum};
    WalkNode(sb_.table_height, 0, root, /*verify=*/true);
    Progress("checksums", page_count_ - 1, page_count_ - 1);
    if (!shared_slots_.empty()) {
      WalkNode(sb_.table_height, 0, root, /*verify=*/false);  // collects the slots' users
      for (auto& [slot, users] : shared_slots_) {
        std::string list;
        for (const std::string& u : users) list += (list.empty() ? "" : ", ") + u;
        Problem("slot", kNoPage, kNoPage, "slot " + Num(slot) + " is used by " + list);
      }
    }
  }

  // The page ids under a table node that could not be read: what they hold
  // is unknown (not missing), so the collection walk does not report them.
  void Unmap(uint32_t level, uint64_t index) {
    uint64_t span = 1;
    for (uint32_t k = 0; k < level && span < page_count_; ++k) span *= per_node_;
    const uint64_t first = index * span;
    if (first < page_count_) unmapped_.emplace_back(first, std::min(page_count_, first + span));
  }
  bool Unmapped(PageId id) const {
    for (const auto& [first, end] : unmapped_) {
      if (id >= first && id < end) return true;
    }
    return false;
  }

  static std::string NodeName(uint32_t level, uint64_t index) {
    return "page table node (level " + Num(level) + ", index " + Num(index) + ")";
  }

  void NoteSharedUser(SlotId slot, const std::string& who) {
    auto it = shared_slots_.find(slot);
    if (it != shared_slots_.end()) it->second.push_back(who);
  }

  // verify: the first walk (checks, counts, data checksums); otherwise only
  // names the users of shared slots.
  void WalkNode(uint32_t level, uint64_t index, const TableEntry& where, bool verify) {
    const std::string name = NodeName(level, index);
    if (!verify) {
      NoteSharedUser(where.slot, name);
    } else if (!UseSlot(where.slot, name, kNoPage)) {
      return;
    }
    if (where.slot < Volume::kFirstDataSlot || where.slot >= tier_.size()) {
      if (verify) Unmap(level, index);
      return;
    }
    std::vector<uint8_t> buf(page_size_);
    try {
      tier_.Read(where.slot, buf.data());
    } catch (const Error& e) {
      if (verify) {
        Unmap(level, index);
        Problem("io", kNoPage, kNoPage, name + " (slot " + Num(where.slot) + "): " + e.what());
      }
      return;
    }
    if (Checksum(buf.data(), page_size_, TableNodeSeed(level, index)) != where.checksum) {
      if (verify) {
        Unmap(level, index);
        Problem("table", kNoPage, kNoPage,
                "checksum mismatch: " + name + " at slot " + Num(where.slot) + " of " +
                    tier_.name() + "; the pages it maps cannot be checked");
      }
      return;
    }
    if (verify) ++report_.table_nodes;
    std::vector<TableEntry> entries(per_node_);
    std::memcpy(static_cast<void*>(entries.data()), buf.data(), per_node_ * sizeof(TableEntry));
    if (level >= 2) {
      for (uint32_t i = 0; i < per_node_; ++i) {
        if (entries[i].slot != 0) WalkNode(level - 1, index * per_node_ + i, entries[i], verify);
      }
      return;
    }
    std::vector<std::pair<PageId, TableEntry>> data;
    for (uint32_t i = 0; i < per_node_; ++i) {
      const PageId id = index * per_node_ + i;
      const TableEntry& e = entries[i];
      if (e.slot == 0) continue;
      const std::string page = "page " + Num(id);
      if (!verify) {
        NoteSharedUser(e.slot, page);
        continue;
      }
      if (id == kNoPage || id >= page_count_) {
        Problem("table", id, kNoPage,
                name + " maps page " + Num(id) + ", outside the commit's page ids 1.." +
                    Num(page_count_ - 1));
        continue;
      }
      if (!UseSlot(e.slot, page, id)) continue;
      stored_[id] = true;
      ++report_.pages;
      data.emplace_back(id, e);
    }
    VerifyData(data);
    if (verify)
      Progress("checksums", std::min(page_count_ - 1, (index + 1) * per_node_), page_count_ - 1);
  }

  void VerifyPage(PageId id, const TableEntry& e, const uint8_t* bytes) {
    if (Checksum(bytes, page_size_, DataPageSeed(id)) != e.checksum) {
      bad_pages_.insert(id);
      Problem("checksum", id, kNoPage,
              "checksum mismatch: page " + Num(id) + " (slot " + Num(e.slot) + " of " +
                  tier_.name() + ")");
    }
  }

  // Reads the pages in runs of adjacent slots and verifies each checksum.
  void VerifyData(const std::vector<std::pair<PageId, TableEntry>>& data) {
    std::vector<uint8_t> buf(std::min(data.size(), kMaxRun) * page_size_);
    std::vector<uint8_t*> bufs;
    for (size_t i = 0; i < data.size();) {
      size_t end = i + 1;
      while (end < data.size() && end - i < kMaxRun &&
             data[end].second.slot == data[end - 1].second.slot + 1) {
        ++end;
      }
      bufs.clear();
      for (size_t j = i; j < end; ++j) bufs.push_back(buf.data() + (j - i) * page_size_);
      try {
        tier_.ReadRun(data[i].second.slot, static_cast<uint32_t>(end - i), bufs.data());
        for (size_t j = i; j < end; ++j) VerifyPage(data[j].first, data[j].second, bufs[j - i]);
      } catch (const Error&) {
        for (size_t j = i; j < end; ++j) {  // one by one, to name the page that fails
          try {
            tier_.Read(data[j].second.slot, bufs[j - i]);
            VerifyPage(data[j].first, data[j].second, bufs[j - i]);
          } catch (const Error& e) {
            bad_pages_.insert(data[j].first);
            Problem("io", data[j].first, kNoPage, "page " + Num(data[j].first) + ": " + e.what());
          }
        }
      }
      i = end;
    }
  }

  // ---- 3: collections -------------------------------------------------------------

  // Whether page id can be read as part of collection owner: in range, stored.
  bool Readable(PageId id, PageId owner, const std::string& what) {
    if (id == kNoPage || id >= page_count_) {
      Problem("page", kNoPage, owner,
              what + " is page " + Num(id) + ", outside the page ids 1.." + Num(page_count_ - 1));
      return false;
    }
    if (!stored_[id]) {
      if (Unmapped(id)) {  // reported with its table node
        ++report_.pages_lost;
        return false;
      }
      Problem("page", id, owner, what + " is page " + Num(id) + ", which has no stored bytes");
      return false;
    }
    if (bad_pages_.count(id)) {  // damaged: reported by the checksum walk
      ++report_.pages_lost;
      return false;
    }
    return true;
  }

  // Pins page id for collection owner and counts it as reached; an empty
  // guard when it cannot be read (reported) or was reached before.
  PageGuard Take(PageId id, PageId owner, const std::string& what) {
    const bool readable = Readable(id, owner, what);
    if (!readable && (id == kNoPage || id >= page_count_ || !stored_[id])) return {};
    if (reached_[id]) {
      Problem("page", id, owner, what + " is page " + Num(id) + ", which something else uses too");
      return {};
    }
    reached_[id] = true;  // a damaged page is still accounted for: its owner is known
    if (++report_.pages_reached % 256 == 0)
      Progress("structure", report_.pages_reached, report_.pages);
    if (!readable) return {};
    PageGuard g = Pin(id, owner, what);
    if (!g) ++report_.pages_lost;
    return g;
  }

  PageGuard Pin(PageId id, PageId owner, const std::string& what) {
    try {
      return space_.Read(id);
    } catch (const Error& e) {
      Problem(e.code() == ErrorCode::kCorruption ? "checksum" : "io", id, owner,
              what + " (page " + Num(id) + "): " + e.what());
      return {};
    }
  }

  void WalkCollections() {
    // The orphan list first, so that every member is known as one when visited.
    std::unordered_set<PageId> seen;
    PageId prev = kNoPage;
    for (PageId id = sb_.anchors.orphan_head; id != kNoPage;) {
      const std::string what = prev == kNoPage ? std::string("the orphan list's head")
                                               : "the orphan after collection " + Num(prev);
      if (!seen.insert(id).second) {
        Problem("orphan", id, id,
                "the orphan list loops: " + what + " is collection " + Num(id) + " again");
        break;
      }
      if (!Readable(id, id, what)) break;
      PageGuard g = Pin(id, id, what);
      if (!g) break;
      CollectionHeader h;
      std::memcpy(&h, g.data(), sizeof h);
      if (h.magic != CollectionHeader::kMagic) {
        Problem("orphan", id, kNoPage,
                what + " is page " + Num(id) + ", which is not a collection");
        break;
      }
      if (h.orphan_prev != prev) {
        Problem("orphan", id, id,
                "collection " + Num(id) + " on the orphan list links back to " +
                    Num(h.orphan_prev) + ", not to " + Num(prev));
      }
      Collection& c = collections_[id];
      c.on_orphan_list = true;
      ++report_.orphans;
      Queue(id);
      prev = id;
      id = h.orphan_next;
    }
    if (sb_.anchors.root_map != kNoPage) {
      Collection& c = collections_[sb_.anchors.root_map];
      ++c.refs;  // the anchor's own reference
      Queue(sb_.anchors.root_map);
      report_.root_map = true;
    }
    Drain();
    // Damage met on the way from the roots may hide collections: then what is
    // left unreached is not known to be a cycle's.
    const bool damaged_walk = !bad_pages_.empty() || !report_.ok();
    // Whatever is left unreached but looks like a collection header is one that
    // only a reference cycle keeps (or a leak, which the bookkeeping reports).
    for (PageId id = 1; id < page_count_; ++id) {
      if (!stored_[id] || reached_[id] || bad_pages_.count(id)) continue;
      PageGuard g = Pin(id, kNoPage, "unreached page");
      if (!g) continue;
      CollectionHeader h;
      std::memcpy(&h, g.data(), sizeof h);
      if (h.magic != CollectionHeader::kMagic || kinds_.Find(h.kind) == nullptr) continue;
      g.Release();
      scanning_ = true;  // whatever this one reaches is unreachable from the roots too
      const uint64_t before = report_.pages_reached;
      Queue(id);
      Drain();
      report_.cycle_pages += report_.pages_reached - before;
    }
    scanning_ = false;
    if (damaged_walk && report_.cycle_collections > 0) {
      report_.notes.push_back(Num(report_.cycle_collections) + " collections (" +
                              Num(report_.cycle_pages) +
                              " pages) are not reached from the roots: behind the damage above, "
                              "or kept only by a reference cycle");
      report_.cycle_collections = report_.cycle_pages = 0;
    }
    Progress("structure", report_.pages_reached, report_.pages);
  }

  void Queue(PageId id) { todo_.push_back(id); }

  void Drain() {
    while (!todo_.empty()) {
      const PageId id = todo_.front();
      todo_.pop_front();
      Collection& c = collections_[id];
      if (c.visited) continue;
      c.visited = true;
      Visit(id);
    }
  }

  void Visit(PageId id) {
    Collection& c = collections_[id];
    if (scanning_) c.unreachable = true;
    const std::string who = "collection " + Num(id);
    const std::string referred = c.first_referrer != kNoPage
                                     ? " (referenced from collection " + Num(c.first_referrer) + ")"
                                 : id == sb_.anchors.root_map ? " (the root map)"
                                                              : "";
    PageGuard g = Take(id, id, "the header of " + who + referred);
    if (!g) return;
    CollectionHeader h;
    std::memcpy(&h, g.data(), sizeof h);
    if (h.magic != CollectionHeader::kMagic) {
      Problem("header", id, id, "page " + Num(id) + referred + " is not a collection header");
      return;
    }
    // The root map is of its own kind; a collection found only by the scan
    // of unreached pages may be of any kind; any other is one a value may
    // refer to, and of the kind its first reference names.
    const bool is_root_map = id == sb_.anchors.root_map;
    std::vector<uint8_t> allowed;
    if (is_root_map) {
      allowed = {static_cast<uint8_t>(CollectionKind::kRootMap)};
    } else if (c.unreachable) {
      for (uint32_t k = 0; k < 256; ++k) {
        if (kinds_.Find(static_cast<uint8_t>(k))) allowed.push_back(static_cast<uint8_t>(k));
      }
    } else {
      allowed = referenceable_;
    }
    const KindHooks* kind = kinds_.Find(h.kind);
    if (kind == nullptr || std::find(allowed.begin(), allowed.end(), h.kind) == allowed.end()) {
      Problem("header", id, id,
              who + referred + " has " + (kind ? "kind " : "unknown kind ") + Num(h.kind) +
                  ", not " + KindNames(kinds_, allowed));
      return;
    }
    if (c.first_referrer != kNoPage && c.ref_kind != h.kind &&
        std::find(referenceable_.begin(), referenceable_.end(), c.ref_kind) !=
            referenceable_.end()) {
      Problem("header", id, id,
              who + referred + " has kind " + KindNames(kinds_, {h.kind}) +
                  ", but the reference names kind " + KindNames(kinds_, {c.ref_kind}));
    }
    c.valid = true;
    c.kind = h.kind;
    c.refcount = h.refcount;
    c.orphan_prev = h.orphan_prev;
    c.orphan_next = h.orphan_next;
    if (c.unreachable) ++report_.cycle_collections;
    if (h.kind == static_cast<uint8_t>(CollectionKind::kList)) ++report_.lists;
    ++report_.collections_by_kind[kind->name];
    current_ = id;
    KindCheck check(*this);
    const std::optional<uint64_t> entries = kind->verify(check, std::move(g));
    if (is_root_map && entries) report_.root_names = *entries;
  }

  // What a kind's verifier sees of the check (collection_check.h).
  class KindCheck : public CollectionCheck {
   public:
    explicit KindCheck(PrefixChecker& c) : c_(c) {}
    uint32_t page_size() const override { return c_.page_size_; }
    PageId collection() const override { return c_.current_; }
    Heap& heap() override { return c_.heap_; }
    PageGuard Take(PageId id, const std::string& what) override {
      return c_.Take(id, c_.current_, what);
    }
    void Problem(const char* kind, PageId page, std::string message) override {
      c_.Problem(kind, page, c_.current_, std::move(message));
    }
    std::optional<ValueView> Decode(std::string_view stored, PageId page,
                                    const std::string& where) override {
      return c_.DecodeValue(stored, page, where);
    }
    std::optional<std::string> Follow(const ValueView& v, PageId page,
                                      const std::string& where) override {
      return c_.FollowValue(v, page, where);
    }

   private:
    PrefixChecker& c_;
  };

  std::optional<ValueView> DecodeValue(std::string_view v, PageId page, const std::string& where) {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    ++report_.values;
    try {
      if (EncodedSize(p, v.size()) != v.size()) {
        Problem("value", page, current_, where + " does not fill its slot");
        return std::nullopt;
      }
      return Decode(p, v.size());
    } catch (const Error& e) {
      Problem("value", page, current_, where + " does not decode: " + e.what());
      return std::nullopt;
    }
  }

  std::optional<std::string> FollowValue(const ValueView& view, PageId page,
                                         const std::string& where) {
    const PageId owner = current_;
    std::optional<std::string> text;  // a str's bytes, when they are needed and known
    switch (view.kind) {
      case ValueView::Kind::kStr: text = std::string(view.data); break;
      case ValueView::Kind::kBlobStr:
      case ValueView::Kind::kBlobBytes:
      case ValueView::Kind::kBlobBigInt: {
        const bool want =
            view.kind == ValueView::Kind::kBlobStr && view.blob_length <= kMaxUtf8Check;
        std::string payload;
        if (Blob(view.blob_page, view.blob_length, owner, where, want ? &payload : nullptr) &&
            want) {
          text = std::move(payload);
        }
        break;
      }
      case ValueView::Kind::kRef: Reference(view, page, owner, where); break;
      case ValueView::Kind::kTuple:
      case ValueView::Kind::kBlobTuple: TupleElements(view, page, owner, where, 0); break;
      default: break;
    }
    if (text && !ValidUtf8(*text, Surrogates::kAllowed))
      Problem("value", page, owner, where + " is a str that is not UTF-8");
    return text;
  }

  // A stored reference: counted, its target queued, and refused when it
  // names the root map or a kind no value may refer to.
  void Reference(const ValueView& view, PageId page, PageId owner, const std::string& where) {
    Collection& target = collections_[view.ref_id];
    ++target.refs;
    if (target.first_referrer == kNoPage) {
      target.first_referrer = owner;
      target.ref_kind = static_cast<uint8_t>(view.ref_kind);
    }
    const KindHooks* kind = kinds_.Find(static_cast<uint8_t>(view.ref_kind));
    if (view.ref_id == sb_.anchors.root_map || kind == nullptr || !kind->referenceable) {
      Problem("value", page, owner,
              where + " refers to collection " + Num(view.ref_id) + " of kind " +
                  Num(static_cast<uint8_t>(view.ref_kind)) + ": only " + referenceable_names_ +
                  " can be referenced");
    }
    Queue(view.ref_id);
  }

  // The elements of a tuple (or of a tuple stored out of line): their blobs
  // are taken, their references counted, their strs checked, nested tuples
  // walked (to a bounded depth: a deeper one is reported).
  void TupleElements(const ValueView& tuple, PageId page, PageId owner, const std::string& where,
                     int depth) {
    if (depth > 64) {
      Problem("value", page, owner, where + " nests tuples deeper than 64");
      return;
    }
    std::string payload;
    ValueView t = tuple;
    if (tuple.kind == ValueView::Kind::kBlobTuple) {
      if (!Blob(tuple.blob_page, tuple.blob_length, owner, where, &payload)) return;
      try {
        const auto* q = reinterpret_cast<const uint8_t*>(payload.data());
        if (payload.empty() || payload[0] != static_cast<char>(ValueTag::kTuple) ||
            EncodedSize(q, payload.size()) != payload.size()) {
          Problem("value", page, owner, where + " is a tuple blob that does not hold one tuple");
          return;
        }
        t = Decode(q, payload.size());
      } catch (const Error& e) {
        Problem("value", page, owner, where + " is a tuple blob that does not decode: " + e.what());
        return;
      }
    }
    const auto* p = reinterpret_cast<const uint8_t*>(t.data.data());
    uint64_t n = 0;
    for (size_t pos = 0; pos < t.data.size(); ++n) {
      ValueView e;
      size_t len = 0;
      try {
        len = EncodedSize(p + pos, t.data.size() - pos);
        e = Decode(p + pos, len);
      } catch (const Error& err) {
        Problem("value", page, owner,
                where + ": element " + Num(n) + " of its tuple does not decode: " + err.what());
        return;
      }
      const std::string at = where + ", element " + Num(n) + " of its tuple";
      pos += len;
      switch (e.kind) {
        case ValueView::Kind::kStr:
          if (!ValidUtf8(e.data, Surrogates::kAllowed))
            Problem("value", page, owner, at + " is a str that is not UTF-8");
          break;
        case ValueView::Kind::kBlobStr:
        case ValueView::Kind::kBlobBytes:
        case ValueView::Kind::kBlobBigInt:
          Blob(e.blob_page, e.blob_length, owner, at, nullptr);
          break;
        case ValueView::Kind::kRef: Reference(e, page, owner, at); break;
        case ValueView::Kind::kTuple:
        case ValueView::Kind::kBlobTuple: TupleElements(e, page, owner, at, depth + 1); break;
        case ValueView::Kind::kAbsent:
          Problem("value", page, owner, at + " is the absent form, which no tuple holds");
          break;
        default: break;
      }
    }
    if (n != t.count)
      Problem("value", page, owner,
              where + " is a tuple of " + Num(n) + " elements that says " + Num(t.count));
  }

  // Walks a blob chain (taking its pages); appends the payload to out when
  // given. False when the chain is damaged (reported).
  bool Blob(PageId first, uint64_t length, PageId owner, const std::string& where,
            std::string* out) {
    const uint32_t chunk = page_size_ - Blobs::kLinkBytes;
    const uint64_t pages = Blobs::Pages(length, page_size_);
    if (pages > page_count_) {
      Problem("blob", kNoPage, owner,
              where + " is a blob of " + Num(length) + " bytes, more than the store holds");
      return false;
    }
    PageId id = first;
    uint64_t left = length;
    for (uint64_t k = 0; k < pages; ++k) {
      if (id == kNoPage) {
        Problem("blob", kNoPage, owner,
                where + ": its blob of " + Num(length) + " bytes ends after " + Num(k) + " of " +
                    Num(pages) + " pages");
        return false;
      }
      PageGuard g = Take(id, owner, "page " + Num(k) + " of the blob of " + where);
      if (!g) return false;
      const uint64_t n = std::min<uint64_t>(chunk, left);
      if (out) out->append(reinterpret_cast<const char*>(g.data()) + Blobs::kLinkBytes, n);
      left -= n;
      const PageId next = Field<uint64_t>(g.data(), 0);
      if (k + 1 == pages && next != kNoPage) {
        Problem("blob", id, owner,
                "the last page " + Num(id) + " of the blob of " + where + " links on to page " +
                    Num(next));
      }
      id = next;
    }
    return true;
  }

  // ---- 4: refcounts and the orphan list ----------------------------------------

  void CheckBookkeeping() {
    const bool complete = report_.pages_lost == 0;
    if (!complete) {
      report_.notes.push_back(Num(report_.pages_lost) +
                              " pages of collections could not be read: references in them and "
                              "pages under them are unknown, so refcounts are checked only for "
                              "excess and unreached pages are not reported as leaks");
    }
    std::vector<PageId> ids;
    ids.reserve(collections_.size());
    for (const auto& [id, c] : collections_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (PageId id : ids) {
      const Collection& c = collections_[id];
      if (!c.valid) continue;
      const std::string who = "collection " + Num(id);
      // With pages lost, references in them were not counted: only more
      // references than the count is then certainly wrong.
      if (c.refcount != c.refs && (complete || c.refs > c.refcount)) {
        Problem("refcount", id, id,
                who + " has refcount " + Num(c.refcount) + " but " + Num(c.refs) +
                    (c.refs == 1 ? " reference to it was" : " references to it were") + " found");
      }
      if (c.on_orphan_list && c.refcount != 0) {
        Problem("orphan", id, id,
                who + " is on the orphan list but has refcount " + Num(c.refcount));
      }
      if (complete && !c.on_orphan_list && c.refcount == 0 && c.refs == 0) {
        Problem("orphan", id, id,
                who + " has no references and is not on the orphan list (it would never be freed)");
      }
      if (!c.on_orphan_list && (c.orphan_prev != kNoPage || c.orphan_next != kNoPage)) {
        Problem("orphan", id, id,
                who + " is not on the orphan list but has orphan links (" + Num(c.orphan_prev) +
                    ", " + Num(c.orphan_next) + ")");
      }
    }
  }

  // ---- 5: pages nothing reaches ---------------------------------------------------

  void ReportLeaks() {
    if (report_.pages_lost != 0) return;
    for (PageId id = 1; id < page_count_;) {
      if (!stored_[id] || reached_[id]) {
        ++id;
        continue;
      }
      PageId end = id;
      while (end < page_count_ && stored_[end] && !reached_[end]) ++end;
      const uint64_t n = end - id;
      Problem("leak", id, kNoPage,
              n == 1 ? "page " + Num(id) + " is stored but no collection reaches it"
                     : "pages " + Num(id) + ".." + Num(end - 1) + " (" + Num(n) +
                           ") are stored but no collection reaches them");
      id = end;
    }
  }

  const KindRegistry& kinds_;
  std::vector<uint8_t> referenceable_;  // kinds a value may refer to
  std::string referenceable_names_;     // "lists", for messages
  Volume& volume_;
  Heap& heap_;  // for verifiers that read through their kind's code (reads only)
  PageSpace& space_;
  Tier& tier_;
  const CheckOptions& options_;
  const CheckProgressFn& progress_;
  const Superblock sb_;
  const uint32_t page_size_;
  const uint32_t per_node_;
  uint64_t page_count_ = 1;
  CheckReport report_;

  std::vector<bool> stored_;   // by page id: the table gives it a slot
  std::vector<bool> reached_;  // by page id: a collection uses it
  std::vector<bool> slots_;    // by slot: something uses it
  std::unordered_map<SlotId, std::vector<std::string>> shared_slots_;
  std::unordered_set<PageId> bad_pages_;             // failed their checksum or read
  std::vector<std::pair<PageId, PageId>> unmapped_;  // [first, end) under unreadable table nodes
  std::unordered_map<PageId, Collection> collections_;
  std::deque<PageId> todo_;
  // The collection being walked.
  PageId current_ = kNoPage;
  bool scanning_ = false;  // walking collections found by the scan of unreached pages
};

// The store root a pagefs mount serves, from its .stats ("" if unknown).
std::string MountedStoreRoot(const std::string& mount) {
  int fd = ::open((mount + "/.stats").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[4096];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  ::close(fd);
  if (n <= 0) return "";
  const std::string text(buf, static_cast<size_t>(n));
  const std::string key = "\"root\": \"";
  size_t at = text.find(key);
  if (at == std::string::npos) return "";
  std::string root;
  for (size_t i = at + key.size(); i < text.size() && text[i] != '"'; ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) ++i;
    root += text[i];
  }
  return root;
}

void RefuseMount(const std::string& root) {
  if (!IsPagefsMount(root)) return;
  const std::string store = MountedStoreRoot(root);
  throw Error(ErrorCode::kInvalidArgument,
              root +
                  " is a pagefs mount: the check reads the segment files, so run it on the "
                  "store's root folder" +
                  (store.empty() ? std::string() : " (" + store + ")") +
                  "; that is safe while the mount runs");
}

}  // namespace

CheckReport CheckPrefix(const std::string& root, const std::string& prefix,
                        const CheckOptions& options, const CheckProgressFn& progress) {
  ValidatePrefix(prefix);
  RefuseMount(root);
  StoreOptions so;
  so.read_only = true;
  so.cache_size = options.cache_size;
  so.kinds = options.kinds;
  so.remote = options.remote;
  so.local_cache_size = options.local_cache_size;
  std::shared_ptr<Store> store;
  try {
    store = Store::Open(root, prefix, so);
  } catch (const Error& e) {
    // Stored bytes that keep the prefix from opening are what a check
    // reports; so are segment files without a store in them.
    const bool damaged = e.code() == ErrorCode::kCorruption ||
                         (e.code() == ErrorCode::kNotFound && IsStoreFolder(root + "/" + prefix));
    if (!damaged) throw;
    CheckReport report;
    report.prefix = prefix;
    report.problems.push_back(
        {"open", kNoPage, kNoPage,
         e.code() == ErrorCode::kCorruption
             ? std::string(e.what())
             : "prefix '" + prefix + "' of " + root +
                   " holds segment files but no valid superblock (segment-00000.pfs holds them): "
                   "the store is damaged"});
    return report;
  }
  // A read-only store reads one commit; should it ever move to a newer one
  // during the walk, the walk is repeated on that one.
  for (int attempt = 0;; ++attempt) {
    CheckReport report = PrefixChecker(*store, options, progress).Run();
    if (store->volume().committed().epoch == report.epoch || attempt == 2) {
      store->Close();
      return report;
    }
  }
}

std::vector<std::string> FindPrefixes(const std::string& root) {
  RefuseMount(root);
  return ListStoreFolders(root);
}

}  // namespace pagefs
