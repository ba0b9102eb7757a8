#pragma once
// The default configuration, etc/ser.cfg, embedded in the binary at build time
// (generated into build/*/gen/default_cfg.cc), used when ser runs without -f.

#include <string>
#include <string_view>

namespace ser {

std::string_view default_cfg_text();
// The name used in diagnostics and as CFG_DIR base: "etc/ser.cfg".
std::string default_cfg_name();

}  // namespace ser
