#include "pager/space/flat_view.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <numeric>
#include <thread>
#include <vector>

#include "pager/space/mount_protocol.h"
#include "pager/store.h"
#include "pager/testing/test_page_size.h"
#include "pager/util/error.h"

namespace pagefs {
namespace {

namespace fs = std::filesystem;

// A FlatView over a real embedded store in a temporary folder.
class FlatViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("pagefs-flat-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    Open();
  }
  void TearDown() override {
    view_.reset();
    if (store_) store_->Close();
    fs::remove_all(root_);
  }

  void Open(uint64_t cache = 1 << 20) {
    view_.reset();
    if (store_) store_->Close();
    StoreOptions so;
    so.cache_size = cache;
    store_ = Store::Open(root_, "data", so);
    Store* s = store_.get();
    view_ = std::make_unique<FlatView>(
        s->heap().op_lock(), s->space(), [s]() -> Volume& { return s->volume(); }, "data");
  }

  static std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7 + i / kPage);
    return v;
  }

  std::vector<uint8_t> ReadAll(uint64_t off, size_t n) {
    std::vector<uint8_t> out(n, 0xee);
    out.resize(view_->Read(off, n, out.data()));
    return out;
  }

  static Error ErrorOf(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "no error";
    return Error(ErrorCode::kIo, "none");
  }

  fs::path root_;
  std::shared_ptr<Store> store_;
  std::unique_ptr<FlatView> view_;
};

TEST_F(FlatViewTest, ReadsAcrossPageBoundaries) {
  const auto data = Pattern(3 * kPage, 5);
  const uint64_t off = kPage + kPage / 2;  // from the middle of page 1 to the middle of page 4
  FlatView::WriteResult w = view_->Write(off, data.data(), data.size());
  EXPECT_EQ(w.bytes, data.size());
  EXPECT_TRUE(w.grew);
  EXPECT_EQ(view_->bytes(), 5u * kPage);
  EXPECT_EQ(ReadAll(off, data.size()), data);
  // A read that starts and ends inside pages, three boundaries in between.
  const auto inner = ReadAll(off + 100, 2 * kPage + 50);
  EXPECT_TRUE(std::equal(inner.begin(), inner.end(), data.begin() + 100));
  // The same through pinned pages, some pinned and some spilled.
  std::vector<uint8_t> spill(data.size());
  FlatView::PinnedRead r;
  view_->ReadPinned(off, data.size(), 2, spill.data(), r);
  EXPECT_EQ(r.bytes(), data.size());
  EXPECT_EQ(r.pinned(), 2u);
  std::vector<uint8_t> joined;
  for (const iovec& v : r.iov()) {
    const auto* p = static_cast<const uint8_t*>(v.iov_base);
    joined.insert(joined.end(), p, p + v.iov_len);
  }
  EXPECT_EQ(joined, data);
}

TEST_F(FlatViewTest, UnallocatedPagesAndPageZeroReadAsZeros) {
  const auto page = Pattern(kPage, 9);
  view_->Write(3 * kPage, page.data(), kPage);
  EXPECT_FALSE(view_->PageAllocated(0));
  EXPECT_FALSE(view_->PageAllocated(2));
  const auto all = ReadAll(0, 4 * kPage);
  ASSERT_EQ(all.size(), 4u * kPage);
  EXPECT_TRUE(std::all_of(all.begin(), all.begin() + 3 * kPage, [](uint8_t b) { return b == 0; }));
  EXPECT_TRUE(std::equal(page.begin(), page.end(), all.begin() + 3 * kPage));
  // Pinned reads serve the same zeros.
  std::vector<uint8_t> spill(4 * kPage);
  FlatView::PinnedRead r;
  view_->ReadPinned(0, 3 * kPage, 8, spill.data(), r);
  EXPECT_EQ(r.bytes(), 3u * kPage);
  EXPECT_EQ(r.pinned(), 0u);
  for (const iovec& v : r.iov()) {
    const auto* p = static_cast<const uint8_t*>(v.iov_base);
    EXPECT_TRUE(std::all_of(p, p + v.iov_len, [](uint8_t b) { return b == 0; }));
  }
  // Page 0 takes zeros only, and stays no page.
  const std::vector<uint8_t> zeros(kPage);
  EXPECT_EQ(view_->Write(0, zeros.data(), kPage).bytes, kPage);
  EXPECT_FALSE(view_->PageAllocated(0));
  const uint8_t x = 'x';
  EXPECT_EQ(ErrorOf([&] { view_->Write(10, &x, 1); }).code(), ErrorCode::kInvalidArgument);
}

