// The networks Docker created on this driver, one small JSON file each
// (the CreateNetwork request as Docker sent it, re-decoded on every read) in
// a state directory. Docker never repeats CreateNetwork, neither after the
// driver restarts nor after dockerd does, so the request is kept; everything
// else (endpoints, ports) is read back from vnet's fabrics and port aliases.
#ifndef VNET_DOCKER_NETWORK_STORE_H
#define VNET_DOCKER_NETWORK_STORE_H

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "docker/network_options.h"

namespace vnet::docker {

struct NetworkRecord {
  DriverName driver = DriverName::kVnet;
  nlohmann::json request;       // CreateNetwork's body
  bool created_fabric = false;  // the driver attached the fabric: it detaches it with the last network
  NetworkConfig config;         // decoded from request
};

class NetworkStore {
 public:
  explicit NetworkStore(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  // Makes the directory (and its parents) when missing.
  absl::Status Init() const;
  // Written to a temporary file and renamed: a record is whole or absent.
  absl::Status Save(const NetworkRecord& record) const;
  // NotFound: "network ID: unknown to the vnet driver".
  absl::StatusOr<NetworkRecord> Load(const std::string& id) const;
  absl::Status Remove(const std::string& id) const;
  // Every readable record; unreadable files are reported on stderr and skipped.
  std::vector<NetworkRecord> List() const;

 private:
  std::string PathOf(const std::string& id) const;
  std::string dir_;
};

// A network ID is a file name here: Docker's are 64 hex digits.
absl::Status ValidateNetworkId(const std::string& id);

}  // namespace vnet::docker

#endif
