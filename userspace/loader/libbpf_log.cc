#include "loader/libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "base/errors.h"

namespace vnet {
namespace {

std::mutex mu;
std::string first_warning;  // the first warning is the cause; later ones are fallout
bool debug = false;

int OnLibbpfMessage(enum libbpf_print_level level, const char* format, va_list args) {
  char line[1024];
  va_list copy;
  va_copy(copy, args);
  std::vsnprintf(line, sizeof(line), format, copy);
  va_end(copy);
  if (debug) std::fputs(line, stderr);
  if (level == LIBBPF_WARN) {
    std::lock_guard<std::mutex> lock(mu);
    if (first_warning.empty()) {
      first_warning = line;
      while (!first_warning.empty() && (first_warning.back() == '\n' || first_warning.back() == ' '))
        first_warning.pop_back();
    }
  }
  return 0;
}

}  // namespace

void CaptureLibbpfLog() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("VNET_DEBUG");
    debug = env && *env && *env != '0';
    libbpf_set_print(OnLibbpfMessage);
  });
}

std::string TakeLibbpfWarning() {
  std::lock_guard<std::mutex> lock(mu);
  std::string out;
  out.swap(first_warning);
  return out;
}

absl::Status LibbpfError(int err, absl::string_view step, absl::string_view object) {
  absl::Status status = ErrnoStatus(err, step, object);
  std::string cause = TakeLibbpfWarning();
  if (cause.empty()) return status;
  return absl::Status(status.code(), absl::StrCat(status.message(), " (", cause, ")"));
}

}  // namespace vnet
