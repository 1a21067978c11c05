#include "pager/remote_gc.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>

#include "pager/env/remote_lease.h"
#include "pager/tier/remote/remote_objects.h"
#include "pager/tier/remote/remote_tier.h"
#include "pager/util/error.h"
#include "pager/volume/page_table.h"
#include "pager/volume/superblock.h"

namespace pagefs {

namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t Ms(std::chrono::seconds s) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(s).count();
}

// One run: the listing, the head, the commits read, the report.
class Collector {
 public:
  Collector(S3Client& client, const GcOptions& options, const GcProgressFn& progress,
            const GcWriter* writer)
      : client_(client),
        options_(options),
        progress_(progress),
        writer_(writer),
        now_ms_(options.now_ms != 0 ? options.now_ms : WallMs()),
        min_age_(options.min_age) {
    const S3Config& c = client_.config();
    report_.store = "s3://" + c.location.bucket + "/" + c.location.prefix + " (" + c.endpoint + ")";
    report_.dry_run = options.dry_run;
  }

  GcReport Run() {
    // The lease first: no writer can then publish while we list and compact.
    std::unique_ptr<RemoteLease> lease;
    if (options_.compact && !options_.dry_run) {
      // A LIST first: a missing bucket is then FileNotFoundError naming it,
      // not created by the lease's PUT (as SeaweedFS does for a PUT).
      (void)client_.List(kRemoteHeadObject);
      lease = TakeLease();
    } else if (std::optional<LeaseState> live = ReadLease(client_);
               live && live->expires_ms > now_ms_ && min_age_ < kLiveWriterMinAge) {
      if (writer_ != nullptr && live->holder == LeaseHolderName()) {
        // Our own lease: no other writer can upload anything meanwhile.
      } else {
        min_age_ = kLiveWriterMinAge;
        report_.notes.push_back(
            (writer_ != nullptr ? "the lease is not this writer's but " + live->holder + "'s"
                                : "a writer is live (" + live->holder + ")") +
            ": nothing younger than " + std::to_string(kLiveWriterMinAge.count() / 60) +
            " minutes is deleted, whatever min_age says");
      }
    } else if (writer_ != nullptr && min_age_ < kLiveWriterMinAge) {
      min_age_ = kLiveWriterMinAge;
      report_.notes.push_back(
          "this writer's lease has expired (another writer may take it): nothing younger than " +
          std::to_string(kLiveWriterMinAge.count() / 60) + " minutes is deleted");
    }
    List();
    if (!ReadHead()) {
      RefuseLostHead();
      report_.notes.push_back("no head: the prefix holds no committed store");
    } else if (options_.compact) {
      Compact();
    }
    Collect();
    return report_;
  }

 private:
  void Progress(const char* phase, uint64_t done, uint64_t total) {
    if (progress_) progress_({phase, done, total});
  }

