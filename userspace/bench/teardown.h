// Stopping and tearing down: the flag the signal handlers set, and a registry
// of every namespace and fabric the benchmark created, so that the exit path
// removes what no Topology destructor got to (signals, errors).
#ifndef VNET_BENCH_TEARDOWN_H
#define VNET_BENCH_TEARDOWN_H

#include <atomic>
#include <string>

namespace vnet::bench {

// Set by SIGINT/SIGTERM: every loop checks it and unwinds (teardown runs).
extern std::atomic<bool> g_stop;

// Records a namespace that now exists.
void TrackNetns(const std::string& ns);
// Deletes the namespace if it still exists, and forgets it.
void RemoveTrackedNetns(const std::string& ns);

// Records a fabric attached in the host namespace `host`.
void TrackFabric(const std::string& fabric, const std::string& host);
// Detaches the fabric (unpins it by hand if detach fails), and forgets it.
void RemoveTrackedFabric(const std::string& fabric, const std::string& host);

// Everything created that still exists, for the exit path.
void CleanupAll();

}  // namespace vnet::bench

#endif
