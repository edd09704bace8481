#include "loader/tc_hook.h"

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "loader/links.h"
#include "loader/pins.h"

namespace vnet {

absl::StatusOr<TcHook> ParseTcHook(absl::string_view text) {
  if (text == "auto") return TcHook::kAuto;
  if (text == "tcx") return TcHook::kTcx;
  if (text == "cls_bpf") return TcHook::kClsBpf;
  return absl::InvalidArgumentError(absl::StrCat("--tc-hook '", text, "': want auto, tcx or cls_bpf"));
}

TcHook ResolveTcHook(TcHook requested) {
  if (requested != TcHook::kAuto) return requested;
  return KernelHasTcx() ? TcHook::kTcx : TcHook::kClsBpf;
}

absl::Status AttachTc(TcHook hook, TcDirection direction, int prog_fd, int ifindex, absl::string_view ifname,
                      const std::string& pin) {
  if (hook == TcHook::kClsBpf) return AttachClsBpf(prog_fd, ifindex, ifname, direction);
  VNET_ASSIGN_OR_RETURN(UniqueFd link, AttachTcx(prog_fd, ifindex, ifname, direction));
  return PinFd(link.get(), pin);
}

absl::Status DetachTc(TcHook hook, TcDirection direction, int ifindex, absl::string_view ifname,
                      const std::string& pin) {
  if (hook == TcHook::kClsBpf) {
    VNET_RETURN_IF_ERROR(DetachClsBpf(ifindex, ifname, direction));
    return Unpin(pin);  // nothing pinned; harmless if a stale pin exists
  }
  // Unpinning the only reference to a tcx link detaches it.
  return Unpin(pin);
}

void RecordTcHook(TcHook hook, vnet_config& config) {
  if (hook == TcHook::kClsBpf) config.flags |= VNET_FABRIC_F_CLS_BPF;
  else config.flags &= ~VNET_FABRIC_F_CLS_BPF;
}

TcHook FabricTcHook(const vnet_config& config) {
  return (config.flags & VNET_FABRIC_F_CLS_BPF) ? TcHook::kClsBpf : TcHook::kTcx;
}

const char* TcHookName(TcHook hook) { return hook == TcHook::kClsBpf ? "cls_bpf" : "tcx"; }

}  // namespace vnet
