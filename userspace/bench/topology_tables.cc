// Topology::FillMacs and FillIps: the table-size cases' forwarding tables,
// filled the way each system is configured for that many entries.
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "bench/exec.h"
#include "bench/topology.h"
#include "base/errors.h"
#include "maps/fabric_maps.h"
#include "base/ip_address.h"

namespace vnet::bench {

namespace {

MacAddress Offset(const MacAddress& base, std::uint32_t i) {
  MacAddress m = base;
  std::uint32_t low = (base.bytes[3] << 16 | base.bytes[4] << 8 | base.bytes[5]) + i;
  m.bytes[3] = (low >> 16) & 0xff;
  m.bytes[4] = (low >> 8) & 0xff;
  m.bytes[5] = low & 0xff;
  return m;
}

}  // namespace

absl::StatusOr<std::string> Topology::FillMacs(const MacAddress& base, std::uint32_t n) {
  switch (system_) {
    case System::kVnet: {
      VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric_));
      VNET_ASSIGN_OR_RETURN(auto entry, maps.LookupMac(containers_[0].mac));
      if (!entry) return absl::InternalError("c1's MAC is not in vnet_macs");
      for (std::uint32_t i = 0; i < n; ++i) VNET_RETURN_IF_ERROR(maps.PutMac(Offset(base, i), *entry));
      return absl::StrCat(n, " vnet_macs entries (FabricMaps::PutMac) to c1; frames rotate over all");
    }
    case System::kBridge: {
      std::string path = absl::StrCat("/tmp/vnet-bench-fdb-", ::getpid(), ".batch");
      {
        std::ofstream f(path);
        for (std::uint32_t i = 0; i < n; ++i)
          f << "fdb replace " << Offset(base, i).ToString() << " dev " << host_ends_[0].name << " master static\n";
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
          f << "link add link up0 name mx" << i << " address " << Offset(base, i).ToString()
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
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric_));
  VNET_ASSIGN_OR_RETURN(IpAddress c1, IpAddress::Parse("198.18.0.11"));
  VNET_ASSIGN_OR_RETURN(auto entry, maps.LookupIp(c1));
  if (!entry) return absl::InternalError("c1's address 198.18.0.11 is not in vnet_ips");
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t a = base + i;
    const std::uint8_t b[4] = {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
                               static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)};
    VNET_RETURN_IF_ERROR(maps.PutIp(IpAddress::FromBytes(4, b), *entry));
  }
  return absl::StrCat(n, " vnet_ips entries (FabricMaps::PutIp, copies of c1's 198.18.0.11) to c1; "
                      "frames rotate over all destination IPs");
}

}  // namespace vnet::bench
