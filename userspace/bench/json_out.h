// The JSON document --json writes: the run's header (machine, command,
// generator, CPU layout, load) here; main adds the cases, TCP and targets.
#ifndef VNET_BENCH_JSON_OUT_H
#define VNET_BENCH_JSON_OUT_H

#include <string>

#include <nlohmann/json.hpp>

#include "bench/options.h"

namespace vnet::bench {

// The header: kernel, date, command, cpus, generator (`gen_note`), reps,
// duration, CPU mode and layout, and the load average before the run.
nlohmann::json RunHeader(const Config& cfg, const std::string& gen_note);

// /proc/loadavg's line, for loadavg_before and loadavg_after.
std::string LoadAverage();

// Writes `doc`, indented, to `path`.
void WriteJson(const std::string& path, const nlohmann::json& doc);

}  // namespace vnet::bench

#endif
