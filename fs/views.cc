#include "fs/views.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "pager/volume/superblock.h"
#include "pager/volume/volume.h"

namespace pagefs::fs {

namespace {

// A minimal JSON writer: objects of numbers, strings, booleans and objects.
class Json {
 public:
  Json& Begin(const char* key = nullptr) {
    Key(key);
    out_ += '{';
    first_ = true;
    return *this;
  }
  Json& End() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  Json& Num(const char* key, uint64_t v) {
    Key(key);
    out_ += std::to_string(v);
    return *this;
  }
  Json& Bool(const char* key, bool v) {
    Key(key);
    out_ += v ? "true" : "false";
    return *this;
  }
  // A ratio, or null when nothing was counted.
  Json& Ratio(const char* key, uint64_t part, uint64_t whole) {
    Key(key);
    if (whole == 0) {
      out_ += "null";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4f",
                    static_cast<double>(part) / static_cast<double>(whole));
      out_ += buf;
    }
    return *this;
  }
  Json& Str(const char* key, const std::string& v) {
    Key(key);
    Quote(v);
    return *this;
  }
  std::string Finish() { return out_ + "\n"; }

 private:
  void Key(const char* key) {
    if (!first_) out_ += ", ";
    first_ = false;
    if (key != nullptr) {
      Quote(key);
      out_ += ": ";
    }
  }
  void Quote(const std::string& s) {
    out_ += '"';
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += static_cast<char>(c);
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out_ += buf;
      } else {
        out_ += static_cast<char>(c);
      }
    }
    out_ += '"';
  }

  std::string out_;
  bool first_ = true;
};

// The three tiers of a remote store (StoreOptions::remote): the memory
// cache, the local cache of fetched pages, the bucket.
void RenderRemoteTiers(Json& j, const StoreStats& s) {
  j.Begin("memory");
  j.Num("budget", s.cache_budget).Num("resident", s.resident_bytes);
  j.Num("page_bytes", s.page_bytes).Num("index_bytes", s.remote_index_bytes);
  j.Num("hits", s.hits).Num("misses", s.misses).Ratio("hit_ratio", s.hits, s.hits + s.misses);
  j.End();
  j.Begin("local");
  j.Num("capacity", s.local_capacity).Num("bytes", s.local_bytes);
  j.Num("pending_bytes", s.pending_bytes);
  j.Num("hits", s.local_hits).Num("misses", s.local_misses);
  j.Ratio("hit_ratio", s.local_hits, s.local_hits + s.local_misses);
  j.Num("evictions", s.local_evictions).Num("bad_blocks", s.local_bad_blocks);
  j.Num("readahead_frames", s.readahead_frames).Num("readahead_hits", s.readahead_hits);
  j.Num("readahead_unused", s.readahead_unused);
  j.End();
  j.Begin("remote");
  j.Num("gets", s.remote_gets).Num("puts", s.remote_puts);
  j.Num("heads", s.remote_heads).Num("lists", s.remote_lists);
  j.Num("retries", s.remote_retries);
  j.Num("bytes_received", s.remote_bytes_received).Num("bytes_sent", s.remote_bytes_sent);
  j.Num("bytes_stored", s.remote_bytes_stored);
  j.End();
}

}  // namespace

