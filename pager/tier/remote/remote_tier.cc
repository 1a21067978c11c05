#include "pager/tier/remote/remote_tier.h"

#include <zstd.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <random>
#include <thread>
#include <utility>

#include "pager/util/background_thread.h"
#include "pager/util/error.h"

namespace pagefs {

namespace {

constexpr int kZstdLevel = 3;
constexpr const char* kHead = kRemoteHeadObject;

// One decompression context per thread, made once: ZSTD_decompress makes and
// frees one per call, which cost more than decoding a 4 KiB frame (a cold
// scan spent a third of its time there).
struct FreeDecompressor {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};
struct FreeCompressor {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

ZSTD_DCtx* ThreadDecompressor() {
  thread_local std::unique_ptr<ZSTD_DCtx, FreeDecompressor> ctx(ZSTD_createDCtx());
  if (ctx == nullptr) throw std::bad_alloc();
  return ctx.get();
}

// A commit's buffers (segments of 4 MiB, a commit object of 32 bytes per
// slot, on the upload threads' arenas) go back to the system once it is
// published: malloc keeps what is freed below the top of a heap, and a
// remote store otherwise held tens of MiB past its budget after a commit.
void ReturnFreedMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

}  // namespace

RemoteTier::RemoteTier(S3Client& client, uint32_t slot_size, const RemoteTierOptions& options)
    : client_(client),
      slot_size_(slot_size),
      session_(std::random_device{}()),
      filter_(options.filter),
      cache_(options.cache != nullptr && options.cache->page_size() == slot_size ? options.cache
                                                                                 : nullptr),
      slots_(slot_size),
      // Pages, decompressed, in the local cache: never more than an eighth of it.
      readahead_(MaxWindow(), cache_ == nullptr ? 1 : cache_->stats().capacity / 8 / slot_size) {
  slots_.set_loader([this](uint64_t chunk, const Location& frame, uint8_t* page) {
    LoadChunk(chunk, frame, page);
  });
  if (!options.read_only) {
    spill_ = std::make_unique<SpillFile>(
        options.spill_dir.empty() ? std::string(P_tmpdir) : options.spill_dir, slot_size);
  }
  // A window never takes more than an eighth of the local cache, so what is
  // fetched ahead is still there when the reader comes to it.
  if (cache_ != nullptr && MaxWindow() >= 4 * uint64_t{slot_size}) {
    fetches_ = std::make_unique<FetchQueue>(
        [this](const FetchQueue::Job& job) {
          for (const std::vector<Wanted>& run : Missing(job.frames)) FetchIntoCache(run, true);
        },
        2 * ReadaheadPolicy::kStreams, kReadaheadThreads);
  }
}

RemoteTier::~RemoteTier() { fetches_.reset(); }

uint64_t RemoteTier::MaxWindow() const {
  return cache_ == nullptr ? 0 : std::min<uint64_t>(kMaxWindow, cache_->stats().capacity / 8);
}

std::string RemoteTier::SegmentName(uint64_t segment) { return RemoteSegmentName(segment); }

std::string RemoteTier::name() const {
  return "remote:s3://" + client_.config().location.bucket + "/" + client_.config().location.prefix;
}

SlotId RemoteTier::size() const {
  SlotId b = spill_ ? spill_->end() : 0;
  MutexLock lock(mu_);
  SlotId a = slots_.end_slot();
  return std::max(a, b);
}

TierStats RemoteTier::stats() const {
  TierStats s;
  s.reads = reads_.load();
  s.writes = writes_.load();
  s.syncs = syncs_.load();
  MutexLock lock(mu_);
  s.bytes_on_disk = slots_.bytes() + slots_.chunk_bytes();  // every frame the map names
  return s;
}

uint64_t RemoteTier::memory_bytes() const {
  uint64_t bytes = (spill_ ? spill_->memory_bytes() : 0) + (cache_ ? cache_->memory_bytes() : 0);
  MutexLock lock(mu_);
  return bytes + slots_.memory_bytes();
}

RemoteTierStats RemoteTier::remote_stats() const {
  S3ClientStats c = client_.stats();
  RemoteTierStats s;
  s.gets = c.gets;
  s.puts = c.puts;
  s.bytes_received = c.bytes_received;
  s.bytes_sent = c.bytes_sent;
  s.segments_uploaded = segments_uploaded_.load();
  if (cache_ != nullptr) {
    const LocalPageCacheStats local = cache_->stats();
    s.readahead_frames = local.ahead;
    s.readahead_hits = local.ahead_hits;
    s.readahead_unused = local.ahead_unused;
  }
  s.pending_bytes = spill_ ? spill_->bytes() : 0;
  return s;
}

std::optional<std::string> RemoteTier::SegmentOf(SlotId slot) const {
  MutexLock lock(mu_);
  std::optional<Location> loc = slots_.Find(slot);
  if (!loc) return std::nullopt;
  return SegmentName(loc->segment);
}

std::vector<uint64_t> RemoteTier::Segments() const {
  MutexLock lock(mu_);
  return slots_.Segments();
}

void RemoteTier::Write(SlotId slot, const uint8_t* buf) {
  if (!spill_) throw Error(ErrorCode::kReadOnly, name() + " is open read-only");
  writes_.fetch_add(1);
  spill_->Put(slot, buf);
}

void RemoteTier::Discard(SlotId slot) {
  if (spill_) spill_->Erase(slot);
  MutexLock lock(mu_);
  slots_.Erase(slot);
}

void RemoteTier::DiscardRun(SlotId first, uint64_t n) {
  if (spill_) {
    for (const SpillFile::Pending& p : spill_->Slots()) {
      if (p.slot >= first && p.slot - first < n) spill_->Erase(p.slot);
    }
  }
  MutexLock lock(mu_);
  slots_.Erase(first, n);
}

void RemoteTier::LoadChunk(uint64_t chunk, const Location& frame, uint8_t* page) {
  if (cache_ != nullptr && cache_->Load(frame.segment, frame.offset, page)) return;
  const std::string bytes =
      client_.GetRange(SegmentName(frame.segment), frame.offset, frame.length);
  DecodeFrame(kChunkSeed | chunk, frame, bytes.data(), page);
  if (cache_ != nullptr) cache_->Insert(frame.segment, frame.offset, page);
}

void RemoteTier::DecodeFrame(SlotId slot, const Location& loc, const char* bytes,
                             uint8_t* out) const {
  auto where = [&] {
    const std::string whose = (slot & kChunkSeed) != 0
                                  ? "slot map chunk " + std::to_string(slot & ~kChunkSeed)
                                  : "slot " + std::to_string(slot);
    return whose + " in " + client_.Describe(SegmentName(loc.segment)) + " at byte " +
           std::to_string(loc.offset);
  };
  if (FrameChecksum(slot, bytes, loc.length) != loc.checksum) {
    throw Error(ErrorCode::kCorruption, "checksum mismatch in " + where());
  }
  // A page as it was, or a filtered page followed by its filter's id.
  const unsigned long long content = ZSTD_getFrameContentSize(bytes, loc.length);
  if (content == slot_size_) {
    const size_t n = ZSTD_decompressDCtx(ThreadDecompressor(), out, slot_size_, bytes, loc.length);
    if (ZSTD_isError(n) || n != slot_size_) {
      throw Error(ErrorCode::kCorruption, "cannot decompress " + where());
    }
    return;
  }
  if (content != uint64_t{slot_size_} + 1) {
    throw Error(ErrorCode::kCorruption, "cannot decompress " + where());
  }
  thread_local std::vector<uint8_t> filtered;
  filtered.resize(slot_size_ + 1);
  const size_t n = ZSTD_decompressDCtx(ThreadDecompressor(), filtered.data(), filtered.size(),
                                       bytes, loc.length);
  if (ZSTD_isError(n) || n != filtered.size()) {
    throw Error(ErrorCode::kCorruption, "cannot decompress " + where());
  }
  const uint8_t id = filtered[slot_size_];
  if (filter_ == nullptr || !filter_->Decode(id, filtered.data(), slot_size_, out)) {
    throw Error(ErrorCode::kCorruption, "cannot undo page filter " + std::to_string(id) + " of " +
                                            where() + " (unknown here, or damaged)");
  }
}

void RemoteTier::Read(SlotId slot, uint8_t* buf) {
  uint8_t* bufs[1] = {buf};
  ReadRun(slot, 1, bufs);
}

void RemoteTier::ReadRun(SlotId first, uint32_t n, uint8_t* const* bufs) {
  reads_.fetch_add(n);
  // Look up under the lock; fetch outside it. A slot written since the
  // last Sync is in the spill file.
  std::vector<std::optional<Location>> locs(n);
  std::vector<bool> pending(n, false);
  if (spill_) {
    for (uint32_t i = 0; i < n; ++i) pending[i] = spill_->Get(first + i, bufs[i]);
  }
  {
    MutexLock lock(mu_);
    for (uint32_t i = 0; i < n; ++i) {
      if (pending[i]) continue;
      if (std::optional<Location> loc = slots_.Find(first + i)) {
        locs[i] = *loc;
      } else {
        std::memset(bufs[i], 0, slot_size_);
      }
    }
  }
  std::optional<SlotId> first_stored, last_stored;
  for (uint32_t i = 0; i < n; ++i) {
    if (!locs[i]) continue;
    if (!first_stored) first_stored = first + i;
    last_stored = first + i;
  }
  if (cache_ != nullptr) {
    for (uint32_t i = 0; i < n; ++i) {
      if (!locs[i]) continue;
      const Location& loc = *locs[i];
      // A frame the readahead is fetching: wait for it, not a second GET.
      if (cache_->Load(loc.segment, loc.offset, bufs[i]) ||
          (fetches_ && fetches_->WaitFor(loc.segment, loc.offset) &&
           cache_->Load(loc.segment, loc.offset, bufs[i]))) {
        locs[i].reset();
      }
    }
  }
  // Before this read's own GETs, so the window ahead is fetched meanwhile.
  if (first_stored) NoteRead(*first_stored, *last_stored);
  // Slots whose frames lie in one segment in ascending order, with gaps of
  // at most kCoalesceGap between them, share one ranged GET (fetching a gap
  // costs less than another request's round trip). Slots served already
  // (pending, cached, never written) do not break a run.
  uint32_t i = 0;
  while (i < n) {
    if (!locs[i]) {
      ++i;
      continue;
    }
    std::vector<uint32_t> run{i};
    uint64_t run_end = uint64_t{locs[i]->offset} + locs[i]->length;
    uint32_t j = i + 1;
    for (; j < n; ++j) {
      if (!locs[j]) continue;
      if (locs[j]->segment != locs[i]->segment || locs[j]->offset < run_end ||
          locs[j]->offset - run_end > kCoalesceGap) {
        break;
      }
      run.push_back(j);
      run_end = uint64_t{locs[j]->offset} + locs[j]->length;
    }
    const uint64_t from = locs[i]->offset;
    std::string bytes = client_.GetRange(SegmentName(locs[i]->segment), from, run_end - from);
    for (uint32_t k : run) {
      DecodeFrame(first + k, *locs[k], bytes.data() + (locs[k]->offset - from), bufs[k]);
      if (cache_ != nullptr) cache_->Insert(locs[k]->segment, locs[k]->offset, bufs[k]);
    }
    i = j;
  }
}

void RemoteTier::NoteRead(SlotId first, SlotId last) {
  if (!fetches_) return;
  FetchQueue::Job job;
  {
    MutexLock lock(mu_);
    if (slots_.empty()) return;
    const std::optional<ReadaheadPolicy::Window> w =
        readahead_.OnRead(first, last, slots_.bytes() / slots_.size(), slots_.end_slot());
    if (!w) return;
    for (SlotId s = w->first; s < w->end; ++s) {
      if (std::optional<Location> loc = slots_.Find(s)) {
        job.frames.push_back({loc->segment, loc->offset, loc->length, s});
      }
    }
  }
  if (!job.frames.empty()) fetches_->Push(std::move(job));
}

std::vector<std::vector<RemoteTier::Wanted>> RemoteTier::Missing(
    const std::vector<FrameRef>& frames) {
  std::vector<Wanted> want;
  {
    MutexLock lock(mu_);
    for (const FrameRef& f : frames) {
      std::optional<Location> loc = slots_.Find(f.slot);
      if (!loc || loc->segment != f.segment || loc->offset != f.offset) {
        continue;  // discarded or moved since: its old frame is no one's
      }
      want.push_back({f.slot, *loc});
    }
  }
  return UncachedRuns(std::move(want));
}

std::vector<std::vector<RemoteTier::Wanted>> RemoteTier::UncachedRuns(std::vector<Wanted> want) {
  std::sort(want.begin(), want.end(), [](const Wanted& a, const Wanted& b) {
    return a.loc.segment != b.loc.segment ? a.loc.segment < b.loc.segment
                                          : a.loc.offset < b.loc.offset;
  });
  std::vector<std::vector<Wanted>> runs;
  uint64_t run_end = 0;
  for (const Wanted& w : want) {
    if (cache_->Contains(w.loc.segment, w.loc.offset)) continue;
    if (runs.empty() || runs.back().back().loc.segment != w.loc.segment || w.loc.offset < run_end ||
        w.loc.offset - run_end > kCoalesceGap) {
      runs.emplace_back();
    }
    runs.back().push_back(w);
    run_end = uint64_t{w.loc.offset} + w.loc.length;
  }
  return runs;
}

void RemoteTier::FetchIntoCache(const std::vector<Wanted>& frames, bool ahead) {
  if (frames.empty()) return;
  const Location& head = frames.front().loc;
  const Location& tail = frames.back().loc;
  const uint64_t from = head.offset;
  const std::string bytes =
      client_.GetRange(SegmentName(head.segment), from, uint64_t{tail.offset} + tail.length - from);
  std::vector<uint8_t> page(slot_size_);
  for (const Wanted& w : frames) {
    if (uint64_t{w.loc.offset} + w.loc.length - from > bytes.size()) break;  // short: left out
    try {
      DecodeFrame(w.slot, w.loc, bytes.data() + (w.loc.offset - from), page.data());
    } catch (const Error&) {
      continue;  // the read of it fetches it again, and reports what it finds
    }
    cache_->Insert(w.loc.segment, w.loc.offset, page.data(), ahead);
  }
}

void RemoteTier::WillNeed(const std::vector<SlotId>& slots) {
  if (cache_ == nullptr || slots.empty()) return;
  std::vector<FrameRef> frames;
  {
    MutexLock lock(mu_);
    for (SlotId slot : slots) {
      std::optional<Location> loc = slots_.Find(slot);
      if (!loc) continue;
      frames.push_back({loc->segment, loc->offset, loc->length, slot});
    }
  }
  FetchRuns(Missing(frames));
}

void RemoteTier::UploadSegment(uint64_t id, const std::string& bytes,
                               const std::vector<std::pair<SlotId, Location>>& frames) {
  // Create-only: a name this process made up is never anyone else's.
  PutResult r = client_.Put(SegmentName(id), bytes, PutCondition::kIfAbsent);
  if (!r.written) {
    throw Error(ErrorCode::kBusy, "segment " + client_.Describe(SegmentName(id)) +
                                      " already exists: another writer uses this prefix");
  }
  segments_uploaded_.fetch_add(1);
  // Pages just written are likely read again soon: the local cache keeps
  // them, once the object they name exists.
  if (cache_ == nullptr) return;
  std::vector<uint8_t> page(slot_size_);
  for (const auto& [slot, loc] : frames) {
    if (spill_->Get(slot, page.data())) cache_->Insert(loc.segment, loc.offset, page.data());
  }
}

namespace {

// Runs up to kInFlight uploads at once, each on a thread of its own, so that
// the caller packs the next segment meanwhile: compressing and sending
// overlap, and one PUT's round trip overlaps another's transfer (taking
// turns, a commit uploaded at half the raw client's rate). What an upload
// throws is thrown by a later Send or by Finish; the destructor waits for
// the uploads in flight, so an error elsewhere never leaves one running.
class BackgroundUploads {
 public:
  static constexpr size_t kInFlight = 2;