TEST_F(FlatViewTest, WritesAllocateThePagesTheyTouchAndSurviveACommit) {
  const auto data = Pattern(kPage + 10, 1);
  EXPECT_TRUE(view_->Write(2 * kPage - 5, data.data(), data.size()).grew);  // pages 1, 2, 3
  EXPECT_EQ(view_->AllocatedPages(), (std::vector<PageId>{1, 2, 3}));
  EXPECT_FALSE(view_->Write(kPage, data.data(), 10).grew);
  store_->Commit();
  Open();
  EXPECT_EQ(view_->AllocatedPages(), (std::vector<PageId>{1, 2, 3}));
  const auto back = ReadAll(2 * kPage - 5 + 10, data.size() - 10);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin() + 10));
}

TEST_F(FlatViewTest, ReadsStopShortAtTheEndOfTheSpace) {
  const auto data = Pattern(2 * kPage, 3);
  view_->Write(kPage, data.data(), data.size());  // space: pages 0..2
  const auto tail = ReadAll(3 * kPage - 100, 4096);
  EXPECT_EQ(tail.size(), 100u);
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), data.end() - 100));
  EXPECT_TRUE(ReadAll(3 * kPage, 10).empty());
  EXPECT_TRUE(ReadAll(100 * kPage, 10).empty());
  std::vector<uint8_t> spill(8192);
  FlatView::PinnedRead r;
  view_->ReadPinned(3 * kPage - 100, 8192, 4, spill.data(), r);
  EXPECT_EQ(r.bytes(), 100u);
}

TEST(ReadAheadPolicyTest, ALargeCompleteReadLoadsTheNextRangeOfItsLength) {
  const uint64_t mib = 1 << 20;
  // 1 MiB at 0 covers pages 0..255: the next 256 pages follow.
  EXPECT_EQ(ReadAheadAfter(0, mib, mib, 10000, kPage), (PageRange{256, 256}));
  // Unaligned: the read touches pages 0..256, so the range starts at 257.
  EXPECT_EQ(ReadAheadAfter(100, mib, mib, 10000, kPage), (PageRange{257, 257}));
  // Cut at the end of the space.
  EXPECT_EQ(ReadAheadAfter(0, mib, mib, 300, kPage), (PageRange{256, 44}));
  // Nothing after a read that reached the end, a small read, a short or empty one.
  EXPECT_EQ(ReadAheadAfter(0, mib, mib, 256, kPage), std::nullopt);
  EXPECT_EQ(ReadAheadAfter(0, kReadAheadMin - 1, kReadAheadMin - 1, 10000, kPage), std::nullopt);
  EXPECT_EQ(ReadAheadAfter(0, mib, mib - 1, 10000, kPage), std::nullopt);
  EXPECT_EQ(ReadAheadAfter(0, 0, 0, 10000, kPage), std::nullopt);
  EXPECT_TRUE(ReadAheadAfter(0, kReadAheadMin, kReadAheadMin, 10000, kPage).has_value());
  // Other page sizes: the range is counted in pages of that size.
  EXPECT_EQ(ReadAheadAfter(0, mib, mib, 10000, 65536), (PageRange{16, 16}));
}