  std::unique_ptr<RemoteLease> TakeLease() {
    try {
      return std::make_unique<RemoteLease>(client_, "pagefs gc on " + LeaseHolderName(),
                                           options_.lease_duration, report_.store);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kBusy) throw;
      throw Error(ErrorCode::kBusy,
                  std::string(e.what()) +
                      "; compaction needs the writer's lease (the garbage step alone runs beside "
                      "a writer: compact=False, pagefs gc --no-compact)");
    }
  }

  void List() {
    for (ObjectInfo& o : client_.List("")) {
      report_.objects += 1;
      report_.bytes += o.size;
      if (ParseRemoteSegmentName(o.name)) {
        segments_.emplace(*ParseRemoteSegmentName(o.name), o);
      } else if (ParseRemoteCommitName(o.name)) {
        commits_.emplace(o.name, o);
      } else if (o.name != kRemoteHeadObject && o.name != RemoteLease::kObject) {
        report_.other_objects += 1;
      }
    }
    Progress("list", report_.objects, report_.objects);
  }

  // No head, but a commit after the format's (IsCommitAfterFormat): the head
  // was lost, and collecting would delete the whole store.
  void RefuseLostHead() const {
    for (auto it = commits_.rbegin(); it != commits_.rend(); ++it) {
      if (!IsCommitAfterFormat(it->first)) continue;
      throw Error(ErrorCode::kCorruption, LostHeadMessage(client_.Describe(kRemoteHeadObject),
                                                          client_.Describe(it->first)) +
                                              "; gc deletes nothing (restore the head object)");
    }
  }

  // Reads the head and its commit; false without a head.
  bool ReadHead() {
    // Compaction's tier reads the head again, for the etag its If-Match uses.
    std::string bytes;
    try {
      bytes = client_.Get(kRemoteHeadObject);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kNotFound) return false;
      throw;
    }
    head_ = DecodeRemoteHead(bytes, client_.Describe(kRemoteHeadObject));
    const RemoteCommit* c = Commit(head_.commit);
    if (c == nullptr) {
      throw Error(ErrorCode::kNotFound, client_.Describe(kRemoteHeadObject) + " names " +
                                            client_.Describe(head_.commit) +
                                            ", which is missing: the store is damaged");
    }
    if (c->epoch != head_.epoch) {
      throw Error(ErrorCode::kCorruption, client_.Describe(head_.commit) +
                                              " does not hold the commit " +
                                              client_.Describe(kRemoteHeadObject) + " names");
    }
    report_.head_epoch = head_.epoch;
    report_.head_commit = head_.commit;
    return true;
  }

  // The commit object name, read once; nullptr when it does not exist.
  const RemoteCommit* Commit(const std::string& name) {
    auto it = read_.find(name);
    if (it != read_.end()) return &it->second;
    std::string bytes;
    try {
      bytes = client_.Get(name);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kNotFound) return nullptr;
      throw;
    }
    return &read_.emplace(name, DecodeRemoteCommit(bytes, client_.Describe(name))).first->second;
  }

  // The slots the head's page table reaches (its nodes and pages), read
  // through tier (which holds the head): a writer's slot map also keeps
  // freed slots until a writer opens again, and those are not worth copying.
  std::set<SlotId> LiveSlots(RemoteTier& tier, const RemoteCommit& head, const Superblock& sb) {
    std::set<SlotId> live;
    if (sb.table_height == 0) return live;
    PageTable table(tier, head.slot_size, client_.Describe(head_.commit));
    table.Open({sb.table_height, {sb.table_root_slot, sb.table_root_checksum}});
    table.Walk([&](SlotId s) { live.insert(s); },
               [&](PageId, const TableEntry& e) {
                 if (e.slot != 0) live.insert(e.slot);
               });
    return live;
  }

  void Compact() {
    const RemoteCommit head = *Commit(head_.commit);
    std::optional<Superblock> sb =
        head.record.size() >= 2 * kSuperblockCopySize
            ? DecodeSuperblockSlot(reinterpret_cast<const uint8_t*>(head.record.data()))
            : std::nullopt;
    if (!sb || sb->epoch != head.epoch) {
      throw Error(ErrorCode::kCorruption, "no valid superblock of epoch " +
                                              std::to_string(head.epoch) + " in " +
                                              client_.Describe(head_.commit));
    }
    // A tier on the head, as its next writer: it reads the table, takes the
    // moved frames and publishes the new commit (If-Match on the head it
    // loaded), and its Sync stores the slot map's chunks.
    RemoteTier tier(client_, head.slot_size);
    std::optional<std::string> record = tier.LoadCommit();
    if (!record || *record != head.record) {
      throw Error(ErrorCode::kBusy, client_.Describe(kRemoteHeadObject) +
                                        " was moved by another writer during compaction");
    }
    const std::set<SlotId> live_slots = LiveSlots(tier, head, *sb);
    // Live bytes of each segment the head references, against its object's size.
    std::map<uint64_t, std::vector<std::pair<SlotId, FrameLocation>>> frames;
    std::vector<SlotId> dead;
    for (const auto& [slot, loc] : tier.StoredSlots()) {
      if (live_slots.count(slot) == 0) {
        dead.push_back(slot);
      } else {
        frames[loc.segment].emplace_back(slot, loc);
      }
    }
    std::vector<uint64_t> sparse;
    uint64_t live_total = 0;
    for (auto& [segment, list] : frames) {
      auto it = segments_.find(segment);
      if (it == segments_.end() || it->second.size <= sizeof kRemoteSegmentMagic) continue;
      uint64_t live = 0;
      for (const auto& f : list) live += f.second.length;
      const double share = static_cast<double>(live) /
                           static_cast<double>(it->second.size - sizeof kRemoteSegmentMagic);
      if (share < options_.compact_below) {
        sparse.push_back(segment);
        live_total += live;
        report_.bytes_compacted += it->second.size;
      }
      std::sort(list.begin(), list.end(),
                [](const auto& a, const auto& b) { return a.second.offset < b.second.offset; });
    }
    report_.segments_compacted = sparse.size();
    if (sparse.empty()) return;
    if (options_.dry_run) {
      report_.segments_written =
          (live_total + RemoteTier::kSegmentTarget - 1) / RemoteTier::kSegmentTarget;
      report_.bytes_written = live_total + report_.segments_written * sizeof kRemoteSegmentMagic;
      return;
    }
    const uint64_t session = std::random_device{}();
    uint32_t sequence = 0;
    std::string out(kRemoteSegmentMagic, sizeof kRemoteSegmentMagic);
    uint64_t out_id = 0;
    std::vector<std::pair<SlotId, FrameLocation>> moved;
    auto flush = [&] {
      if (out.size() == sizeof kRemoteSegmentMagic) return;
      const std::string name = RemoteSegmentName(out_id);
      if (!client_.Put(name, out, PutCondition::kIfAbsent).written) {
        throw Error(ErrorCode::kBusy, "segment " + client_.Describe(name) +
                                          " already exists: another writer uses this prefix");
      }
      report_.segments_written += 1;
      report_.bytes_written += out.size();
      out.assign(kRemoteSegmentMagic, sizeof kRemoteSegmentMagic);
    };
    for (size_t i = 0; i < sparse.size(); ++i) {
      Progress("compact", i, sparse.size());
      const std::string name = RemoteSegmentName(sparse[i]);
      const std::string object = client_.Get(name);
      for (const auto& [slot, loc] : frames[sparse[i]]) {
        const std::string where = "slot " + std::to_string(slot) + " in " + client_.Describe(name) +
                                  " at byte " + std::to_string(loc.offset);
        if (uint64_t{loc.offset} + loc.length > object.size() ||
            FrameChecksum(slot, object.data() + loc.offset, loc.length) != loc.checksum) {
          throw Error(ErrorCode::kCorruption,
                      "checksum mismatch in " + where + ": compaction stopped, nothing published");
        }
        if (out.size() == sizeof kRemoteSegmentMagic) out_id = (session << 32) | sequence++;
        moved.emplace_back(slot, FrameLocation{out_id, static_cast<uint32_t>(out.size()),
                                               loc.length, loc.checksum});
        out.append(object, loc.offset, loc.length);
        if (out.size() >= RemoteTier::kSegmentTarget) flush();
      }
    }
    flush();
    Progress("compact", sparse.size(), sparse.size());
    // The live slots at their new places, the freed ones dropped, and every
    // chunk of the map stored anew (none is left on a segment that goes).
    for (SlotId slot : dead) tier.Discard(slot);
    for (const auto& [slot, loc] : moved) tier.Relocate(slot, loc);
    tier.RewriteSlotMap();
    const S3ClientStats before = client_.stats();
    tier.Sync();
    report_.bytes_written += client_.stats().bytes_sent - before.bytes_sent;
    // The same pages under the next epoch, so readers following the head
    // move to the new segments (and off the old ones before they go).
    sb->epoch = head.epoch + 1;
    std::vector<uint8_t> next_record(head.record.size());
    EncodeSuperblock(*sb, next_record);
    std::string commit_name;
    try {
      commit_name = tier.PublishCommit(
          sb->epoch,
          std::string_view(reinterpret_cast<const char*>(next_record.data()), next_record.size()));
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kBusy) throw;
      throw Error(ErrorCode::kBusy, client_.Describe(kRemoteHeadObject) +
                                        " was moved by another writer during compaction; "
                                        "its commit was not published");
    }
    const RemoteHead now{sb->epoch, commit_name};
    report_.segments_written += tier.remote_stats().segments_uploaded;
    head_ = now;
    report_.head_epoch = now.epoch;
    report_.head_commit = now.commit;
    report_.compaction_commit = commit_name;
  }

  // Which commits are kept: the head, those written within the retention,
  // and the one that was the head when the retention began.
  std::set<std::string> KeptCommits() const {
    std::set<std::string> kept;
    if (!head_.commit.empty()) kept.insert(head_.commit);
    if (!report_.compaction_commit.empty()) kept.insert(report_.compaction_commit);
    const int64_t cutoff = now_ms_ - Ms(options_.retention);
    std::optional<uint64_t> head_at_cutoff;
    for (const auto& [name, info] : commits_) {
      const uint64_t epoch = *ParseRemoteCommitName(name);
      if (info.last_modified_ms >= cutoff) {
        kept.insert(name);
      } else if (!head_.commit.empty() && epoch <= head_.epoch) {
        head_at_cutoff = std::max(head_at_cutoff.value_or(0), epoch);
      }
    }
    for (const auto& [name, info] : commits_) {
      if (head_at_cutoff && info.last_modified_ms < cutoff &&
          *ParseRemoteCommitName(name) == *head_at_cutoff) {
        kept.insert(name);  // a failed sibling of the same epoch is kept too: harmless
      }
    }
    return kept;
  }

  bool Young(const ObjectInfo& o) const {
    return o.last_modified_ms == 0 || o.last_modified_ms > now_ms_ - Ms(min_age_);
  }

  void Collect() {
    const std::set<std::string> kept = KeptCommits();
    std::set<uint64_t> referenced;
    uint64_t done = 0;
    for (const std::string& name : kept) {
      Progress("read", done++, kept.size());
      const RemoteCommit* c = Commit(name);
      if (c == nullptr) continue;  // deleted meanwhile by another gc: it was not kept there
      report_.commits_kept += 1;
      for (const auto& [segment, frames] : c->map.segments) referenced.insert(segment);
    }
    if (writer_ != nullptr) referenced.insert(writer_->segments.begin(), writer_->segments.end());
    Progress("read", kept.size(), kept.size());
    std::vector<const ObjectInfo*> doomed;
    for (const auto& [name, info] : commits_) {
      if (kept.count(name) != 0) continue;
      if (Young(info)) {
        report_.objects_too_young += 1;
        report_.bytes_too_young += info.size;
      } else {
        doomed.push_back(&info);
        report_.commits_deleted += 1;
      }
    }
    // Commit objects before segments: a commit object left has all its segments.
    for (const auto& [segment, info] : segments_) {
      if (referenced.count(segment) != 0) {
        report_.segments_kept += 1;
      } else if (Young(info)) {
        report_.objects_too_young += 1;
        report_.bytes_too_young += info.size;
      } else {
        doomed.push_back(&info);
        report_.segments_deleted += 1;
      }
    }
    // Commit objects first, in requests of their own answered before the
    // segments' are sent: a commit object left has all its segments.
    std::vector<std::string> commits, segments;
    for (const ObjectInfo* o : doomed) {
      (ParseRemoteCommitName(o->name) ? commits : segments).push_back(o->name);
      report_.objects_deleted += 1;
      report_.bytes_deleted += o->size;
    }
    const size_t total = doomed.size();
    Progress("delete", 0, total);
    if (!options_.dry_run) {
      report_.delete_requests +=
          client_.DeleteMany(commits, S3Client::kMaxDeleteBatch,
                             [&](size_t done) { Progress("delete", done, total); });
      report_.delete_requests += client_.DeleteMany(
          segments, S3Client::kMaxDeleteBatch,
          [&](size_t done) { Progress("delete", commits.size() + done, total); });
    }
    Progress("delete", total, total);
  }

  S3Client& client_;
  const GcOptions& options_;
  const GcProgressFn& progress_;
  const GcWriter* const writer_;  // the store's own writer runs it; nullptr: another process
  const int64_t now_ms_;
  std::chrono::seconds min_age_;  // options.min_age, or more beside a live writer
  GcReport report_;
  std::map<uint64_t, ObjectInfo> segments_;
  std::map<std::string, ObjectInfo> commits_;
  std::map<std::string, RemoteCommit> read_;
  RemoteHead head_;
};

}  // namespace

