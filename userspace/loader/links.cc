#include "absl/strings/string_view.h"
#include "loader/links.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "base/unique_fd.h"

namespace vnet {
namespace {

// Not in Debian 12's UAPI headers (Linux 6.1); fixed kernel ABI values from 6.6.
constexpr int kBpfTcxIngress = 46;
constexpr int kBpfTcxEgress = 47;

bpf_tc_attach_point TcPoint(TcDirection direction) {
  return direction == TcDirection::kIngress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

// vnet's cls_bpf filter: handle "vn", high priority number so it runs after
// filters others installed at the usual priorities.
constexpr std::uint32_t kClsBpfHandle = 0x766e;
constexpr std::uint32_t kClsBpfPriority = 0xc000;

}  // namespace

absl::string_view XdpModeName(XdpMode mode) {
  switch (mode) {
    case XdpMode::kAuto: return "auto";
    case XdpMode::kNative: return "native";
    case XdpMode::kGeneric: return "generic";
    case XdpMode::kNone: return "none";
  }
  return "?";
}

absl::StatusOr<XdpAttachment> AttachXdp(int prog_fd, int ifindex, absl::string_view ifname, XdpMode mode) {
  auto attach = [&](std::uint32_t flags) {
    LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
    return bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
  };
  int fd = -1;
  XdpMode used = mode;
  if (mode == XdpMode::kNative || mode == XdpMode::kAuto) {
    fd = attach(XDP_FLAGS_DRV_MODE);
    used = XdpMode::kNative;
    if (fd < 0 && mode == XdpMode::kNative) return ErrnoStatus(fd, "attach native XDP on", ifname);
    // EBUSY means something else holds the hook: generic would not help.
    if (fd == -EBUSY || fd == -EEXIST) return ErrnoStatus(fd, "attach XDP on", ifname);
  }
  if (fd < 0) {
    fd = attach(XDP_FLAGS_SKB_MODE);
    used = XdpMode::kGeneric;
    if (fd < 0) return ErrnoStatus(fd, "attach generic XDP on", ifname);
  }
  return XdpAttachment{UniqueFd(fd), used};
}

absl::string_view TcDirectionName(TcDirection direction) {
  return direction == TcDirection::kIngress ? "ingress" : "egress";
}

absl::StatusOr<UniqueFd> AttachTcx(int prog_fd, int ifindex, absl::string_view ifname, TcDirection direction) {
  int type = direction == TcDirection::kIngress ? kBpfTcxIngress : kBpfTcxEgress;
  int fd = bpf_link_create(prog_fd, ifindex, static_cast<bpf_attach_type>(type), nullptr);
  if (fd < 0) return ErrnoStatus(fd, absl::StrCat("attach tcx ", TcDirectionName(direction), " on"), ifname);
  return UniqueFd(fd);
}

absl::Status AttachClsBpf(int prog_fd, int ifindex, absl::string_view ifname, TcDirection direction) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = TcPoint(direction));
  int err = bpf_tc_hook_create(&hook);
  if (err && err != -EEXIST) return ErrnoStatus(err, "create clsact qdisc on", ifname);
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = kClsBpfHandle, .priority = kClsBpfPriority);
  if ((err = bpf_tc_attach(&hook, &opts)))
    return ErrnoStatus(err, absl::StrCat("attach cls_bpf ", TcDirectionName(direction), " on"), ifname);
  return absl::OkStatus();
}

absl::Status DetachClsBpf(int ifindex, absl::string_view ifname, TcDirection direction) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = TcPoint(direction));
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kClsBpfHandle, .priority = kClsBpfPriority);
  int err = bpf_tc_detach(&hook, &opts);
  if (err && err != -ENOENT && err != -EINVAL)
    return ErrnoStatus(err, absl::StrCat("detach cls_bpf ", TcDirectionName(direction), " from"), ifname);
  return absl::OkStatus();
}

absl::Status AttachClsBpfAt(int prog_fd, int ifindex, absl::string_view ifname, TcDirection direction,
                            std::uint32_t handle, std::uint32_t priority) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = TcPoint(direction));
  int err = bpf_tc_hook_create(&hook);
  if (err && err != -EEXIST) return ErrnoStatus(err, "create clsact qdisc on", ifname);
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = handle, .priority = priority);
  if ((err = bpf_tc_attach(&hook, &opts)))
    return ErrnoStatus(err, absl::StrCat("attach cls_bpf ", TcDirectionName(direction), " on"), ifname);
  return absl::OkStatus();
}