TEST(ReadAheadPolicyTest, AStreamAdvisesEachPartOfTheWindowPastItsReadaheadOnce) {
  // Readahead of pages 256..511: the window is kAdviseDepth lengths after it.
  const PageRange ahead{256, 256};
  const PageId begin = 512, end = 512 + kAdviseDepth * 256;
  EXPECT_EQ(AdviseWindow(ahead, 0, 100000), (PageRange{begin, end - begin}));
  // The next read of the stream advises only what the last one did not.
  const PageRange next{512, 256};
  EXPECT_EQ(AdviseWindow(next, end, 100000), (PageRange{end, 256}));
  // All of it advised already: nothing.
  EXPECT_EQ(AdviseWindow(ahead, end, 100000), std::nullopt);
  // An advice that ended elsewhere (another stream, an earlier pass): all of it.
  EXPECT_EQ(AdviseWindow(ahead, end + 1, 100000), (PageRange{begin, end - begin}));
  EXPECT_EQ(AdviseWindow(ahead, 100, 100000), (PageRange{begin, end - begin}));
  // Cut at the end of the space; none past it.
  EXPECT_EQ(AdviseWindow(ahead, 0, 600), (PageRange{begin, 88}));
  EXPECT_EQ(AdviseWindow(ahead, 0, 512), std::nullopt);
}

TEST_F(FlatViewTest, PagesPastTheIdLimitAreTooLarge) {
  const uint8_t x = 1;
  const uint64_t past = kFlatViewPageLimit * kPage;
  EXPECT_EQ(ErrorOf([&] { view_->Write(past, &x, 1); }).code(), ErrorCode::kTooLarge);
  EXPECT_EQ(ErrorOf([&] { view_->Resize(past + 1); }).code(), ErrorCode::kTooLarge);
  EXPECT_EQ(ErrorOf([&] { view_->Allocate(past, kPage); }).code(), ErrorCode::kTooLarge);
  EXPECT_EQ(ErrorOf([&] { view_->CreatePage(kFlatViewPageLimit); }).code(), ErrorCode::kTooLarge);
  EXPECT_EQ(view_->bytes(), uint64_t{kPage});  // nothing was allocated on the way (page 0 only)
}

TEST_F(FlatViewTest, PunchAllocateResizeAndPageFiles) {
  const auto data = Pattern(4 * kPage, 2);
  view_->Write(kPage, data.data(), data.size());  // pages 1..4
  // Whole pages are freed, partial ones zeroed.
  EXPECT_EQ(view_->Punch(2 * kPage - 10, kPage + 20), (std::vector<PageId>{2}));
  EXPECT_EQ(view_->AllocatedPages(), (std::vector<PageId>{1, 3, 4}));
  const auto p3 = ReadAll(3 * kPage, kPage);
  EXPECT_TRUE(std::all_of(p3.begin(), p3.begin() + 10, [](uint8_t b) { return b == 0; }));
  EXPECT_EQ(p3[10], data[2 * kPage + 10]);
  // Allocation with keep_size stops at the end; without, it grows.
  EXPECT_FALSE(view_->Allocate(4 * kPage, 4 * kPage, /*keep_size=*/true));
  EXPECT_EQ(view_->bytes(), 5u * kPage);
  EXPECT_TRUE(view_->Allocate(kPage, 6 * kPage));
  EXPECT_EQ(view_->AllocatedPages(), (std::vector<PageId>{1, 2, 3, 4, 5, 6}));
  // The space grows, never shrinks.
  EXPECT_TRUE(view_->Resize(10 * kPage - 1));
  EXPECT_EQ(view_->bytes(), 10u * kPage);
  EXPECT_FALSE(view_->Resize(10 * kPage));
  EXPECT_EQ(ErrorOf([&] { view_->Resize(kPage); }).code(), ErrorCode::kInvalidArgument);
  // Page files.
  EXPECT_EQ(ErrorOf([&] { view_->CreatePage(3); }).code(), ErrorCode::kExists);
  EXPECT_TRUE(view_->CreatePage(12));
  view_->ZeroPageTail(1, 100);
  const auto p1 = ReadAll(kPage, kPage);
  EXPECT_EQ(p1[99], data[99]);
  EXPECT_TRUE(std::all_of(p1.begin() + 100, p1.end(), [](uint8_t b) { return b == 0; }));
  view_->FreePage(12);
  EXPECT_EQ(ErrorOf([&] { view_->FreePage(12); }).code(), ErrorCode::kNotFound);
  EXPECT_EQ(ErrorOf([&] { view_->ZeroPageTail(12, 0); }).code(), ErrorCode::kNotFound);
}

