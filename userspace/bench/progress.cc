#include "bench/progress.h"

#include <unistd.h>

#include <cstdio>

namespace vnet::bench {
namespace {

bool Tty() {
  static const bool tty = ::isatty(2);
  return tty;
}

}  // namespace

void Progress(const std::string& line) {
  if (Tty()) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void ProgressDone() {
  if (Tty()) std::fprintf(stderr, "\r\033[K");
}

}  // namespace vnet::bench
