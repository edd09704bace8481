// A netlink request builder and attribute walker shared by the rtnetlink and
// generic netlink clients.
#ifndef VNET_NETLINK_NL_MESSAGE_H
#define VNET_NETLINK_NL_MESSAGE_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace vnet {

constexpr std::size_t Align(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

// Builds one netlink message; nested attributes are opened and closed in order.
class Message {
 public:
  Message(std::uint16_t type, std::uint16_t flags) {
    buf_.resize(NLMSG_HDRLEN);
    auto* h = header();
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  }
  template <typename T>
  void Put(const T& body) {
    Append(&body, sizeof(body));
  }
  void Attr(std::uint16_t type, const void* data, std::size_t len) {
    rtattr a{};
    a.rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    a.rta_type = type;
    Append(&a, sizeof(a));
    Append(data, len);
  }
  void AttrU32(std::uint16_t type, std::uint32_t v) { Attr(type, &v, sizeof(v)); }
  void AttrStr(std::uint16_t type, absl::string_view s) {
    std::string z(s);
    Attr(type, z.c_str(), z.size() + 1);
  }
  std::size_t Begin(std::uint16_t type) {
    std::size_t at = buf_.size();
    Attr(type, nullptr, 0);
    return at;
  }
  void End(std::size_t at) {
    auto* a = reinterpret_cast<rtattr*>(buf_.data() + at);
    a->rta_len = static_cast<unsigned short>(buf_.size() - at);
  }
  std::vector<std::uint8_t>& Finish() {
    header()->nlmsg_len = static_cast<std::uint32_t>(buf_.size());
    return buf_;
  }

 private:
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  void Append(const void* data, std::size_t len) {
    std::size_t at = buf_.size();
    buf_.resize(at + Align(len), 0);
    if (len) std::memcpy(buf_.data() + at, data, len);
  }
  std::vector<std::uint8_t> buf_;
};

// Walks rtattrs in [p, p+len), calling fn(type, data, len).
template <typename Fn>
void ForEachAttr(const std::uint8_t* p, std::size_t len, Fn fn) {
  while (len >= sizeof(rtattr)) {
    auto* a = reinterpret_cast<const rtattr*>(p);
    if (a->rta_len < sizeof(rtattr) || a->rta_len > len) return;
    fn(a->rta_type & NLA_TYPE_MASK, p + RTA_LENGTH(0), a->rta_len - RTA_LENGTH(0));
    std::size_t step = Align(a->rta_len);
    if (step >= len) return;
    p += step;
    len -= step;
  }
}

}  // namespace vnet

#endif
