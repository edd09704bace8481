#include "bench/json_out.h"

#include <sys/utsname.h>

#include <ctime>
#include <fstream>

#include "absl/strings/str_format.h"

namespace vnet::bench {

using nlohmann::json;

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string s;
  std::getline(f, s);
  return s;
}

json RunHeader(const Config& cfg, const std::string& gen_note) {
  utsname u{};
  ::uname(&u);
  char date[64];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return json{{"kernel", u.release},
              {"date", date},
              {"command", cfg.command},
              {"cpus", cfg.cpus},
              {"generator", gen_note},
              {"generator_requested", cfg.generator},
              {"generator_used", cfg.kernel_pktgen ? "pktgen" : "vnet-pktgen"},
              {"reps", cfg.reps},
              {"duration_s", cfg.duration},
              {"quick", cfg.quick},
              {"cpu_mode", cfg.split ? "split" : "shared"},
              {"cpu_layout", cfg.split ? absl::StrFormat("generator on CPU %d; the uplink's NAPI thread (and "
                                                         "all the softirq work it triggers) on CPU %d "
                                                         "(wire-originated paths); port-originated paths: all "
                                                         "on CPU %d",
                                                         cfg.gen_cpu, cfg.rx_cpu, cfg.gen_cpu)
                                       : absl::StrFormat("generator and datapath on CPU %d", cfg.gen_cpu)},
              {"loadavg_before", LoadAverage()}};
}

void WriteJson(const std::string& path, const json& doc) {
  std::ofstream f(path);
  f << doc.dump(2) << '\n';
}

}  // namespace vnet::bench
