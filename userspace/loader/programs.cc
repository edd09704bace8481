#include "loader/programs.h"

#include <bpf/libbpf.h>

#include <bpf/bpf.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "loader/libbpf_log.h"
#include "loader/pins.h"
#include "base/unique_fd.h"
#include "vnet/abi.h"
#include "port.skel.h"
#include "uplink.skel.h"

namespace vnet {

void FabricPrograms::UplinkDeleter::operator()(uplink_bpf* s) const { uplink_bpf__destroy(s); }
void FabricPrograms::PortDeleter::operator()(port_bpf* s) const { port_bpf__destroy(s); }

FabricPrograms::FabricPrograms(FabricPrograms&&) noexcept = default;
FabricPrograms& FabricPrograms::operator=(FabricPrograms&&) noexcept = default;
FabricPrograms::~FabricPrograms() = default;

absl::StatusOr<FabricPrograms> FabricPrograms::Load(const std::string& fabric) {
  CaptureLibbpfLog();
  (void)TakeLibbpfWarning();
  std::string pin_root = FabricPinDir(fabric);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root.c_str());
  FabricPrograms programs;

  programs.uplink_.reset(uplink_bpf__open_opts(&opts));
  if (!programs.uplink_) return LibbpfError(errno, "open uplink programs for fabric", fabric);
  // The devmap is pinned by hand (see bpf/lib/tx_map.h): reuse it if present.
  std::string tx_pin = FabricPinPath(fabric, VNET_MAP_TX);
  UniqueFd tx_fd(bpf_obj_get(tx_pin.c_str()));
  if (tx_fd.valid()) {
    if (int err = bpf_map__reuse_fd(programs.uplink_->maps.vnet_tx, tx_fd.get()))
      return ErrnoStatus(err, "reuse pinned map", tx_pin);
  }
  if (int err = uplink_bpf__load(programs.uplink_.get()))
    return LibbpfError(err, "load uplink programs for fabric", fabric);
  if (!tx_fd.valid()) {
    if (int err = bpf_map__pin(programs.uplink_->maps.vnet_tx, tx_pin.c_str()))
      return ErrnoStatus(err, "pin map", tx_pin);
  }

  programs.port_.reset(port_bpf__open_opts(&opts));
  if (!programs.port_) return LibbpfError(errno, "open port program for fabric", fabric);
  if (int err = port_bpf__load(programs.port_.get()))
    return LibbpfError(err, "load port program for fabric", fabric);
  return programs;
}

int FabricPrograms::uplink_xdp_fd() const { return bpf_program__fd(uplink_->progs.vnet_uplink_xdp); }
int FabricPrograms::uplink_tc_fd() const { return bpf_program__fd(uplink_->progs.vnet_uplink_tc); }
int FabricPrograms::uplink_egress_fd() const { return bpf_program__fd(uplink_->progs.vnet_uplink_egress); }
int FabricPrograms::port_tc_fd() const { return bpf_program__fd(port_->progs.vnet_port_tc); }

}  // namespace vnet
