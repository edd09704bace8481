// vnet-docker: Docker's remote network driver for vnet (docs/docker.md).
// Serves in the foreground until SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "docker/args.h"
#include "docker/driver.h"
#include "docker/network_store.h"
#include "docker/server.h"

int main(int argc, char** argv) {
  using namespace vnet::docker;
  auto args = ParseArgs(std::vector<std::string>(argv + 1, argv + argc));
  if (!args.ok()) {
    std::fprintf(stderr, "vnet-docker: %s\n%s", std::string(args.status().message()).c_str(), Usage());
    return 2;
  }
  if (args->help) {
    std::fputs(Usage(), stdout);
    return 0;
  }
  NetworkStore store(args->state_dir);
  if (auto s = store.Init(); !s.ok()) {
    std::fprintf(stderr, "vnet-docker: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::vector<Listener> listeners;
  if (args->sockets.empty()) {
    auto passed = PassedSockets();
    if (!passed.ok()) {
      std::fprintf(stderr, "vnet-docker: %s\n", std::string(passed.status().message()).c_str());
      return 1;
    }
    listeners = *passed;
    if (listeners.empty()) args->sockets = {kDefaultSocket, kDefaultIpvlanSocket};
  }
  for (const auto& path : args->sockets) {
    auto l = BindSocket(path);
    if (!l.ok()) {
      std::fprintf(stderr, "vnet-docker: %s\n", std::string(l.status().message()).c_str());
      return 1;
    }
    listeners.push_back(*l);
  }
  // SIGTERM and SIGINT end the serving threads cleanly (the sockets bound
  // here are removed); they are blocked everywhere and waited for here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  Driver driver(store);
  Server server(driver, listeners);
  std::atomic<bool> finished = false;
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    // The servers may still be starting: stop until Run has returned.
    while (!finished) {
      server.Stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  auto s = server.Run();
  finished = true;
  if (!s.ok()) {
    std::fprintf(stderr, "vnet-docker: %s\n", std::string(s.message()).c_str());
    waiter.detach();
    return 1;
  }
  waiter.join();
  return 0;
}
