// Names for base::Error values.
#include "src/base/result.h"

namespace base {

const char* error_name(Error e) {
  switch (e) {
    case Error::kInvalidArgument:
      return "invalid argument";
    case Error::kOutOfMemory:
      return "out of memory";
    case Error::kOutOfRange:
      return "out of range";
    case Error::kNotFound:
      return "not found";
    case Error::kAlreadyExists:
      return "already exists";
    case Error::kMalformed:
      return "malformed";
    case Error::kUnsupported:
      return "unsupported";
    case Error::kBusy:
      return "busy";
    case Error::kTimedOut:
      return "timed out";
    case Error::kAgain:
      return "try again";
    case Error::kFault:
      return "fault";
    case Error::kCancelled:
      return "cancelled";
  }
  return "unknown error";
}

}  // namespace base
