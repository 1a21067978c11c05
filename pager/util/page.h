// The basic types every layer of the engine names: a page's id, the RAII pin
// on a page's bytes (and whoever hands pins out), and the anchors a commit
// keeps for the collections layer.
#pragma once

#include <cstdint>
#include <utility>

namespace pagefs {

using PageId = uint64_t;
inline constexpr PageId kNoPage = 0;

// Whoever hands out pins takes them back through this.
class PinHolder {
 public:
  virtual void Unpin(uint64_t token) noexcept = 0;

 protected:
  ~PinHolder() = default;
};

// RAII pin on one page. Move-only. A guard from PageSpace::Write or Allocate
// may modify the bytes; a guard from Read must not.
class PageGuard {
 public:
  PageGuard() = default;
  PageGuard(PinHolder* holder, uint64_t token, PageId id, uint8_t* data) noexcept
      : holder_(holder), token_(token), id_(id), data_(data) {}
  PageGuard(PageGuard&& other) noexcept { *this = std::move(other); }
  PageGuard& operator=(PageGuard&& other) noexcept {
    if (this != &other) {
      Release();
      holder_ = std::exchange(other.holder_, nullptr);
      token_ = other.token_;
      id_ = std::exchange(other.id_, kNoPage);
      data_ = std::exchange(other.data_, nullptr);
    }
    return *this;
  }
  PageGuard(const PageGuard&) = delete;
  PageGuard& operator=(const PageGuard&) = delete;
  ~PageGuard() { Release(); }

  explicit operator bool() const noexcept { return data_ != nullptr; }
  PageId id() const noexcept { return id_; }
  const uint8_t* data() const noexcept { return data_; }
  uint8_t* mutable_data() const noexcept { return data_; }

  void Release() noexcept {
    if (holder_ != nullptr) holder_->Unpin(token_);
    holder_ = nullptr;
    data_ = nullptr;
    id_ = kNoPage;
  }

 private:
  PinHolder* holder_ = nullptr;
  uint64_t token_ = 0;
  PageId id_ = kNoPage;
  uint8_t* data_ = nullptr;
};

// Small fixed record kept with every commit: where the collections layer
// anchors its state (the root map, the list of unreferenced collections).
struct Anchors {
  PageId root_map = kNoPage;
  PageId orphan_head = kNoPage;
  bool operator==(const Anchors&) const = default;
};

}  // namespace pagefs
