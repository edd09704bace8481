#include "netlink/link_events.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "base/errors.h"

namespace vnet {

absl::StatusOr<LinkEvents> LinkEvents::Subscribe() {
  UniqueFd sock(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
  if (!sock.valid()) return ErrnoStatus(errno, "open", "rtnetlink monitor socket");
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return ErrnoStatus(errno, "subscribe to", "link events");
  return LinkEvents(std::move(sock));
}

absl::StatusOr<bool> LinkEvents::WaitForChange(int timeout_ms) {
  pollfd pfd{sock_.get(), POLLIN, 0};
  int n = ::poll(&pfd, 1, timeout_ms);
  if (n < 0 && errno != EINTR) return ErrnoStatus(errno, "wait for", "link events");
  if (n <= 0) return false;
  // The content does not matter: any change means a full sync.
  bool changed = false;
  while (::recv(sock_.get(), buf_.data(), buf_.size(), 0) > 0) changed = true;
  if (errno == ENOBUFS) changed = true;  // overflowed: a full sync covers it
  return changed;
}

}  // namespace vnet
