// Helper BPF programs that are not vnet's datapath (the benchmark's frame
// generator, its counting sink and its bare-redirect floor): load one program
// of an ELF object, set its globals, read its per-CPU counters and run it with
// BPF_PROG_RUN. The libbpf calls stay here, in the loader.
#ifndef VNET_LOADER_AUX_PROGRAM_H
#define VNET_LOADER_AUX_PROGRAM_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct bpf_object;
struct bpf_program;

namespace vnet {

class AuxProgram {
 public:
  // Opens the ELF object in memory (e.g. a bpftool skeleton's elf_bytes;
  // `object_name` names it in errors) and loads `program` alone: the
  // object's other programs are not loaded.
  static absl::StatusOr<AuxProgram> Load(const void* elf, std::size_t size, absl::string_view object_name,
                                         absl::string_view program);
  AuxProgram(AuxProgram&& other) noexcept;
  AuxProgram& operator=(AuxProgram&& other) noexcept;
  AuxProgram(const AuxProgram&) = delete;
  AuxProgram& operator=(const AuxProgram&) = delete;
  ~AuxProgram();

  int fd() const;
  const std::string& name() const { return program_name_; }

  // Writes the global variable `name` of the loaded object's .bss (the
  // running program sees it at once); `size` must be the variable's.
  absl::Status SetGlobal(absl::string_view name, const void* value, std::size_t size);
  template <typename T>
  absl::Status SetGlobal(absl::string_view name, const T& value) {
    return SetGlobal(name, &value, sizeof(T));
  }

  // The values of entry `key` of the per-CPU array `map`, one
  // `value_size`-byte value per possible CPU, back to back.
  absl::StatusOr<std::vector<std::uint8_t>> LookupPerCpu(absl::string_view map, std::uint32_t key,
                                                         std::size_t value_size) const;

  // BPF_PROG_RUN of an XDP program in live-frames mode: `frame` sent
  // `repeat` times as if received on `ifindex` (queue 0). Returns the
  // kernel's average time per run in nanoseconds.
  absl::StatusOr<std::uint32_t> RunXdpLiveFrames(const std::vector<std::uint8_t>& frame, std::uint32_t ifindex,
                                                 std::uint32_t repeat) const;

 private:
  AuxProgram(bpf_object* obj, bpf_program* prog, std::string name)
      : obj_(obj), prog_(prog), program_name_(std::move(name)) {}
  bpf_object* obj_ = nullptr;
  bpf_program* prog_ = nullptr;
  std::string program_name_;
};

}  // namespace vnet

#endif
