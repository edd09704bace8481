#include "bench/teardown.h"

#include <unistd.h>

#include <mutex>
#include <set>
#include <utility>

#include "bench/exec.h"
#include "bench/vnet_driver.h"

namespace vnet::bench {

std::atomic<bool> g_stop{false};

namespace {

std::mutex g_mu;
std::set<std::string> g_namespaces;
std::set<std::pair<std::string, std::string>> g_fabrics;  // (fabric, host netns)
void RemoveFabric(const std::string& fabric, const std::string& host) { RemoveVnetFabric(fabric, host); }

void RemoveNetns(const std::string& ns) {
  if (::access(("/run/netns/" + ns).c_str(), F_OK) == 0) Exec({"ip", "netns", "del", ns}, 60);
}

}  // namespace

void TrackNetns(const std::string& ns) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_namespaces.insert(ns);
}

void RemoveTrackedNetns(const std::string& ns) {
  RemoveNetns(ns);
  std::lock_guard<std::mutex> lock(g_mu);
  g_namespaces.erase(ns);
}

void TrackFabric(const std::string& fabric, const std::string& host) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_fabrics.insert({fabric, host});
}

void RemoveTrackedFabric(const std::string& fabric, const std::string& host) {
  RemoveFabric(fabric, host);
  std::lock_guard<std::mutex> lock(g_mu);
  g_fabrics.erase({fabric, host});
}

void CleanupAll() {
  std::set<std::string> namespaces;
  std::set<std::pair<std::string, std::string>> fabrics;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    namespaces.swap(g_namespaces);
    fabrics.swap(g_fabrics);
  }
  for (const auto& [fabric, host] : fabrics) RemoveFabric(fabric, host);
  for (const auto& ns : namespaces) RemoveNetns(ns);
}

}  // namespace vnet::bench
