// TempFolder: a folder of one test's own, TMPDIR/pagefs-<what>-<pid>-<test>,
// absent when the test starts (what an earlier run left is removed) and
// removed when the fixture goes. Not made: a test makes it or lets the code
// under test do so.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace pagefs {

class TempFolder {
 public:
  explicit TempFolder(const std::string& what)
      : path_(std::filesystem::temp_directory_path() /
              ("pagefs-" + what + "-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(path_);
  }
  ~TempFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  const std::filesystem::path path_;
};

}  // namespace pagefs
