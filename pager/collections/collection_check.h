// CollectionCheck: what `pagefs check` (pager/checker.h) offers the verifier
// of one collection kind (KindHooks::verify). The checker reaches every
// collection once (from the root map, the orphan list and the references
// values hold), checks its common header, and hands the header page to the
// kind's verifier, which walks the pages the collection owns:
//
// - every page it owns, taken through Take, so the checker accounts each
//   page to exactly one owner (and reports a page taken twice, or a page
//   nothing takes, as damage);
// - every value it stores, through Decode and then Follow, which walk blob
//   chains, count references (their targets are visited later) and check
//   that strs are UTF-8;
// - whatever is wrong with the kind's own structure, through Problem.
//
// Damage is reported, never thrown: one bad page must not hide the rest.
// The verifier runs on the checking thread; it keeps no page pinned across a
// call of Take on another page deeper than it must.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pager/util/page.h"
#include "pager/values/value_format.h"

namespace pagefs {

class Heap;

class CollectionCheck {
 public:
  virtual ~CollectionCheck() = default;

  virtual uint32_t page_size() const = 0;
  // The collection being verified (whose header page the verifier was given).
  virtual PageId collection() const = 0;
  // The store's heap, for a verifier that checks what pages mean through its
  // kind's own code (read-only: the checked store is open read-only).
  virtual Heap& heap() = 0;

  // Pins page id as one of the collection's pages; what names it in
  // messages. Empty when it cannot be read (reported, or counted as lost
  // when a damaged page was reported already) or something took it before
  // (reported). Whatever lies under an empty page is unknown.
  virtual PageGuard Take(PageId id, const std::string& what) = 0;
  // Reports a problem of problem_kind (CheckProblem::kind: "list",
  // "root_map", ...) found on page of the collection.
  virtual void Problem(const char* problem_kind, PageId page, std::string message) = 0;

  // One stored value of the collection, on page (where: its place, in words),
  // counted and decoded. Empty when it does not decode (reported).
  virtual std::optional<ValueView> Decode(std::string_view stored, PageId page,
                                          const std::string& where) = 0;
  // What a decoded value owns or names: its blob chain is walked (its pages
  // taken), a reference is counted and its target queued, a str is checked
  // to be UTF-8. Returns a str's text when it is known (blob strs of more
  // than 16 MiB are not read back).
  virtual std::optional<std::string> Follow(const ValueView& value, PageId page,
                                            const std::string& where) = 0;
};

}  // namespace pagefs
