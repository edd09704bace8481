// The source rules of checked ports in the reference model (issue 10, hole 2
// and "IP anti-spoofing for MAC ports"): which ARP, IPv4 and IPv6 sources a
// port may use, given which addresses it owns.
#ifndef VNET_TESTS_FUZZ_MODEL_SOURCE_H
#define VNET_TESTS_FUZZ_MODEL_SOURCE_H

#include <functional>
#include <optional>
#include <string>

#include "model_parse.h"

namespace vnet::fuzz {

// The drop reason for a frame the port may not send, with `why` filled in.
std::optional<Reason> SourceCheck(const Bytes& f, const parse::L2& l2, const parse::L3& l3,
                                  const std::function<bool(const Addr&)>& owns, std::string& why);

}  // namespace vnet::fuzz

#endif