std::string RenderStats(Mount& mount) {
  StoreStats total;
  std::vector<StoreStats> each;
  for (uint32_t i = 0; i < mount.prefix_count(); ++i) {
    StoreStats s = mount.prefix(i)->store->stats();
    total.resident_bytes += s.resident_bytes;
    total.hits += s.hits;
    total.misses += s.misses;
    total.evictions += s.evictions;
    total.dirty_pages += s.dirty_pages;
    total.pinned_pages += s.pinned_pages;
    total.pages += s.pages;
    total.bytes_on_disk += s.bytes_on_disk;
    total.tier_reads += s.tier_reads;
    total.tier_writes += s.tier_writes;
    total.remote = total.remote || s.remote;
    total.local_capacity += s.local_capacity;
    total.local_bytes += s.local_bytes;
    total.local_hits += s.local_hits;
    total.local_misses += s.local_misses;
    total.local_evictions += s.local_evictions;
    total.local_bad_blocks += s.local_bad_blocks;
    total.readahead_frames += s.readahead_frames;
    total.readahead_hits += s.readahead_hits;
    total.readahead_unused += s.readahead_unused;
    total.pending_bytes += s.pending_bytes;
    total.remote_index_bytes += s.remote_index_bytes;
    total.page_bytes += s.page_bytes;
    total.remote_gets += s.remote_gets;
    total.remote_puts += s.remote_puts;
    total.remote_heads += s.remote_heads;
    total.remote_lists += s.remote_lists;
    total.remote_retries += s.remote_retries;
    total.remote_bytes_received += s.remote_bytes_received;
    total.remote_bytes_sent += s.remote_bytes_sent;
    total.remote_bytes_stored += s.remote_bytes_stored;
    each.push_back(s);
  }
  Json j;
  j.Begin();
  j.Str("fs", "pagefs");  // what pagefs::IsPagefsMount looks for
  j.Num("pid", static_cast<uint64_t>(::getpid()));
  j.Str("root", mount.options().root);
  j.Bool("read_only", mount.read_only());
  j.Num("budget", mount.cache_size());
  j.Num("resident", total.resident_bytes);
  // The budget's two parts: the daemon's pools (resident above, within
  // pool_budget) and what the kernel may hold of data, pages/ and committed
  // (an upper bound: pages served since they were last invalidated).
  j.Num("pool_budget", mount.pool_budget());
  const KernelCacheStats k = mount.kernel_cache_stats();
  j.Begin("kernel_cache");
  j.Num("bytes", k.bytes).Num("limit", k.limit).Num("files", k.files);
  j.Num("evictions", k.evictions).Num("evicted_bytes", k.evicted_bytes);
  j.Num("invalidated_bytes", k.invalidated_bytes).Num("served_bytes", k.served_bytes);
  j.Num("served_reads", k.served_reads);
  // Ranges evicted or changed, not yet dropped: the kernel may hold them beyond bytes.
  j.Num("pending_bytes", mount.notifier().backlog_bytes());
  j.End();
  j.Num("hits", total.hits);
  j.Num("misses", total.misses);
  j.Num("evictions", total.evictions);
  j.Num("dirty_pages", total.dirty_pages);
  j.Num("pinned_pages", total.pinned_pages);
  j.Begin("tiers");
  if (total.remote) {
    RenderRemoteTiers(j, total);
  } else {
    j.Begin("segments");
    j.Num("reads", total.tier_reads).Num("writes", total.tier_writes);
    j.Num("bytes_on_disk", total.bytes_on_disk);
    j.End();
  }
  j.End();
  j.Begin("prefixes");
  for (uint32_t i = 0; i < mount.prefix_count(); ++i) {
    const StoreStats& s = each[i];
    j.Begin(mount.prefix(i)->name.c_str());
    j.Num("budget", s.cache_budget);
    j.Num("resident", s.resident_bytes);
    j.Num("hits", s.hits);
    j.Num("misses", s.misses);
    j.Num("evictions", s.evictions);
    j.Num("dirty_pages", s.dirty_pages);
    j.Num("pinned_pages", s.pinned_pages);
    j.Num("pages", s.pages);
    j.Num("page_size", s.page_size);
    j.Num("epoch", s.epoch);
    // Open committed files and embedded read-only processes (docs/readers.md).
    j.Begin("readers").Num("live", s.readers);
    if (s.has_oldest_reader) j.Num("oldest_epoch", s.oldest_reader_epoch);
    j.Num("held_slots", s.held_slots).End();
    j.Begin("tiers");
    if (s.remote) {
      RenderRemoteTiers(j, s);
    } else {
      j.Begin("segments");
      j.Num("reads", s.tier_reads).Num("writes", s.tier_writes);
      j.Num("bytes_on_disk", s.bytes_on_disk);
      j.End();
    }
    j.End();
    j.End();
  }
  j.End();
  j.End();
  return j.Finish();
}

std::string RenderInfo(PrefixView& prefix) {
  std::string writer;
  {
    SharedLock lock(prefix.role_mu);
    writer = prefix.writer_name;  // "" when no client writes
  }
  // A rollback replaces the Volume: read it under the op lock (after the
  // role lock is let go, the order changes take them in).
  std::shared_lock<std::shared_mutex> op(prefix.store->heap().op_lock());
  Volume& volume = prefix.store->volume();
  Superblock sb = volume.committed();
  char magic[9] = {0};
  std::memcpy(magic, &sb.magic, 8);
  Json j;
  j.Begin();
  j.Str("prefix", prefix.name);
  j.Num("page_size", volume.page_size());
  j.Num("page_count", volume.page_count());
  j.Num("committed_page_count", sb.page_count);
  j.Num("pages_in_use", volume.pages_in_use());
  j.Num("data_bytes", volume.page_count() * volume.page_size());
  j.Num("epoch", sb.epoch);
  j.Bool("read_only", volume.read_only());
  j.Bool("failed", volume.failed());
  j.Str("writer", writer);
  j.Begin("superblock");
  j.Str("magic", magic);
  j.Num("format_version", sb.format_version);
  j.Num("page_size", sb.page_size);
  j.Num("slots_per_segment", sb.slots_per_segment);
  j.Num("epoch", sb.epoch);
  j.Num("table_height", sb.table_height);
  j.Num("table_root_slot", sb.table_root_slot);
  j.Num("table_root_checksum", sb.table_root_checksum);
  j.Begin("anchors").Num("root_map", sb.anchors.root_map);
  j.Num("orphan_head", sb.anchors.orphan_head).End();
  j.End();
  j.End();
  return j.Finish();
}

const char* ControlHelp() {
  return "# write one command per line: cache_size=SIZE (64M, 1.5G, ...), commit, flush\n";
}

}  // namespace pagefs::fs
