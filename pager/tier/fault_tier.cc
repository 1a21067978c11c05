#include "pager/tier/fault_tier.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "pager/util/error.h"

namespace pagefs {

void FaultTier::Arm(Fault fault, uint64_t nth_write, int error_errno) {
  fault_.store(fault);
  errno_.store(error_errno);
  cut_at_.store(writes_.load() + nth_write);
}

void FaultTier::FailRead(uint64_t nth_read, int error_errno) {
  read_errno_.store(error_errno);
  read_cut_at_.store(reads_.load() + nth_read);
}

void FaultTier::FailReadsOf(SlotId slot, int error_errno) {
  read_errno_.store(error_errno);
  bad_slot_.store(slot);
}

void FaultTier::ClearReadFaults() {
  read_cut_at_.store(0);
  bad_slot_.store(kNoSlot);
}

void FaultTier::FailNextSync(int error_errno) { sync_errno_.store(error_errno); }

void FaultTier::Enter() const {
  const int64_t latency = latency_ns_.load();
  if (latency > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(latency));
  if (crashed_.load()) throw Error::FromErrno(EIO, "tier crashed (injected)");
}

void FaultTier::CountReads(SlotId first, uint64_t n) {
  const uint64_t before = reads_.fetch_add(n);  // reads before+1 .. before+n are these
  const uint64_t cut = read_cut_at_.load();
  SlotId failing = kNoSlot;
  if (cut > before && cut <= before + n) {
    uint64_t expected = cut;  // one-shot: only the call that reaches it fires it
    if (read_cut_at_.compare_exchange_strong(expected, 0)) failing = first + (cut - before - 1);
  }
  const SlotId bad = bad_slot_.load();
  if (bad >= first && bad - first < n) failing = std::min(failing, bad);
  if (failing != kNoSlot) {
    throw Error::FromErrno(read_errno_.load(),
                           "read slot " + std::to_string(failing) + " (injected)");
  }
}

void FaultTier::Read(SlotId slot, uint8_t* buf) {
  Enter();
  CountReads(slot, 1);
  TierWrapper::Read(slot, buf);
}

void FaultTier::ReadRun(SlotId first, uint32_t n, uint8_t* const* bufs) {
  Enter();
  read_runs_.fetch_add(1);
  CountReads(first, n);
  TierWrapper::ReadRun(first, n, bufs);
}

void FaultTier::Write(SlotId slot, const uint8_t* buf) {
  Enter();
  uint64_t n = writes_.fetch_add(1) + 1;
  if (n == cut_at_.load()) {
    Fault fault = fault_.load();
    if (fault == Fault::kTornCrash) {
      std::vector<uint8_t> torn(slot_size());
      TierWrapper::Read(slot, torn.data());
      std::copy(buf, buf + torn.size() / 2, torn.begin());
      TierWrapper::Write(slot, torn.data());
    }
    if (fault == Fault::kTornCrash || fault == Fault::kDropCrash) crashed_.store(true);
    if (fault != Fault::kNone) {
      throw Error::FromErrno(fault == Fault::kError ? errno_.load() : EIO,
                             "write slot " + std::to_string(slot) + " (injected)");
    }
  }
  TierWrapper::Write(slot, buf);
}

void FaultTier::Sync() {
  Enter();
  int err = sync_errno_.exchange(0);
  if (err != 0) throw Error::FromErrno(err, "sync (injected)");
  TierWrapper::Sync();
}

void FaultTier::Discard(SlotId slot) {
  Enter();
  TierWrapper::Discard(slot);
}

void FaultTier::DiscardRun(SlotId first, uint64_t n) {
  Enter();
  TierWrapper::DiscardRun(first, n);
}

}  // namespace pagefs
