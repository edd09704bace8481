#include "fabric/doctor.h"

#include <linux/bpf.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "fabric/registry.h"
#include "base/errors.h"
#include "loader/kernel_objects.h"
#include "loader/libbpf_log.h"
#include "loader/links.h"
#include "netlink/rtnl.h"
#include "netlink/xdp_features.h"

namespace vnet {
namespace {

bool PathExists(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0;
}

Capability Helper(const char* name, bpf_prog_type type, bpf_func_id id, const char* use) {
  bool has = KernelHasHelper(type, id);
  return {name, has, has ? use : absl::StrCat("not available: ", use, " will not work")};
}

}  // namespace

absl::StatusOr<DoctorReport> RunDoctor() {
  CaptureLibbpfLog();
  DoctorReport report;
  utsname u{};
  if (::uname(&u) == 0) report.kernel = absl::StrCat(u.sysname, " ", u.release, " ", u.machine);

  auto& caps = report.capabilities;
  bool root = ::geteuid() == 0;
  caps.push_back({"root", root, root ? "CAP_BPF and CAP_NET_ADMIN available" : "vnetctl needs root"});
  struct statfs fs {};
  bool bpffs = ::statfs("/sys/fs/bpf", &fs) == 0 && fs.f_type == BPF_FS_MAGIC;
  caps.push_back({"bpffs", bpffs, bpffs ? "mounted on /sys/fs/bpf" : "not mounted: vnetctl attach mounts it"});
  bool btf = PathExists("/sys/kernel/btf/vmlinux");
  caps.push_back({"btf", btf, btf ? "/sys/kernel/btf/vmlinux" : "no kernel BTF (not required by vnet)"});
  bool tcx = KernelHasTcx();
  caps.push_back({"tcx", tcx, tcx ? "tc programs attach as tcx links, next to other tc programs"
                                  : "no tcx: tc programs attach as cls_bpf filters (--tc-hook cls_bpf)"});
  caps.push_back(Helper("bpf_loop", BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_loop, "flooding to many ports"));
  caps.push_back(Helper("bpf_redirect_peer", BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_redirect_peer,
                        "port-to-port delivery straight into the peer netns"));
  caps.push_back(Helper("bpf_redirect_map (XDP)", BPF_PROG_TYPE_XDP, BPF_FUNC_redirect_map,
                        "XDP redirect from the uplink into ports"));
  caps.push_back(Helper("bpf_clone_redirect", BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_clone_redirect,
                        "broadcast and source-mode copies"));
  bool pktgen = PathExists("/proc/net/pktgen");
  caps.push_back({"pktgen", pktgen, pktgen ? "kernel pktgen available to vnet-bench"
                                           : "no kernel pktgen: vnet-bench uses its XDP live-frames generator"});
  for (const auto& c : caps)
    if (!c.ok && c.name != "btf" && c.name != "pktgen" && c.name != "bpffs") report.problems.push_back(c.detail);

  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(auto links, rtnl.ListLinks());
  auto features = QueryXdpFeatures();
  if (!features.ok()) report.problems.push_back(std::string(features.status().message()));
  for (const auto& link : links) {
    if (link.type != 1 /* ARPHRD_ETHER */) continue;
    DeviceReport dev;
    dev.name = link.name;
    dev.ifindex = link.ifindex;
    dev.kind = link.kind.empty() ? "device" : link.kind;
    if (features.ok()) {
      auto it = features->find(link.ifindex);
      std::uint64_t bits = it == features->end() ? 0 : it->second;
      dev.xdp_features = XdpFeatureNames(bits);
      dev.native_xdp = bits & kXdpBasic;
      dev.redirect_target = bits & kXdpNdoXmit;
    }
    auto xdp = QueryXdp(link.ifindex, link.name);
    if (xdp.ok() && xdp->prog_id)
      dev.xdp_program = absl::StrCat(xdp->prog_name, " (id ", xdp->prog_id, ", ", XdpModeName(xdp->mode), ")");
    if (auto m = FindMembership(static_cast<std::uint32_t>(link.ifindex))) {
      dev.fabric = m->fabric;
      dev.role = m->as_uplink ? "uplink" : "port";
    }
    if (features.ok() && !dev.native_xdp) dev.notes.push_back("no native XDP: as an uplink it runs generic XDP");
    if (dev.kind == "veth")
      dev.notes.push_back("veth: as an uplink, vnet runs in tc only by default (--xdp-mode auto): frames are skbs already");
    if (!dev.xdp_program.empty() && dev.role != "uplink")
      dev.notes.push_back("carries a foreign XDP program: attach needs --force to replace it");
    report.devices.push_back(std::move(dev));
  }
  return report;
}

}  // namespace vnet
