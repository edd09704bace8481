#include "loader/aux_program.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/errors.h"

// Debian 12's UAPI headers (Linux 6.1) have it; older ones may not.
#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

namespace vnet {

absl::StatusOr<AuxProgram> AuxProgram::Load(const void* elf, std::size_t size, absl::string_view object_name,
                                            absl::string_view program) {
  std::string name(object_name);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name.c_str());
  bpf_object* obj = bpf_object__open_mem(elf, size, &opts);
  if (!obj) return ErrnoStatus(errno, "open BPF object", name);
  bpf_program* keep = bpf_object__find_program_by_name(obj, std::string(program).c_str());
  if (!keep) {
    bpf_object__close(obj);
    return absl::NotFoundError(absl::StrCat("BPF object ", name, " has no program ", program));
  }
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) bpf_program__set_autoload(prog, prog == keep);
  if (int err = bpf_object__load(obj)) {
    bpf_object__close(obj);
    return ErrnoStatus(err, "load", absl::StrCat(name, ":", program));
  }
  return AuxProgram(obj, keep, std::string(program));
}

AuxProgram::AuxProgram(AuxProgram&& other) noexcept
    : obj_(std::exchange(other.obj_, nullptr)),
      prog_(std::exchange(other.prog_, nullptr)),
      program_name_(std::move(other.program_name_)) {}

AuxProgram& AuxProgram::operator=(AuxProgram&& other) noexcept {
  if (this != &other) {
    if (obj_) bpf_object__close(obj_);
    obj_ = std::exchange(other.obj_, nullptr);
    prog_ = std::exchange(other.prog_, nullptr);
    program_name_ = std::move(other.program_name_);
  }
  return *this;
}

AuxProgram::~AuxProgram() {
  if (obj_) bpf_object__close(obj_);
}

int AuxProgram::fd() const { return prog_ ? bpf_program__fd(prog_) : -1; }

absl::Status AuxProgram::SetGlobal(absl::string_view name, const void* value, std::size_t size) {
  // The variable's place in .bss comes from the object's BTF (its DATASEC).
  bpf_map* bss = nullptr;
  bpf_map* m;
  bpf_object__for_each_map(m, obj_) {
    const char* n = bpf_map__name(m);
    std::size_t len = std::strlen(n);
    if (len >= 4 && std::strcmp(n + len - 4, ".bss") == 0) bss = m;
  }
  if (!bss) return absl::NotFoundError(absl::StrCat(program_name_, ": no .bss for global ", name));
  // Read, patch and write back the map's one value: this reaches the loaded
  // program whatever libbpf does with its own copy of .bss.
  const std::size_t value_size = bpf_map__value_size(bss);
  std::vector<std::uint8_t> mem(value_size);
  std::uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(bss), &zero, mem.data()) != 0)
    return ErrnoStatus(errno, "read .bss of", program_name_);
  const btf* b = bpf_object__btf(obj_);
  if (!b) return absl::FailedPreconditionError(absl::StrCat(program_name_, ": no BTF"));
  int sec_id = btf__find_by_name_kind(b, ".bss", BTF_KIND_DATASEC);
  if (sec_id < 0) return absl::NotFoundError(absl::StrCat(program_name_, ": no .bss section in BTF"));
  const btf_type* sec = btf__type_by_id(b, sec_id);
  const btf_var_secinfo* vars = btf_var_secinfos(sec);
  for (int i = 0; i < btf_vlen(sec); ++i) {
    const btf_type* var = btf__type_by_id(b, vars[i].type);
    if (name != btf__name_by_offset(b, var->name_off)) continue;
    if (vars[i].size != size || vars[i].offset + size > value_size)
      return absl::InvalidArgumentError(
          absl::StrCat(program_name_, ": global ", name, " is ", vars[i].size, " bytes, given ", size));
    std::memcpy(mem.data() + vars[i].offset, value, size);
    if (bpf_map_update_elem(bpf_map__fd(bss), &zero, mem.data(), BPF_ANY) != 0)
      return ErrnoStatus(errno, absl::StrCat("write global ", name, " of"), program_name_);
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat(program_name_, ": no global ", name, " in .bss"));
}

absl::StatusOr<std::vector<std::uint8_t>> AuxProgram::LookupPerCpu(absl::string_view map, std::uint32_t key,
                                                                   std::size_t value_size) const {
  bpf_map* m = bpf_object__find_map_by_name(obj_, std::string(map).c_str());
  if (!m) return absl::NotFoundError(absl::StrCat(program_name_, ": no map ", map));
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return ErrnoStatus(-cpus, "count possible CPUs for", map);
  // The kernel copies each CPU's value rounded up to 8 bytes.
  std::size_t stride = (value_size + 7) / 8 * 8;
  std::vector<std::uint8_t> raw(stride * cpus);
  if (bpf_map_lookup_elem(bpf_map__fd(m), &key, raw.data()) != 0) return ErrnoStatus(errno, "look up", map);
  std::vector<std::uint8_t> out(value_size * cpus);
  for (int c = 0; c < cpus; ++c) std::memcpy(&out[c * value_size], &raw[c * stride], value_size);
  return out;
}

absl::StatusOr<std::uint32_t> AuxProgram::RunXdpLiveFrames(const std::vector<std::uint8_t>& frame,
                                                           std::uint32_t ifindex, std::uint32_t repeat) const {
  xdp_md ctx{};
  ctx.data = 0;
  ctx.data_end = static_cast<std::uint32_t>(frame.size());
  ctx.ingress_ifindex = ifindex;
  ctx.rx_queue_index = 0;
  LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame.data(), .data_size_in = static_cast<std::uint32_t>(frame.size()),
              .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = static_cast<int>(repeat),
              .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
  if (int err = bpf_prog_test_run_opts(fd(), &run)) return ErrnoStatus(err, "BPF_PROG_RUN (live frames)", program_name_);
  return run.duration;
}

}  // namespace vnet