absl::Status DetachClsBpfAt(int ifindex, absl::string_view ifname, TcDirection direction, std::uint32_t handle,
                            std::uint32_t priority) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = TcPoint(direction));
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
  int err = bpf_tc_detach(&hook, &opts);
  if (err && err != -ENOENT && err != -EINVAL && err != -ENODEV)
    return ErrnoStatus(err, absl::StrCat("detach cls_bpf ", TcDirectionName(direction), " from"), ifname);
  return absl::OkStatus();
}

absl::StatusOr<XdpState> QueryXdp(int ifindex, absl::string_view ifname) {
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  if (int err = bpf_xdp_query(ifindex, 0, &q)) return ErrnoStatus(err, "query XDP on", ifname);
  XdpState state;
  state.prog_id = q.prog_id;
  if (q.attach_mode == XDP_ATTACHED_SKB) state.mode = XdpMode::kGeneric;
  if (!state.prog_id) return state;
  int prog = bpf_prog_get_fd_by_id(state.prog_id);
  if (prog >= 0) {
    UniqueFd owned(prog);
    bpf_prog_info info{};
    std::uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(prog, &info, &len) == 0) state.prog_name = info.name;
  }
  // A link-attached program cannot be removed by a netlink detach; probing
  // with the expected-program check tells the two apart without changing anything.
  return state;
}

absl::Status DetachXdpProgram(int ifindex, absl::string_view ifname, const XdpState& state) {
  std::uint32_t flags = state.mode == XdpMode::kGeneric ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
  LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = -1);
  int old = bpf_prog_get_fd_by_id(state.prog_id);
  UniqueFd owned(old);
  if (old >= 0) {
    opts.old_prog_fd = old;
    flags |= XDP_FLAGS_REPLACE;
  }
  if (int err = bpf_xdp_detach(ifindex, flags, &opts))
    return ErrnoStatus(err, "remove foreign XDP program from", ifname);
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> HoldXdpProgram(absl::string_view ifname, const XdpState& state) {
  UniqueFd fd(bpf_prog_get_fd_by_id(state.prog_id));
  if (!fd.valid()) return ErrnoStatus(errno, "hold the XDP program on", ifname);
  return fd;
}

absl::Status RestoreXdpProgram(int ifindex, absl::string_view ifname, int prog_fd, const XdpState& state) {
  std::uint32_t flags =
      XDP_FLAGS_UPDATE_IF_NOEXIST | (state.mode == XdpMode::kGeneric ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
  if (bpf_xdp_attach(ifindex, prog_fd, flags, nullptr) != 0)
    return ErrnoStatus(errno, absl::StrCat("put XDP program '", state.prog_name, "' back on"), ifname);
  return absl::OkStatus();
}

absl::StatusOr<std::uint32_t> LinkProgramId(int link_fd, absl::string_view what) {
  bpf_link_info info{};
  std::uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0) return ErrnoStatus(errno, "inspect link", what);
  return info.prog_id;
}

absl::Status ReplaceLinkProgram(int link_fd, int new_prog_fd, absl::string_view what) {
  VNET_ASSIGN_OR_RETURN(std::uint32_t old_id, LinkProgramId(link_fd, what));
  UniqueFd old(bpf_prog_get_fd_by_id(old_id));
  if (!old.valid()) return ErrnoStatus(errno, "open current program of", what);
  LIBBPF_OPTS(bpf_link_update_opts, opts, .flags = BPF_F_REPLACE, .old_prog_fd = static_cast<std::uint32_t>(old.get()));
  if (int err = bpf_link_update(link_fd, new_prog_fd, &opts)) return ErrnoStatus(err, "replace program of", what);
  return absl::OkStatus();
}

absl::Status ReplaceClsBpf(int prog_fd, int ifindex, absl::string_view ifname, TcDirection direction) {
  return ReplaceClsBpfAt(prog_fd, ifindex, ifname, direction, kClsBpfHandle, kClsBpfPriority);
}

absl::Status ReplaceClsBpfAt(int prog_fd, int ifindex, absl::string_view ifname, TcDirection direction,
                             std::uint32_t handle, std::uint32_t priority) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = TcPoint(direction));
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE, .handle = handle,
              .priority = priority);
  if (int err = bpf_tc_attach(&hook, &opts))
    return ErrnoStatus(err, absl::StrCat("replace cls_bpf ", TcDirectionName(direction), " program on"), ifname);
  return absl::OkStatus();
}

bool KernelHasTcx() {
  // Asking for a tcx link with an invalid program fd fails with EBADF where
  // tcx exists and EINVAL where the attach type is unknown.
  int fd = bpf_link_create(-1, 1, static_cast<bpf_attach_type>(kBpfTcxIngress), nullptr);
  if (fd >= 0) {
    close(fd);
    return true;
  }
  return fd == -EBADF;
}

}  // namespace vnet
