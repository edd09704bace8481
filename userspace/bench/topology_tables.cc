// Topology::FillMacs and FillIps: the table-size cases' forwarding tables,
// filled the way each system is configured for that many entries.
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "bench/exec.h"
#include "bench/topology.h"
#include "bench/vnet_driver.h"
#include "base/errors.h"

namespace vnet::bench {

absl::StatusOr<std::string> Topology::FillMacs(const MacAddress& base, std::uint32_t n) {
  switch (system_) {
    case System::kVnet: {
      VNET_RETURN_IF_ERROR(VnetDriver(host_).FillMacs(fabric_, containers_[0].mac, base, n));
      return absl::StrCat(n, " MAC table entries (copies of c1's) to c1; frames rotate over all");
    }
    case System::kBridge: {
      std::string path = absl::StrCat("/tmp/vnet-bench-fdb-", ::getpid(), ".batch");
      {
        std::ofstream f(path);
        for (std::uint32_t i = 0; i < n; ++i)
          f << "fdb replace " << OffsetMac(base, i).ToString() << " dev " << host_ends_[0].name << " master static\n";
      }
      auto r = Run({"bridge", "-n", host_, "-batch", path}, 600);
      ::unlink(path.c_str());
      VNET_RETURN_IF_ERROR(r.status());
      return absl::StrCat(n, " static FDB entries to c1's bridge port; frames rotate over all");
    }
    case System::kMacvlan: {
      if (n <= 1) return std::string("c1's own macvlan only");
      std::string path = absl::StrCat("/tmp/vnet-bench-mv-", ::getpid(), ".batch");
      {
        std::ofstream f(path);
        for (std::uint32_t i = 1; i < n; ++i) {
          f << "link add link up0 name mx" << i << " address " << OffsetMac(base, i).ToString()
            << " type macvlan mode bridge\n";
          f << "link set mx" << i << " up\n";
        }
      }
      auto r = Run({"ip", "-n", host_, "-batch", path}, 600);
      ::unlink(path.c_str());
      VNET_RETURN_IF_ERROR(r.status());
      return absl::StrCat(n - 1, " extra macvlan devices on up0 (one MAC each); frames go to c1's MAC");
    }
    case System::kFloor:
    case System::kFloorTc:
    case System::kVnetTc:
    case System::kVnetIpvlan:
      return std::string("no table");
  }
  return std::string();
}

absl::StatusOr<std::string> Topology::FillIps(std::uint32_t base, std::uint32_t n) {
  if (system_ != System::kVnetIpvlan) return absl::InvalidArgumentError("an IP table needs vnet-ipvlan");
  VNET_RETURN_IF_ERROR(VnetDriver(host_).FillIps(fabric_, "198.18.0.11", base, n));
  return absl::StrCat(n, " IP table entries (copies of c1's 198.18.0.11) to c1; "
                      "frames rotate over all destination IPs");
}

}  // namespace vnet::bench
