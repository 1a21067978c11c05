// HeapOnMemory: a Heap with the built-in kinds over a MemoryPageSpace, one
// per page size (kPageSizes), that fails the test when a pin leaks. The
// base of the collection tests that are parameterized by page size.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "pager/collections/builtin_kinds.h"
#include "pager/collections/heap.h"
#include "pager/collections/persistent_list.h"
#include "pager/testing/memory_page_space.h"

namespace pagefs {

// The smallest and the largest page size.
inline const auto kPageSizes = ::testing::Values(4096u, 65536u);
inline std::string PageSizeName(const ::testing::TestParamInfo<uint32_t>& info) {
  return "page" + std::to_string(info.param);
}

class HeapOnMemory : public ::testing::TestWithParam<uint32_t> {
 protected:
  HeapOnMemory() : space_(GetParam()), heap_(space_, BuiltinKinds()) {}
  void TearDown() override { EXPECT_EQ(0u, space_.live_pins()) << "a pin leaked"; }

  // A handle on a new empty list (an orphan until something refers to it).
  std::unique_ptr<PersistentList> NewList() {
    return std::make_unique<PersistentList>(heap_, PersistentList::Create(heap_));
  }

  MemoryPageSpace space_;
  Heap heap_;
};

}  // namespace pagefs
