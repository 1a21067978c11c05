// Checker: `pagefs check`, the read-only verification of one prefix, for use
// after a crash or a disk error. It opens the prefix as a read-only Store
// (so it reads exactly one commit and writes nothing) and checks, for that
// commit:
//
// 1. the page table: every node's checksum (walked from the superblock, not
//    trusted from memory), every entry in range, no slot used twice, none of
//    the superblock slots nor past the end of the segments;
// 2. every stored data page's checksum (read in runs of adjacent slots);
// 3. every collection, reached from the root map and the orphan list and
//    through the references their values hold: its header, then its kind's
//    own structure, through the verify hook the kind registered
//    (kind_registry.h, collection_check.h): for the list, its counted B+tree
//    (docs/list_format.md: types, counts, heights, offsets, every value
//    decodes, strs are UTF-8, blob chains are whole); for the root map, the
//    same and its keys (strs, strictly ascending);
// 4. the heap's bookkeeping (docs/collections.md): each stored refcount
//    against the references found, the orphan list (links both ways, every
//    member unreferenced, every unreferenced collection a member);
// 5. accounting: every page the table holds is reached exactly once. Pages
//    of collections that only a reference cycle keeps (which the heap never
//    collects, by design) are counted and noted, not reported as damage.
//
// Problems are collected, not thrown: one damaged page does not hide the
// rest. Errors that stop the check (the prefix does not exist, is not a
// store, the root is a mount) are thrown as Error.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pager/util/page.h"

namespace pagefs {

class KindRegistry;

struct CheckProblem {
  // What is wrong, one word: "open", "table", "slot", "checksum", "io",
  // "page", "header", "list", "value", "blob", "root_map", "refcount",
  // "orphan", "leak".
  std::string kind;
  PageId page = kNoPage;        // the page it was found on, kNoPage for none
  PageId collection = kNoPage;  // the collection that page belongs to, if known
  std::string message;          // what and where, in words
};

struct CheckReport {
  std::string prefix;
  uint64_t epoch = 0;
  uint32_t page_size = 0;
  uint64_t page_count = 0;     // one past the highest page id of the commit
  uint64_t table_nodes = 0;    // page-table nodes verified
  uint64_t pages = 0;          // stored data pages (each checksum verified)
  uint64_t pages_reached = 0;  // of those, reached from a collection
  uint64_t lists = 0;
  std::map<std::string, uint64_t> collections_by_kind;  // by kind name ("list", "root map")
  bool root_map = false;
  uint64_t root_names = 0;
  uint64_t values = 0;   // values decoded, over every collection
  uint64_t orphans = 0;  // collections on the orphan list
  // Kept only by a reference cycle (not damage); counted only when the walk
  // from the roots met no damage (else a note says what is unreached).
  uint64_t cycle_collections = 0;
  uint64_t cycle_pages = 0;
  uint64_t pages_lost = 0;             // pages a collection needs that could not be read (damaged)
  std::vector<std::string> notes;      // what the check could not decide, and why
  std::vector<CheckProblem> problems;  // at most CheckOptions::max_problems
  uint64_t problems_omitted = 0;       // found past that cap
  bool ok() const { return problems.empty() && problems_omitted == 0; }
};

struct CheckProgress {
  const char* phase;  // "checksums" (table and data pages), then "structure"
  uint64_t done;      // pages (ids for "checksums") dealt with so far
  uint64_t total;
};
// Called now and then (at most once per page-table leaf or 256 pages). It may
// throw to abandon the check; the exception propagates.
using CheckProgressFn = std::function<void(const CheckProgress&)>;

struct CheckOptions {
  uint64_t cache_size = 16ull << 20;  // the read-only store's budget
  size_t max_problems = 1000;
  // The collection kinds to verify (StoreOptions::kinds); nullptr: BuiltinKinds().
  const KindRegistry* kinds = nullptr;
  // s3://BUCKET[/PREFIX]: check the remote store there (StoreOptions::remote),
  // every page fetched from the bucket; ROOT then holds only the local cache.
  std::string remote;
  uint64_t local_cache_size = 64ull << 20;
};

// Checks ROOT/PREFIX. A prefix that holds data but cannot be opened because
// its stored bytes are wrong (no valid superblock, a damaged upper table
// node) is a report with one "open" problem. Throws Error(kNotFound) for a
// missing prefix, Error(kInvalidArgument) for a bad prefix or when root is a
// pagefs mount (the check reads the segments: run it on the store's root
// folder, which the message names), and what Store::Open throws otherwise.
CheckReport CheckPrefix(const std::string& root, const std::string& prefix,
                        const CheckOptions& options = {},
                        const CheckProgressFn& progress = nullptr);

// The prefixes of root: its store folders (ListStoreFolders,
// pager/store_folders.h), sorted. Throws Error(kNotFound) when root is not a folder,
// Error(kInvalidArgument) when it is a pagefs mount (as CheckPrefix).
std::vector<std::string> FindPrefixes(const std::string& root);

}  // namespace pagefs