  BackgroundUploads() = default;
  BackgroundUploads(const BackgroundUploads&) = delete;
  BackgroundUploads& operator=(const BackgroundUploads&) = delete;
  ~BackgroundUploads() {
    for (Upload& u : uploads_) {
      if (u.thread.joinable()) u.thread.join();
    }
  }

  void Send(std::function<void()> upload) {
    Upload& u = uploads_[next_++ % kInFlight];
    Join(u);
    u.thread = StartBackgroundThread([&u, upload = std::move(upload)] {
      try {
        upload();
      } catch (...) {
        u.error = std::current_exception();
      }
    });
  }
  void Finish() {
    for (Upload& u : uploads_) Join(u);
  }

 private:
  struct Upload {
    std::thread thread;
    std::exception_ptr error;  // written by thread, read after joining it
  };
  static void Join(Upload& u) {
    if (u.thread.joinable()) u.thread.join();
    if (u.error) std::rethrow_exception(std::exchange(u.error, nullptr));
  }

  std::array<Upload, kInFlight> uploads_;
  size_t next_ = 0;
};

}  // namespace

void RemoteTier::Sync() {
  syncs_.fetch_add(1);
  if (!spill_) return;
  // The pages stay readable in the spill file until the upload lands.
  const std::vector<SpillFile::Pending> pending = spill_->Slots();
  {
    MutexLock lock(mu_);
    if (pending.empty() && !slots_.dirty()) return;
  }
  std::vector<char> scratch(ZSTD_compressBound(slot_size_ + 1));
  std::vector<uint8_t> page(slot_size_);
  std::vector<uint8_t> filtered(slot_size_ + 1);  // a filtered page, then its filter's id
  // One context for the whole upload (ZSTD_compress would make one per page).
  std::unique_ptr<ZSTD_CCtx, FreeCompressor> zstd(ZSTD_createCCtx());
  if (zstd == nullptr) throw std::bad_alloc();
  std::vector<std::pair<SlotId, Location>> placed;      // each pending slot once
  std::vector<std::pair<SlotId, Location>> in_segment;  // of the segment being packed
  std::string segment(kRemoteSegmentMagic, sizeof kRemoteSegmentMagic);
  uint64_t segment_id = 0;
  BackgroundUploads upload;
  auto flush = [&] {
    if (segment.size() == sizeof kRemoteSegmentMagic) return;
    upload.Send([this, id = segment_id, bytes = std::move(segment),
                 frames = std::move(in_segment)] { UploadSegment(id, bytes, frames); });
    segment.assign(kRemoteSegmentMagic, sizeof kRemoteSegmentMagic);
    in_segment.clear();
  };
  // Compresses n bytes of src as one frame of the segment being packed
  // (checksum seeded by seed; what names it in an error); returns its place.
  auto pack = [&](const uint8_t* src, size_t n, uint64_t seed, const auto& what) {
    if (segment.size() == sizeof kRemoteSegmentMagic) {
      MutexLock lock(mu_);
      segment_id = (session_ << 32) | next_segment_++;
    }
    const size_t len =
        ZSTD_compressCCtx(zstd.get(), scratch.data(), scratch.size(), src, n, kZstdLevel);
    if (ZSTD_isError(len)) throw Error(ErrorCode::kIo, "zstd failed on " + what());
    Location loc{segment_id, static_cast<uint32_t>(segment.size()), static_cast<uint32_t>(len),
                 FrameChecksum(seed, scratch.data(), len)};
    segment.append(scratch.data(), len);
    return loc;
  };
  // Packed in the order they were written, not by slot: what a commit
  // writes last (its page-table nodes) lies together, so an open fetches
  // them in one GET, and a scan of pages written in order reads forward.
  std::vector<SpillFile::Pending> order = pending;
  std::sort(order.begin(), order.end(),
            [](const SpillFile::Pending& a, const SpillFile::Pending& b) {
              return a.version < b.version;
            });
  for (const SpillFile::Pending& p : order) {
    if (!spill_->Get(p.slot, page.data())) continue;  // discarded meanwhile
    const uint8_t id =
        filter_ != nullptr ? filter_->Encode(page.data(), slot_size_, filtered.data()) : 0;
    filtered[slot_size_] = id;
    const Location loc =
        pack(id != 0 ? filtered.data() : page.data(), slot_size_ + (id != 0 ? 1 : 0), p.slot,
             [&] { return "slot " + std::to_string(p.slot); });
    placed.emplace_back(p.slot, loc);
    in_segment.emplace_back(p.slot, loc);
    if (segment.size() >= kSegmentTarget) flush();
  }
  // Then the slot map's chunks that change, as they will be with these
  // pages placed, after the pages (with the page-table nodes: an open
  // fetches them together).
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> chunks;
  {
    MutexLock lock(mu_);
    chunks = slots_.PagesToStore(placed);
  }
  std::vector<std::pair<uint64_t, Location>> chunks_placed;
  for (const auto& [chunk, bytes] : chunks) {
    const uint64_t c = chunk;
    chunks_placed.emplace_back(c, pack(bytes.data(), slot_size_, kChunkSeed | c,
                                       [c] { return "slot map chunk " + std::to_string(c); }));
    if (segment.size() >= kSegmentTarget) flush();
  }
  flush();
  upload.Finish();
  {
    MutexLock lock(mu_);
    for (const auto& [slot, loc] : placed) slots_.Set(slot, loc);
    for (const auto& [chunk, loc] : chunks_placed) slots_.Stored(chunk, loc);
  }
  // A chunk that leaves RAM then loads from the local cache, not a GET.
  if (cache_ != nullptr) {
    for (size_t i = 0; i < chunks.size(); ++i) {
      cache_->Insert(chunks_placed[i].second.segment, chunks_placed[i].second.offset,
                     chunks[i].second.data());
    }
  }
  // A slot written again during the upload keeps its news (Forget skips it).
  spill_->Forget(pending);
}

void RemoteTier::AdoptSlots(const SlotMapImage& image) {
  slots_.Adopt(image);
  readahead_.Reset();
}

void RemoteTier::PrefetchChunks(const SlotMapImage& image) {
  if (cache_ == nullptr || image.chunks.empty()) return;
  // Runs of chunk frames a commit stored side by side, one GET each.
  std::vector<Wanted> want;
  for (const ChunkRef& r : image.chunks) want.push_back({kChunkSeed | r.chunk, r.frame});
  FetchRuns(UncachedRuns(std::move(want)));
}

void RemoteTier::FetchRuns(std::vector<std::vector<Wanted>> runs) {
  std::stable_sort(runs.begin(), runs.end(),
                   [](const auto& a, const auto& b) { return a.size() > b.size(); });
  uint64_t room = cache_->stats().capacity / 4 / slot_size_;
  for (size_t r = 0; r < runs.size() && r < kMaxWillNeedGets; ++r) {
    if (runs[r].size() > room) break;
    room -= runs[r].size();
    try {
      FetchIntoCache(runs[r], false);
    } catch (const Error&) {
      return;  // advisory: the reads that need them report it
    }
  }
}

std::vector<std::pair<SlotId, FrameLocation>> RemoteTier::StoredSlots() {
  std::vector<std::pair<SlotId, FrameLocation>> out;
  MutexLock lock(mu_);
  slots_.ForEach([&](SlotId slot, const FrameLocation& loc) { out.emplace_back(slot, loc); });
  return out;
}

void RemoteTier::Relocate(SlotId slot, const FrameLocation& loc) {
  MutexLock lock(mu_);
  slots_.Set(slot, loc);
}

void RemoteTier::RewriteSlotMap() {
  MutexLock lock(mu_);
  slots_.MarkAllDirty();
}

std::string RemoteTier::PublishCommit(uint64_t epoch, std::string_view record) {
  std::string object;
  std::string etag;
  {
    MutexLock lock(mu_);
    object = EncodeRemoteCommit({epoch, std::string(record), slot_size_, slots_.Image()});
    etag = head_etag_;
  }
  std::string name = RemoteCommitName(epoch, session_);
  if (!client_.Put(name, object, PutCondition::kIfAbsent).written) {
    throw Error(ErrorCode::kBusy, "commit " + client_.Describe(name) +
                                      " already exists: another writer uses this prefix");
  }
  const std::string head = EncodeRemoteHead({epoch, name});
  PutResult r = etag.empty() ? client_.Put(kHead, head, PutCondition::kIfAbsent)
                             : client_.Put(kHead, head, PutCondition::kIfMatch, etag);
  if (!r.written) {
    throw Error(ErrorCode::kBusy, client_.Describe(kHead) +
                                      " was moved by another writer; this commit (epoch " +
                                      std::to_string(epoch) + ") was not published");
  }
  {
    MutexLock lock(mu_);
    head_etag_ = r.etag;
  }
  ReturnFreedMemory();
  return name;
}

std::optional<RemoteHead> RemoteTier::ReadHead() {
  std::string head;
  try {
    head = client_.Get(kHead);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kNotFound) return std::nullopt;
    throw;
  }
  return DecodeRemoteHead(head, client_.Describe(kHead));
}

std::optional<uint64_t> RemoteTier::HeadEpoch() {
  std::optional<RemoteHead> h = ReadHead();
  if (!h) return std::nullopt;
  return h->epoch;
}

std::optional<RemoteTier::FetchedCommit> RemoteTier::FetchCommit() {
  std::optional<ObjectInfo> info = client_.Head(kHead);
  if (!info) return std::nullopt;
  std::optional<RemoteHead> h = ReadHead();
  if (!h) return std::nullopt;
  const std::string head_what = client_.Describe(kHead);
  std::string object;
  try {
    object = client_.Get(h->commit);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
    throw Error(ErrorCode::kNotFound, head_what + " names " + client_.Describe(h->commit) +
                                          ", which is missing: the store is damaged");
  }
  const std::string what = client_.Describe(h->commit);
  FetchedCommit out{DecodeRemoteCommit(object, what), what, info->etag};
  if (out.commit.epoch != h->epoch) {
    throw Error(ErrorCode::kCorruption, what + " does not hold the commit " + head_what + " names");
  }
  return out;
}

std::optional<std::string> RemoteTier::LoadCommit() {
  std::optional<FetchedCommit> c = FetchCommit();
  if (!c) {
    RefuseLostHead();
    return std::nullopt;
  }
  if (c->commit.slot_size != slot_size_) {
    throw Error(ErrorCode::kInvalidArgument, c->what + " has slots of " +
                                                 std::to_string(c->commit.slot_size) +
                                                 " bytes, not " + std::to_string(slot_size_));
  }
  {
    MutexLock lock(mu_);
    AdoptSlots(c->commit.map);
    head_etag_ = c->etag;
  }
  // So the first reads find their slot-map chunks local: a random read then
  // costs about one GET, its page's.
  PrefetchChunks(c->commit.map);
  return std::move(c->commit.record);
}

void RemoteTier::RefuseLostHead() {
  // Formatting here would publish an empty store over the data.
  std::string newest;
  for (const ObjectInfo& o : client_.List("commit/")) {
    if (IsCommitAfterFormat(o.name)) newest = o.name;
  }
  if (newest.empty()) return;
  throw Error(ErrorCode::kCorruption,
              LostHeadMessage(client_.Describe(kHead), client_.Describe(newest)) +
                  " (nothing was written; restore the head object)");
}

std::optional<std::string> RemoteTier::PeekCommit() {
  std::optional<FetchedCommit> c = FetchCommit();
  if (!c) return std::nullopt;
  return std::move(c->commit.record);
}

}  // namespace pagefs
