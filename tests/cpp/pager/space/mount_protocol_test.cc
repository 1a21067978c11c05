#include "pager/space/mount_protocol.h"

#include <gtest/gtest.h>

#include <cstring>

namespace pagefs {
namespace {

TEST(MountProtocolTest, SpaceInfoIsFortyLittleEndianBytesWithAMagic) {
  static_assert(sizeof(SpaceInfoArg) == SpaceInfo::kBytes);
  EXPECT_EQ(_IOC_SIZE(kIoctlSpaceInfo), SpaceInfo::kBytes);
  const SpaceInfo info{16384, 0x0102030405060708ull, 77, 4242};
  uint8_t raw[SpaceInfo::kBytes];
  EncodeSpaceInfo(info, raw);
  EXPECT_EQ(std::memcmp(raw, "PFSINFO1", 8), 0);
  EXPECT_EQ(raw[8], 0x00);  // 16384 = 0x4000, little-endian
  EXPECT_EQ(raw[9], 0x40);
  EXPECT_EQ(raw[16], 0x08);  // the epoch's low byte first
  EXPECT_EQ(raw[23], 0x01);
  EXPECT_EQ(GetLe64(raw + 24), 77u);
  EXPECT_EQ(GetLe64(raw + 32), 4242u);
  SpaceInfo back;
  ASSERT_TRUE(DecodeSpaceInfo(raw, back));
  EXPECT_EQ(back, info);
  raw[0] ^= 1;  // not a record: refused, not misread
  EXPECT_FALSE(DecodeSpaceInfo(raw, back));
  EXPECT_EQ(DescribeMountWriter(4242), "process 4242 through the mount");
}

}  // namespace
}  // namespace pagefs