GcReport CollectRemoteGarbage(S3Client& client, const GcOptions& options,
                              const GcProgressFn& progress, const GcWriter* writer) {
  if (writer != nullptr && options.compact) {
    throw Error(ErrorCode::kInvalidArgument,
                "compaction cannot run from a live writer: it rewrites segments under a commit of "
                "its own, which must not race the writer's commits; run gc with compact=False "
                "here, or close the store and run pagefs gc (or pagefs.gc(url, prefix))");
  }
  if (!(options.compact_below >= 0.0 && options.compact_below <= 1.0)) {
    throw Error(ErrorCode::kInvalidArgument, "compaction threshold " +
                                                 std::to_string(options.compact_below) +
                                                 " is not a share between 0 and 1");
  }
  return Collector(client, options, progress, writer).Run();
}

GcReport CollectRemoteGarbage(const std::string& url, const std::string& store_prefix,
                              const GcOptions& options, const GcProgressFn& progress) {
  if (store_prefix.empty() || store_prefix.find('/') != std::string::npos) {
    throw Error(ErrorCode::kInvalidArgument,
                "invalid store prefix '" + store_prefix + "': expected one name without '/'");
  }
  S3Config config = S3ConfigFor(url);
  std::string& prefix = config.location.prefix;
  prefix = prefix.empty() ? store_prefix : prefix + "/" + store_prefix;
  std::unique_ptr<S3Client> client = S3Client::Connect(config);
  GcOptions with_lease = options;
  with_lease.lease_duration = LeaseDurationFrom(ProcessEnv);
  return CollectRemoteGarbage(*client, with_lease, progress);
}

}  // namespace pagefs
