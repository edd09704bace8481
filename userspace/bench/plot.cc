#include "bench/plot.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "bench/exec.h"

namespace vnet::bench {

using nlohmann::json;

void Plot(const json& pps, const std::string& png) {
  std::string dat = png + ".dat", gp = png + ".gp";
  {
    std::ofstream f(dat);
    f << "# case vnet macvlan bridge floor vnet-tc floor-tc vnet-ipvlan\n";
    for (const auto& c : pps) {
      // One row per case and table size; columns per system.
      std::map<std::uint32_t, std::map<std::string, double>> rows;
      for (auto it = c["systems"].begin(); it != c["systems"].end(); ++it) {
        std::uint32_t macs = it.value().value("macs", 0u) + it.value().value("ips", 0u);
        const auto& med = it.value()["pps"]["median"];
        rows[macs][it.value()["system"].get<std::string>()] = med.is_null() ? 0 : med.get<double>() / 1e6;
      }
      for (auto& [macs, cols] : rows) {
        std::string label = absl::StrCat(c["path"].get<std::string>(), "-", c["size"].get<int>(), "B");
        if (macs) label = absl::StrCat(c["path"].get<std::string>(), "=", macs, "-", c["size"].get<int>(), "B");
        f << '"' << label << '"';
        for (const char* s : {"vnet", "macvlan", "bridge", "floor", "vnet-tc", "floor-tc", "vnet-ipvlan"}) f << ' ' << (cols.count(s) ? cols[s] : 0);
        f << '\n';
      }
    }
  }
  {
    std::ofstream f(gp);
    f << "set terminal pngcairo size 1400,600 noenhanced\n"
      << "set output '" << png << "'\n"
      << "set title 'vnet-bench: delivered Mpps per path (unknown: absorbed), median'\n"
      << "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
      << "set boxwidth 0.9\nset ylabel 'Mpps'\nset xtics rotate by -30 offset -1,0\nset bmargin 7\nset rmargin 6\n"
      << "set grid ytics\nset key top right\n"
      << "plot '" << dat << "' using 2:xtic(1) title 'vnet', '' using 3 title 'macvlan', "
      << "'' using 4 title 'bridge', '' using 5 title 'floor', '' using 6 title 'vnet-tc', "
      << "'' using 7 title 'floor-tc', '' using 8 title 'vnet-ipvlan'\n";
  }
  auto r = Exec({"gnuplot", gp}, 60);
  if (r.status != 0) {
    // pngcairo may be missing (gnuplot-nox has it; a minimal build may not).
    Exec({"sed", "-i", "s/pngcairo/png/", gp});
    r = Exec({"gnuplot", gp}, 60);
  }
  if (r.status != 0)
    std::fprintf(stderr, "vnet-bench: no plot (gnuplot: %s); install gnuplot-nox\n", r.output.c_str());
  ::unlink(dat.c_str());
  ::unlink(gp.c_str());
}

}  // namespace vnet::bench