TEST_F(FlatViewTest, ACommittedReadShowsThePinnedCommitAndItsHeader) {
  const auto v1 = Pattern(kPage, 1);
  view_->Write(kPage, v1.data(), kPage);
  store_->Commit();
  CommitPin pin = view_->PinCommitted();
  const auto v2 = Pattern(kPage, 2);
  view_->Write(kPage, v2.data(), kPage);
  view_->Write(2 * kPage, v2.data(), kPage);
  store_->Commit();
  EXPECT_EQ(view_->committed_bytes(), 3u * kPage);
  std::vector<uint8_t> out(3 * kPage);
  EXPECT_EQ(view_->ReadCommitted(pin, 0, out.size(), out.data()), 2u * kPage);  // its page_count
  CommittedHeader h;
  ASSERT_TRUE(DecodeCommittedHeader(out.data(), h));
  EXPECT_EQ(h.epoch, pin.commit.epoch);
  EXPECT_EQ(h.latest_epoch, pin.commit.epoch + 1);
  EXPECT_EQ(h.page_count, 2u);
  EXPECT_TRUE(std::equal(v1.begin(), v1.end(), out.begin() + kPage));
}

TEST_F(FlatViewTest, ConcurrentReadersAndWritersSeeWholePages) {
  Open(64 * kPage);  // a small cache: pages are evicted and loaded back while others run
  constexpr PageId kPages = 128;
  const std::vector<uint8_t> zero(kPages * kPage);
  view_->Write(kPage, zero.data(), (kPages - 1) * kPage);
  std::atomic<bool> torn{false};
  std::atomic<int> writers_left{2};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      std::vector<uint8_t> buf(3 * kPage);
      for (int round = 0; round < 600; ++round) {
        // Three pages at a time, each filled with one byte: a reader sees each
        // page as of one write, never a mix (pages of one request may differ).
        const PageId first = 1 + (round * 7 + w * 31) % (kPages - 3);
        const auto b = static_cast<uint8_t>(1 + (round * 2 + w) % 250);
        std::fill(buf.begin(), buf.end(), b);
        view_->Write(first * kPage, buf.data(), buf.size());
        if (round % 100 == 0) store_->Commit();
      }
      writers_left.fetch_sub(1);
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      std::vector<uint8_t> buf(8 * kPage), spill(8 * kPage);
      for (int round = 0; writers_left.load() > 0 || round < 50; ++round) {
        const PageId first = 1 + (round * 13 + r * 5) % (kPages - 8);
        size_t n;
        const uint8_t* at;
        FlatView::PinnedRead pinned;
        if (round % 2 == 0) {
          n = view_->Read(first * kPage, buf.size(), buf.data());
          at = buf.data();
        } else {
          view_->ReadPinned(first * kPage, buf.size(), 3, spill.data(), pinned);
          buf.clear();
          for (const iovec& v : pinned.iov()) {
            const auto* p = static_cast<const uint8_t*>(v.iov_base);
            buf.insert(buf.end(), p, p + v.iov_len);
          }
          n = buf.size();
          at = buf.data();
        }
        for (size_t p = 0; p + kPage <= n; p += kPage) {
          if (!std::all_of(at + p, at + p + kPage, [&](uint8_t b) { return b == at[p]; })) {
            torn = true;
          }
        }
        buf.resize(8 * kPage);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(torn.load());
}

}  // namespace
}  // namespace pagefs
