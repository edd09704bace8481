// vnet-fuzz: the differential fuzzer. Random fabric configurations and
// frames go through the datapath programs with BPF_PROG_RUN (rig.h) and
// through the reference model (model.h); every disagreement is printed with
// how to replay it. Flags (after any --gtest_* ones):
//   --seconds N        time budget (default 60)
//   --master-seed S    seed of the whole run (default: random, printed)
//   --seed C           replay one configuration (its seed is printed on failure)
//   --case K           with --seed: only frame K of that configuration
//   --cut N            with --case: only that frame's truncation to N bytes
//   --frames N         frames per configuration (default 250)
//   --max-reports N    full reports printed per run (default 25; one per class first)
//   --verbose          print every case
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "gen.h"
#include "model.h"
#include "rig.h"

namespace vnet::fuzz {
namespace {

struct Flags {
  double seconds = 60;
  std::optional<std::uint64_t> master_seed, seed;
  std::optional<int> only_case, only_cut;
  int frames = 250;
  int max_reports = 25;
  bool verbose = false;
};
Flags g_flags;

std::uint64_t SplitMix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

struct Class {
  int count = 0;
  std::string replay;           // the first case found
  std::size_t min_size = 0;     // and the shortest frame of the class
  std::string min_replay, min_hex;
};

std::string ClassKey(Entry entry, const Outcome& model, const Observed& seen) {
  std::ostringstream os;
  const Outcome& o = seen.outcome;
  os << Name(entry) << ": model " << Name(model.fate);
  if (model.fate == Fate::kDrop) os << " " << Name(model.reason);
  os << " [" << model.why << "]; datapath " << Name(o.fate);
  if (o.fate == Fate::kDrop) os << " " << Name(o.reason);
  if (model.floods != o.floods) os << ", flood copies differ";
  if (model.source_copies != o.source_copies) os << ", source copies differ";
  if (o.ingress_copies >= 0 &&
      o.ingress_copies != static_cast<int>(model.host_copy) + static_cast<int>(model.reflect_copy))
    os << ", uplink-ingress copies differ";
  if (model.fate == Fate::kPort && o.fate == Fate::kPort && model.slot != o.slot) os << ", other port";
  if (!seen.extra.empty()) os << ", extra counters";
  if (model.fate == o.fate) {
    std::string answer = AnswerProblem(model, seen);
    if (!answer.empty()) os << ", " << answer;
  }
  return os.str();
}

TEST(Fuzz, DatapathAgreesWithModel) {
  Rig rig;
  rig.Start();
  std::uint64_t master = g_flags.master_seed ? *g_flags.master_seed : std::random_device{}() * 0x100000001ull;
  if (!g_flags.seed)
    std::printf("vnet-fuzz: master seed %llu (--master-seed %llu replays the run), budget %.0f s\n",
                static_cast<unsigned long long>(master), static_cast<unsigned long long>(master), g_flags.seconds);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(g_flags.seconds);
  long configs = 0, frames = 0, skipped = 0, disagreements = 0, reports = 0;
  std::map<std::string, Class> classes;

  for (std::uint64_t j = 0;; ++j) {
    std::uint64_t cseed = g_flags.seed ? *g_flags.seed : SplitMix(master + j);
    Gen gen(cseed);
    FabricConfig cfg = gen.Config();
    rig.Apply(cfg);
    ++configs;
    for (int k = 0; k < g_flags.frames; ++k) {
      Entry entry = gen.PickEntry();
      int from = entry == Entry::kPort ? gen.PickPort(cfg) : 0;
      Frame frame = gen.Make(cfg, entry, from);
      if (g_flags.only_case && k != *g_flags.only_case) continue;
      // A sweep runs the whole frame, then its truncation at every offset.
      std::vector<int> cuts{-1};
      if (frame.sweep)
        for (int n = 0; n < static_cast<int>(frame.bytes.size()); ++n) cuts.push_back(n);
      for (int cut : cuts) {
        if (g_flags.only_cut && cut != *g_flags.only_cut) continue;
        Bytes bytes = cut < 0 ? frame.bytes : Bytes(frame.bytes.begin(), frame.bytes.begin() + cut);
        std::optional<Observed> seen = rig.Run(cfg, entry, from, bytes);
        if (!seen) {
          ++skipped;
          continue;
        }
        ++frames;
        Outcome model = Predict(cfg, entry, from, bytes);
        bool ok = Agrees(model, *seen);
        if (ok && !g_flags.verbose) continue;
        std::string replay = "vnet-fuzz --seed " + std::to_string(cseed) + " --case " + std::to_string(k) +
                             (cut < 0 ? "" : " --cut " + std::to_string(cut));
        std::string key = ClassKey(entry, model, *seen);
        bool new_class = false;
        if (!ok) {
          ++disagreements;
          Class& c = classes[key];
          new_class = c.count++ == 0;
          if (new_class) c.replay = replay;
          if (new_class || bytes.size() < c.min_size) {
            c.min_size = bytes.size();
            c.min_replay = replay;
            c.min_hex = Hex(bytes);
          }
        }
        if (ok || new_class || reports < g_flags.max_reports) {
          if (!ok) ++reports;
          std::ostringstream os;
          os << (ok ? "agrees" : "DISAGREEMENT") << (new_class ? " (new class)" : "") << ": " << replay << "\n"
             << cfg.Describe() << "entry " << Name(entry);
          if (entry == Entry::kPort) os << " from slot " << from;
          os << "\nframe (" << bytes.size() << " bytes) " << Hex(bytes) << "\n"
             << "scapy, as built: " << frame.scapy << "\n";
          if (!frame.mutation.empty()) os << "  then " << frame.mutation << "\n";
          if (cut >= 0) os << "  then truncated to " << cut << " bytes (sweep)\n";
          os << "scapy, exact:    Ether(bytes.fromhex('" << Hex(bytes) << "'))\n"
             << "model:    " << model.ToString() << "\n"
             << "datapath: " << seen->outcome.ToString() << "  {" << seen->verdicts << "}";
          for (const std::string& e : seen->extra) os << " " << e;
          os << "\n";
          std::cout << os.str() << std::endl;
        }
      }
    }
    if (g_flags.seed || std::chrono::steady_clock::now() >= deadline) break;
  }
  rig.Stop();

  std::printf("vnet-fuzz: %ld configurations, %ld frames compared, %ld refused by BPF_PROG_RUN, %ld disagreements "
              "in %zu classes\n",
              configs, frames, skipped, disagreements, classes.size());
  for (const auto& [key, c] : classes)
    std::printf("  %5d x %s\n        first: %s\n        shortest (%zu bytes): %s\n          %s\n", c.count, key.c_str(),
                c.replay.c_str(), c.min_size, c.min_replay.c_str(), c.min_hex.c_str());
  EXPECT_EQ(disagreements, 0) << "the datapath disagrees with the model; replay a case with the command shown";
  EXPECT_GT(frames, 0) << "no frame was compared";
}

bool TakeFlags(int& argc, char** argv) {
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "vnet-fuzz: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds") g_flags.seconds = std::atof(value());
    else if (a == "--master-seed") g_flags.master_seed = std::strtoull(value(), nullptr, 0);
    else if (a == "--seed") g_flags.seed = std::strtoull(value(), nullptr, 0);
    else if (a == "--case") g_flags.only_case = std::atoi(value());
    else if (a == "--cut") g_flags.only_cut = std::atoi(value());
    else if (a == "--frames") g_flags.frames = std::atoi(value());
    else if (a == "--max-reports") g_flags.max_reports = std::atoi(value());
    else if (a == "--verbose") g_flags.verbose = true;
    else argv[out++] = argv[i];
  }
  argc = out;
  return true;
}

}  // namespace
}  // namespace vnet::fuzz

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  vnet::fuzz::TakeFlags(argc, argv);
  if (argc > 1) {
    std::fprintf(stderr, "vnet-fuzz: unknown argument %s\n", argv[1]);
    return 2;
  }
  return RUN_ALL_TESTS();
}
