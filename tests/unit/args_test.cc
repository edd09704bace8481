#include "vnetctl/args.h"

#include <gtest/gtest.h>

namespace vnet {
namespace {

const std::vector<OptionSpec> kSpecs = {{"--fabric"}, {"--ip", true, true}, {"--force", false}};

TEST(ParseArgs, SplitsPositionalsAndOptions) {
  auto p = ParseArgs("port add", {"veth0", "--fabric", "f1", "--ip", "198.18.0.1", "--ip=2001:db8::1", "--force"}, kSpecs);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->positionals, std::vector<std::string>{"veth0"});
  EXPECT_EQ(p->Get("--fabric"), "f1");
  EXPECT_EQ(p->GetAll("--ip"), (std::vector<std::string>{"198.18.0.1", "2001:db8::1"}));
  EXPECT_TRUE(p->Has("--force"));
  EXPECT_FALSE(p->Has("--mode"));
}

TEST(ParseArgs, RejectsUnknownRepeatedAndMissingValues) {
  auto unknown = ParseArgs("attach", {"up0", "--mdoe", "x"}, kSpecs);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "attach: unknown option --mdoe");
  auto twice = ParseArgs("attach", {"--fabric", "a", "--fabric", "b"}, kSpecs);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(), "attach: --fabric given twice");
  auto missing = ParseArgs("attach", {"--fabric"}, kSpecs);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "attach: --fabric needs a value");
  auto flag_value = ParseArgs("attach", {"--force=yes"}, kSpecs);
  EXPECT_FALSE(flag_value.ok());
}

}  // namespace
}  // namespace vnet
