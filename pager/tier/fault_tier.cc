#include "pager/tier/fault_tier.h"

#include <cerrno>
#include <vector>

#include "pager/util/error.h"

namespace pagefs {

void FaultTier::Arm(Fault fault, uint64_t nth_write, int error_errno) {
  fault_.store(fault);
  errno_.store(error_errno);
  cut_at_.store(writes_.load() + nth_write);
}

void FaultTier::FailNextSync(int error_errno) { sync_errno_.store(error_errno); }

void FaultTier::CheckAlive() const {
  if (crashed_.load()) throw Error::FromErrno(EIO, "tier crashed (injected)");
}

void FaultTier::Read(SlotId slot, uint8_t* buf) {
  CheckAlive();
  base_.Read(slot, buf);
}

void FaultTier::Write(SlotId slot, const uint8_t* buf) {
  CheckAlive();
  uint64_t n = writes_.fetch_add(1) + 1;
  if (n == cut_at_.load()) {
    Fault fault = fault_.load();
    if (fault == Fault::kTornCrash) {
      std::vector<uint8_t> torn(base_.slot_size());
      base_.Read(slot, torn.data());
      std::copy(buf, buf + torn.size() / 2, torn.begin());
      base_.Write(slot, torn.data());
    }
    if (fault == Fault::kTornCrash || fault == Fault::kDropCrash) crashed_.store(true);
    if (fault != Fault::kNone) {
      throw Error::FromErrno(fault == Fault::kError ? errno_.load() : EIO,
                             "write slot " + std::to_string(slot) + " (injected)");
    }
  }
  base_.Write(slot, buf);
}

void FaultTier::Sync() {
  CheckAlive();
  int err = sync_errno_.exchange(0);
  if (err != 0) throw Error::FromErrno(err, "sync (injected)");
  base_.Sync();
}

void FaultTier::Discard(SlotId slot) {
  CheckAlive();
  base_.Discard(slot);
}

}  // namespace pagefs
