#include "absl/strings/string_view.h"
#include "netlink/device_tuning.h"

#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/errors.h"
#include "base/unique_fd.h"

namespace vnet {

namespace {

// One legacy ethtool flag (ETHTOOL_SGRO, ETHTOOL_STSO, ...) on or off.
absl::Status SetEthtoolFlag(std::uint32_t cmd, absl::string_view ifname, bool on, absl::string_view step) {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return ErrnoStatus(errno, "open ethtool socket for", ifname);
  ethtool_value value{};
  value.cmd = cmd;
  value.data = on ? 1 : 0;
  ifreq ifr{};
  std::string name(ifname);
  if (name.size() >= IFNAMSIZ) return absl::InvalidArgumentError(absl::StrCat(ifname, ": device name too long"));
  std::memcpy(ifr.ifr_name, name.c_str(), name.size() + 1);
  ifr.ifr_data = reinterpret_cast<char*>(&value);
  if (::ioctl(sock.get(), SIOCETHTOOL, &ifr) != 0) return ErrnoStatus(errno, step, ifname);
  return absl::OkStatus();
}

}  // namespace

absl::Status SetGro(absl::string_view ifname, bool on) {
  return SetEthtoolFlag(ETHTOOL_SGRO, ifname, on, on ? "enable GRO on" : "disable GRO on");
}

absl::Status SetTso(absl::string_view ifname, bool on) {
  return SetEthtoolFlag(ETHTOOL_STSO, ifname, on, on ? "enable TSO on" : "disable TSO on");
}

namespace {

// /proc/sys/net/... as the calling thread's netns sees it. NotFound when the
// file is missing (a kernel without IPv6).
absl::Status WriteSysctl(const std::string& path, absl::string_view value, absl::string_view step,
                         absl::string_view ifname) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? absl::NotFoundError(path) : ErrnoStatus(errno, step, ifname);
  UniqueFd owned(fd);
  if (::write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size()))
    return ErrnoStatus(errno, step, ifname);
  return absl::OkStatus();
}

std::string ReadSysctl(const std::string& path) {
  char buf[16] = {};
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid() || ::read(fd.get(), buf, sizeof(buf) - 1) <= 0) return "";
  return std::string(buf, strnlen(buf, sizeof(buf))).substr(0, 1);
}

absl::Status SetIpv6Disabled(absl::string_view ifname, bool disabled) {
  auto status = WriteSysctl(absl::StrCat("/proc/sys/net/ipv6/conf/", ifname, "/disable_ipv6"), disabled ? "1" : "0",
                            disabled ? "disable IPv6 on" : "enable IPv6 on", ifname);
  return absl::IsNotFound(status) ? absl::OkStatus() : status;  // kernel without IPv6
}

}  // namespace

absl::Status DisableIpv6(absl::string_view ifname) { return SetIpv6Disabled(ifname, true); }

absl::Status EnableIpv6(absl::string_view ifname) { return SetIpv6Disabled(ifname, false); }

absl::Status SetAddrGenModeEui64(absl::string_view ifname) {
  auto status = WriteSysctl(absl::StrCat("/proc/sys/net/ipv6/conf/", ifname, "/addr_gen_mode"), "0",
                            "set IPv6 addr_gen_mode eui64 on", ifname);
  return absl::IsNotFound(status) ? absl::OkStatus() : status;
}

bool Ipv6Disabled(absl::string_view ifname) {
  std::string value = ReadSysctl(absl::StrCat("/proc/sys/net/ipv6/conf/", ifname, "/disable_ipv6"));
  return value != "0";  // "1", or no IPv6 in this kernel at all
}

absl::StatusOr<bool> SetForwarding(absl::string_view ifname, bool on) {
  bool changed = false;
  // IPv6 forwards per device only with force_forwarding (Linux 6.17+); its
  // per-device "forwarding" alone changes router behaviour, not forwarding.
  for (const char* knob : {"ipv4/conf/%s/forwarding", "ipv6/conf/%s/forwarding", "ipv6/conf/%s/force_forwarding"}) {
    std::string family = absl::StrContains(knob, "ipv6") ? "ipv6" : "ipv4";
    std::string path = absl::StrCat("/proc/sys/net/", absl::StrReplaceAll(knob, {{"%s", ifname}}));
    std::string want = on ? "1" : "0";
    if (ReadSysctl(path) == want) continue;
    auto status = WriteSysctl(path, want, absl::StrCat("set ", family, " forwarding on"), ifname);
    if (absl::IsNotFound(status)) continue;
    VNET_RETURN_IF_ERROR(status);
    changed = true;
  }
  return changed;
}

}  // namespace vnet
