// The error vocabulary: every code once in kAllErrorCodes with its own name,
// system errors classified by FromErrno, and the one closed-store message.
#include "pager/util/error.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <string>

namespace pagefs {
namespace {

TEST(ErrorCodes, EveryCodeIsListedOnceInDeclarationOrder) {
  // kStale is the last enumerator: a code added after it must extend the list.
  constexpr size_t kCount = static_cast<size_t>(ErrorCode::kStale) + 1;
  ASSERT_EQ(std::size(kAllErrorCodes), kCount);
  for (size_t i = 0; i < kCount; ++i) EXPECT_EQ(static_cast<size_t>(kAllErrorCodes[i]), i);
}

TEST(ErrorCodes, EveryCodeHasItsOwnName) {
  std::set<std::string> names;
  for (ErrorCode code : kAllErrorCodes) {
    const std::string name = ErrorCodeName(code);
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << name << " names two codes";
  }
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kOutOfRange), "out-of-range");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kTooLarge), "too-large");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kExists), "exists");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kNotAllowed), "not-allowed");
}

TEST(ErrorFromErrno, AFullDeviceIsNoSpaceAndKeepsItsErrno) {
  for (int err : {ENOSPC, EDQUOT}) {
    const Error e = Error::FromErrno(err, "write segment-00001.pfs");
    EXPECT_EQ(e.code(), ErrorCode::kNoSpace);
    EXPECT_EQ(e.sys_errno(), err);
  }
}

TEST(ErrorFromErrno, AStaleHandleIsStale) {
  const Error e = Error::FromErrno(ESTALE, "read page 3 through the mount");
  EXPECT_EQ(e.code(), ErrorCode::kStale);
  EXPECT_EQ(e.sys_errno(), ESTALE);
}

TEST(ErrorFromErrno, AnyOtherFailedCallIsIoWithItsErrnoAndReason) {
  for (int err : {EIO, EACCES, ENOENT, EEXIST, EFBIG, EBADF, ENOTDIR}) {
    const Error e = Error::FromErrno(err, "open /srv/db/p/LOCK");
    EXPECT_EQ(e.code(), ErrorCode::kIo) << err;
    EXPECT_EQ(e.sys_errno(), err);
    EXPECT_EQ(std::string(e.what()), std::string("open /srv/db/p/LOCK: ") + std::strerror(err));
  }
}

TEST(ErrorCodes, ConditionsTheEngineFindsCarryNoErrno) {
  EXPECT_EQ(Error(ErrorCode::kExists, "page 3 exists").sys_errno(), 0);
  EXPECT_EQ(Error(ErrorCode::kTooLarge, "page 1<<40 is past the limit").sys_errno(), 0);
}

TEST(ErrorClosed, SaysWhichStoreIsClosed) {
  const Error e = Error::Closed("prefix 'data' of /srv/db");
  EXPECT_EQ(e.code(), ErrorCode::kClosed);
  EXPECT_STREQ(e.what(), "prefix 'data' of /srv/db is closed");
}

}  // namespace
}  // namespace pagefs
