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
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "loader/errors.h"
#include "loader/unique_fd.h"

namespace vnet {

absl::Status SetGro(absl::string_view ifname, bool on) {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return ErrnoStatus(errno, "open ethtool socket for", ifname);
  ethtool_value value{};
  value.cmd = ETHTOOL_SGRO;
  value.data = on ? 1 : 0;
  ifreq ifr{};
  std::string name(ifname);
  if (name.size() >= IFNAMSIZ) return absl::InvalidArgumentError(absl::StrCat(ifname, ": device name too long"));
  std::memcpy(ifr.ifr_name, name.c_str(), name.size() + 1);
  ifr.ifr_data = reinterpret_cast<char*>(&value);
  if (::ioctl(sock.get(), SIOCETHTOOL, &ifr) != 0) return ErrnoStatus(errno, "enable GRO on", ifname);
  return absl::OkStatus();
}

absl::Status DisableIpv6(absl::string_view ifname) {
  std::string path = absl::StrCat("/proc/sys/net/ipv6/conf/", ifname, "/disable_ipv6");
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::OkStatus();  // kernel without IPv6
    return ErrnoStatus(errno, "disable IPv6 on", ifname);
  }
  UniqueFd owned(fd);
  if (::write(fd, "1", 1) != 1) return ErrnoStatus(errno, "disable IPv6 on", ifname);
  return absl::OkStatus();
}

}  // namespace vnet
