#include "fabric/link_presence.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>

namespace vnet {

LinkPresence::LinkPresence() : sock_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}

bool LinkPresence::Exists(std::uint32_t ifindex) const {
  ifreq req{};
  req.ifr_ifindex = static_cast<int>(ifindex);
  if (!sock_.valid()) return if_indextoname(ifindex, req.ifr_name) != nullptr || errno != ENXIO;
  return ::ioctl(sock_.get(), SIOCGIFNAME, &req) == 0 || errno != ENODEV;
}

}  // namespace vnet
