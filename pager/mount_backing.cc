#include "pager/mount_backing.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "pager/error.h"

namespace pagefs {

void MountBacking::Load(PageId first, uint8_t* buf) {
  const size_t want = page_size_;
  size_t done = 0;
  while (done < want) {
    ssize_t n = ::pread(fd_, buf + done, want - done,
                        static_cast<off_t>(first * page_size_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::FromErrno(errno, "read page " + std::to_string(first) + " through the mount");
    }
    if (n == 0) break;  // past the end of data: never-stored pages are zeros
    done += static_cast<size_t>(n);
  }
  if (done < want) std::memset(buf + done, 0, want - done);
}

void MountBacking::Store(PageId id, const uint8_t* buf) {
  size_t done = 0;
  while (done < page_size_) {
    ssize_t n = ::pwrite(fd_, buf + done, page_size_ - done,
                         static_cast<off_t>(id * page_size_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::FromErrno(errno, "write page " + std::to_string(id) + " through the mount");
    }
    if (n == 0) throw Error(ErrorCode::kIo, "short write of page " + std::to_string(id));
    done += static_cast<size_t>(n);
  }
}

}  // namespace pagefs
