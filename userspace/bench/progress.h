// The progress line on stderr: rewritten in place on a terminal, one line
// per step otherwise (logs, the test suite).
#ifndef VNET_BENCH_PROGRESS_H
#define VNET_BENCH_PROGRESS_H

#include <string>

namespace vnet::bench {

void Progress(const std::string& line);
// Clears the line, before a message of its own or the final table.
void ProgressDone();

}  // namespace vnet::bench

#endif
