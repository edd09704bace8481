// The remote network driver API (Docker's libnetwork "remote" protocol): one
// method per call, each taking the request's JSON and returning the
// response's. Errors come back as absl::Status; the server turns them into
// {"Err": "..."}. Calls are serialised, and every one that changes state
// holds vnet's control lock.
#ifndef VNET_DOCKER_DRIVER_H
#define VNET_DOCKER_DRIVER_H

#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "docker/network_options.h"
#include "docker/network_store.h"

namespace vnet::docker {

class Driver {
 public:
  explicit Driver(NetworkStore store) : store_(std::move(store)) {}

  // `method` is the URL path without its slash ("NetworkDriver.Join");
  // `driver` is the name the request came in under (its socket).
  // NotFound with "unknown call" for a method this driver does not know.
  absl::StatusOr<nlohmann::json> Call(const std::string& method, const nlohmann::json& request, DriverName driver);

 private:
  absl::StatusOr<nlohmann::json> CreateNetwork(const nlohmann::json& request, DriverName driver);
  absl::StatusOr<nlohmann::json> DeleteNetwork(const nlohmann::json& request);
  absl::StatusOr<nlohmann::json> CreateEndpoint(const nlohmann::json& request);
  absl::StatusOr<nlohmann::json> DeleteEndpoint(const nlohmann::json& request);
  absl::StatusOr<nlohmann::json> EndpointOperInfo(const nlohmann::json& request);
  absl::StatusOr<nlohmann::json> Join(const nlohmann::json& request);
  absl::StatusOr<nlohmann::json> Leave(const nlohmann::json& request);

  NetworkStore store_;
  std::mutex mu_;
};

}  // namespace vnet::docker

#endif
