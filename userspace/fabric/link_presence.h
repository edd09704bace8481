// Whether a device exists, cheaply: for checks over every port of a fabric.
#ifndef VNET_FABRIC_LINK_PRESENCE_H
#define VNET_FABRIC_LINK_PRESENCE_H

#include <cstdint>

#include "base/unique_fd.h"

namespace vnet {

// Asks the kernel by SIOCGIFNAME on one socket (one syscall per device, where
// a netlink lookup sends and parses a full link message).
class LinkPresence {
 public:
  LinkPresence();
  // Whether `ifindex` names a device in this netns; only ENODEV means gone.
  bool Exists(std::uint32_t ifindex) const;

 private:
  UniqueFd sock_;
};

}  // namespace vnet

#endif
