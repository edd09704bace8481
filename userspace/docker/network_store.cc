#include "docker/network_store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace vnet::docker {
namespace {

constexpr absl::string_view kSuffix = ".json";

absl::Status Errno(absl::string_view step, const std::string& path) {
  return absl::InternalError(absl::StrCat(step, " ", path, ": ", std::strerror(errno)));
}

absl::StatusOr<NetworkRecord> Decode(const std::string& text, const std::string& path) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("request"))
    return absl::DataLossError(absl::StrCat("network record ", path, ": not a record"));
  NetworkRecord r;
  r.driver = j.value("driver", std::string("vnet")) == "vnet-ipvlan" ? DriverName::kVnetIpvlan : DriverName::kVnet;
  r.request = j["request"];
  r.created_fabric = j.value("created_fabric", false);
  auto config = ParseCreateNetwork(r.request, r.driver);
  if (!config.ok()) return absl::DataLossError(absl::StrCat("network record ", path, ": ", config.status().message()));
  r.config = *config;
  return r;
}

}  // namespace

absl::Status ValidateNetworkId(const std::string& id) {
  if (id.empty() || id.size() > 128) return absl::InvalidArgumentError(absl::StrCat("network ID '", id, "': bad length"));
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return absl::InvalidArgumentError(absl::StrCat("network ID '", id, "': not an ID"));
  return absl::OkStatus();
}

std::string NetworkStore::PathOf(const std::string& id) const { return absl::StrCat(dir_, "/", id, kSuffix); }

absl::Status NetworkStore::Init() const {
  std::string path;
  for (size_t i = 0; i <= dir_.size(); ++i) {
    if (i < dir_.size() && dir_[i] != '/') continue;
    path = dir_.substr(0, i);
    if (path.empty()) continue;
    if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return Errno("making state directory", path);
  }
  return absl::OkStatus();
}

absl::Status NetworkStore::Save(const NetworkRecord& record) const {
  if (auto s = ValidateNetworkId(record.config.id); !s.ok()) return s;
  nlohmann::json j = {{"driver", std::string(DriverNameText(record.driver))},
                      {"request", record.request},
                      {"created_fabric", record.created_fabric}};
  std::string path = PathOf(record.config.id), tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.flush();
    if (!out) return Errno("writing network record", tmp);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Errno("saving network record", path);
  }
  return absl::OkStatus();
}

absl::StatusOr<NetworkRecord> NetworkStore::Load(const std::string& id) const {
  if (auto s = ValidateNetworkId(id); !s.ok()) return s;
  std::ifstream in(PathOf(id));
  if (!in) return absl::NotFoundError(absl::StrCat("network ", id, ": unknown to the vnet driver (no record in ", dir_, ")"));
  std::stringstream text;
  text << in.rdbuf();
  return Decode(text.str(), PathOf(id));
}

absl::Status NetworkStore::Remove(const std::string& id) const {
  if (auto s = ValidateNetworkId(id); !s.ok()) return s;
  if (unlink(PathOf(id).c_str()) != 0 && errno != ENOENT) return Errno("removing network record", PathOf(id));
  return absl::OkStatus();
}

std::vector<NetworkRecord> NetworkStore::List() const {
  std::vector<NetworkRecord> out;
  DIR* d = opendir(dir_.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (!absl::EndsWith(name, kSuffix)) continue;
    std::string path = absl::StrCat(dir_, "/", name);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    auto r = Decode(text.str(), path);
    if (r.ok()) out.push_back(std::move(*r));
    else std::fprintf(stderr, "vnet-docker: skipping %s\n", r.status().ToString().c_str());
  }
  closedir(d);
  return out;
}

}  // namespace vnet::docker
