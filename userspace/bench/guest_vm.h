// One QEMU guest (TCG) for vnet-bench --guests: the guest kit's kernel and
// initramfs (tests/netns/vnetkit/guest.py builds them), one virtio-net NIC
// on a tap attached by name or on a macvtap whose character device QEMU gets
// as an open fd (as libvirt does), and commands run through the serial
// console: the kit's /init runs each line it reads and answers with the
// output and a line "END <status>".
#ifndef VNET_BENCH_GUEST_VM_H
#define VNET_BENCH_GUEST_VM_H

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace vnet::bench {

struct GuestKit {
  std::string kernel, initrd;  // vmlinuz; initrd.gz with iperf3 and its libraries
};

// The kit in `dir` (vmlinuz, initrd.gz) if given; else the kit's Python
// (python3 -m vnetkit.guest prepare) from the source tree of the meson build
// this binary belongs to makes it in BUILD/guest-kit-bench, with iperf3 and
// its libraries in the initramfs (the plain kit cached in BUILD/guest-kit,
// shared with the tests; the first run downloads the guest kernel).
absl::StatusOr<GuestKit> PrepareGuestKit(const std::string& dir);

struct GuestSpec {
  std::string name;     // for errors: "vnet guest"
  std::string netns;    // QEMU runs here (where the tap or macvtap is)
  std::string mac;      // the NIC's MAC
  std::string ip;       // eth0's "A.B.C.D/PLEN"
  std::string tap;      // a tap by name, or
  std::string macvtap;  // a macvtap device in netns
  int memory_mb = 256;  // the initramfs (iperf3's libcrypto mostly) lives in RAM
};

class GuestVm {
 public:
  static absl::StatusOr<std::unique_ptr<GuestVm>> Start(const GuestKit& kit, const GuestSpec& spec);
  // Ends QEMU (SIGTERM, then SIGKILL) and reaps it.
  ~GuestVm();
  GuestVm(const GuestVm&) = delete;
  GuestVm& operator=(const GuestVm&) = delete;

  // Until the kit's init says GUEST-READY (or an error, or the deadline).
  absl::Status WaitReady(double timeout_s);

  struct Result {
    int status = -1;
    std::string output;  // the command's lines, '\n'-terminated
  };
  // One shell command line in the guest.
  absl::StatusOr<Result> Run(const std::string& command, double timeout_s);

  // QEMU's CPU time so far, all its threads, in seconds: user (TCG's
  // emulation, mostly) and system (the host kernel's work in QEMU's
  // context: the tap's or macvtap's receive and transmit paths, and what
  // runs synchronously from them, the switch included).
  struct CpuTimes {
    double user = 0, sys = 0;
  };
  CpuTimes Cpu() const;
  const std::string& name() const { return name_; }

 private:
  GuestVm() = default;
  absl::StatusOr<std::string> NextLine(std::chrono::steady_clock::time_point deadline);
  std::string Tail() const;

  std::string name_;
  pid_t pid_ = -1;
  UniqueFd to_guest_, from_guest_;  // QEMU's stdin; its stdout and stderr
  std::string pending_;            // read but not yet a whole line
  std::deque<std::string> tail_;   // the last console lines, for errors
};

}  // namespace vnet::bench

#endif
