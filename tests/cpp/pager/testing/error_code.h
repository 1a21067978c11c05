// CodeOf: the ErrorCode of the pagefs::Error a call throws, for tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "pager/util/error.h"

namespace pagefs {

// Runs fn and returns the code of the Error it throws (fails if none);
// message, if given, receives what() of the error.
template <typename Fn>
ErrorCode CodeOf(Fn&& fn, std::string* message = nullptr) {
  try {
    fn();
  } catch (const Error& e) {
    if (message != nullptr) *message = e.what();
    return e.code();
  }
  ADD_FAILURE() << "no error thrown";
  return ErrorCode::kFailed;
}

}  // namespace pagefs
